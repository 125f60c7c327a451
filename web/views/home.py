"""The home page: a work overview for record holders, a system page for administrators."""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import Count, Max, Q
from django.shortcuts import render
from django.utils import timezone

from core.querysets import count_capped
from custody.models import ChainVerification, Event
from orgs.models import Person, Unit
from recordings.models import Derivative, Recording
from recordings.selectors import list_recordings
from storage.choices import FixityStatus, ObjectArea
from storage.models import FixityCheck, StoredObject
from web.context import is_media_user
from web.views.common import page
from web.views.ingest_items import recent_ingest_items


def _today_start():
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today, time.min))


@page
def home(request):
    user = request.user
    if not is_media_user(user):
        return render(request, "web/home_admin.html", _system_overview())
    mine = list_recordings(user)
    counts = {
        "total": count_capped(mine),
        "today": count_capped(mine.filter(received_at__gte=_today_start())),
        "late_no_reason": count_capped(mine.filter(on_time=False, late_reason="")),
        "flagged": count_capped(mine.filter(flagged=True)),
    }
    recent = list(mine.order_by("-received_at", "-id")[:6])
    return render(
        request,
        "web/home.html",
        {
            "counts": counts,
            "recent": recent,
            "ingest_items": recent_ingest_items(user, limit=5),
            "today": timezone.localdate(),
        },
    )


def _system_overview() -> dict:
    """Counts only: administrators see no media and no record metadata (default deny)."""
    objects = StoredObject.objects.aggregate(
        originals=Count("pk", filter=Q(area=ObjectArea.ORIGINAL)),
        derivatives=Count("pk", filter=Q(area=ObjectArea.DERIVATIVE)),
        fixity_failed=Count("pk", filter=Q(last_fixity_status=FixityStatus.FAIL)),
        never_checked=Count("pk", filter=Q(last_fixity_at__isnull=True)),
    )
    chain = Event.objects.aggregate(
        length=Count("pk"), last_seq=Max("seq"), last_at=Max("occurred_at")
    )
    last_check = FixityCheck.objects.order_by("-checked_at").first()
    fixity_runs = None
    if last_check is not None:
        day = last_check.checked_at.date()
        fixity_runs = FixityCheck.objects.filter(checked_at__date=day).aggregate(
            total=Count("pk"),
            passed=Count("pk", filter=Q(status=FixityStatus.PASS)),
            failed=Count("pk", filter=Q(status=FixityStatus.FAIL)),
            not_run=Count("pk", filter=Q(status=FixityStatus.NOT_RUN)),
        )
    return {
        "objects": objects,
        "recordings_total": Recording.objects.count(),
        "derivatives_total": Derivative.objects.count(),
        "chain": chain,
        "last_verification": ChainVerification.objects.first(),
        "last_check": last_check,
        "fixity_runs": fixity_runs,
        "people_total": Person.objects.filter(is_active=True).count(),
        "units_total": Unit.objects.count(),
    }
