"""The upload page (ING-1): Uppy + tus to /api/v1/uploads/, and the ingest status list.

Each view of the page mints a batch id; upload.js sends it with every file as tus
Upload-Metadata ``batch``, and "本次上传" lists only the items carrying it.
"""

from __future__ import annotations

import re
import uuid

from django.shortcuts import render

from access.rules import nameable_officers, upload_units
from web.forms import UploadMetadataForm
from web.views.common import media_page
from web.views.ingest_items import batch_ingest_items

_BATCH = re.compile(r"[0-9a-f]{32}")


@media_page
def upload(request):
    user = request.user
    units = list(upload_units(user))  # access.rules: the API and local ingest decide the same way
    officers = list(nameable_officers(units)) if units else []
    form = UploadMetadataForm(units=units, officers=officers, person=user)
    return render(
        request,
        "web/upload.html",
        {
            "form": form,
            "can_upload": bool(units),
            "batch": uuid.uuid4().hex,  # a new page view is a new batch: the list starts empty
            "ingest_items": [],
        },
    )


@media_page
def upload_items(request):
    """The "本次上传" list of one page view (``?batch=``), polled by htmx every 2 s."""
    batch = request.GET.get("batch", "")
    if not _BATCH.fullmatch(batch):
        batch = ""
    return render(
        request,
        "web/partials/ingest_items.html",
        {
            "ingest_items": batch_ingest_items(request.user, batch),
            "poll": True,
            "batch": batch,
        },
    )
