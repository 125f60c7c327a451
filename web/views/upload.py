"""The upload page (ING-1): Uppy + tus to /api/v1/uploads/, and the ingest status list."""

from __future__ import annotations

from django.shortcuts import render

from orgs.choices import Role
from orgs.models import Person, Unit
from web.context import is_media_user
from web.forms import UploadMetadataForm
from web.views.common import page
from web.views.ingest_items import recent_ingest_items


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


@page
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
            "ingest_items": recent_ingest_items(user),
        },
    )


@page
def upload_items(request):
    """The "本次上传" list, polled by htmx every 2 s."""
    return render(
        request,
        "web/partials/ingest_items.html",
        {"ingest_items": recent_ingest_items(request.user), "poll": True},
    )
