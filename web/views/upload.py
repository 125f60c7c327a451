"""The upload page (ING-1): Uppy + tus to /api/v1/uploads/, and the ingest status list.

Each view of the page mints a batch id; upload.js sends it with every file as tus
Upload-Metadata ``batch``, and "本次上传" lists only the items carrying it.
"""

from __future__ import annotations

import re
import uuid

from django.shortcuts import render

from orgs.choices import Role
from orgs.models import Person, Unit
from web.context import is_media_user
from web.forms import UploadMetadataForm
from web.views.common import media_page
from web.views.ingest_items import batch_ingest_items

_BATCH = re.compile(r"[0-9a-f]{32}")


def units_for(user):
    """Units a user may name as 采集机构: their own; a department head, the department's."""
    if user.department_id and user.has_role(Role.DEPARTMENT_HEAD):
        return Unit.objects.filter(department_id=user.department_id).order_by("code")
    if user.unit_id:
        return Unit.objects.filter(pk=user.unit_id)
    return Unit.objects.none()


def officers_for(units):
    return (
        Person.objects.filter(unit__in=units, is_active=True, role_assignments__role=Role.OFFICER)
        .distinct()
        .order_by("unit_id", "badge_number", "pk")
    )


@media_page
def upload(request):
    user = request.user
    units = list(units_for(user))
    officers = list(officers_for(units)) if units else []
    form = UploadMetadataForm(units=units, officers=officers, person=user)
    return render(
        request,
        "web/upload.html",
        {
            "form": form,
            "can_upload": is_media_user(user) and bool(units),
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
