"""The home page: a work overview for record holders, a role's own overview for administrators.

Every "today" is the platform's local calendar day (core.bounds), never the UTC one.
"""

from __future__ import annotations

from django.db.models import Count, Max, Q
from django.shortcuts import render
from django.utils import timezone

from api.models import ApiToken
from core.bounds import period_q, today_start
from core.querysets import count_capped
from custody.choices import EventCode
from custody.models import ChainVerification, Event
from orgs.choices import Role
from orgs.models import Person, Unit
from recordings.models import Derivative, Recording
from recordings.selectors import list_recordings
from storage.choices import FixityStatus, ObjectArea
from storage.models import FixityCheck, StoredObject
from web.context import is_media_user
from web.views.access_requests import home_pending
from web.views.audit import exposure_window
from web.views.common import page
from web.views.ingest_items import recent_ingest_items


@page
def home(request):
    user = request.user
    if not is_media_user(user):
        return render(request, "web/home_admin.html", admin_overview(user))
    mine = list_recordings(user)
    counts = {
        "total": count_capped(mine),
        "today": count_capped(mine.filter(received_at__gte=today_start())),
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
            "pending_requests": home_pending(user),
            "today": timezone.localdate(),
        },
    )


def admin_overview(user) -> dict:
    """Counts only: administrators see no media and no record metadata (default deny).

    Each of the three separated administrators (ACC-6) sees what their duty needs: the
    system administrator the vault and fixity, the security administrator accounts and
    sign-ins, the audit administrator the custody log and its verification.
    """
    context = {
        "is_system_admin": user.has_role(Role.SYSTEM_ADMIN),
        "is_security_admin": user.has_role(Role.SECURITY_ADMIN),
        "is_audit_admin": user.has_role(Role.AUDIT_ADMIN),
        "today": timezone.localdate(),
    }
    if context["is_system_admin"]:
        context.update(_storage_overview())
    if context["is_security_admin"]:
        context.update(_security_overview())
    if context["is_audit_admin"]:
        context.update(_audit_overview())
    return context


def fixity_day_summary(day) -> dict:
    """Fixity results of one local calendar day."""
    return FixityCheck.objects.filter(period_q("checked_at", day, day)).aggregate(
        total=Count("pk"),
        passed=Count("pk", filter=Q(status=FixityStatus.PASS)),
        failed=Count("pk", filter=Q(status=FixityStatus.FAIL)),
        not_run=Count("pk", filter=Q(status=FixityStatus.NOT_RUN)),
    )


def _storage_overview() -> dict:
    objects = StoredObject.objects.aggregate(
        originals=Count("pk", filter=Q(area=ObjectArea.ORIGINAL)),
        derivatives=Count("pk", filter=Q(area=ObjectArea.DERIVATIVE)),
        fixity_failed=Count("pk", filter=Q(last_fixity_status=FixityStatus.FAIL)),
        never_checked=Count("pk", filter=Q(last_fixity_at__isnull=True)),
    )
    last_check = FixityCheck.objects.order_by("-checked_at").first()
    last_day = timezone.localdate(last_check.checked_at) if last_check else None
    return {
        "objects": objects,
        "recordings_total": Recording.objects.count(),
        "derivatives_total": Derivative.objects.count(),
        "last_check": last_check,
        "last_check_day": last_day,
        "last_check_is_today": last_day == timezone.localdate(),
        "fixity_runs": fixity_day_summary(last_day) if last_day else None,
        "people_total": Person.objects.filter(is_active=True).count(),
        "units_total": Unit.objects.count(),
    }


def _security_overview() -> dict:
    since = today_start()
    return {
        "people_total": Person.objects.filter(is_active=True).count(),
        "must_change_total": Person.objects.filter(is_active=True, must_change_password=True).count(),
        "tokens_active": ApiToken.objects.filter(revoked_at__isnull=True).count(),
        "logins_today": Event.objects.filter(action=EventCode.LOGIN, occurred_at__gte=since).count(),
        "login_failures_today": Event.objects.filter(
            action=EventCode.LOGIN_FAILED, occurred_at__gte=since
        ).count(),
    }


def _audit_overview() -> dict:
    since = today_start()
    access = (EventCode.VIEWED, EventCode.PLAYED, EventCode.DOWNLOADED)
    return {
        "chain": Event.objects.aggregate(
            length=Count("pk"), last_number=Max("pk"), last_at=Max("occurred_at")
        ),
        "events_today": Event.objects.filter(occurred_at__gte=since).count(),
        "access_today": Event.objects.filter(action__in=access, occurred_at__gte=since).count(),
        "last_verification": ChainVerification.objects.first(),
        "exposure": exposure_window(),
    }
