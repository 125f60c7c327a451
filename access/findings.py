"""Security findings of the access layer (ACC-1 register of denials, ACC-6 sign-in bursts).

``check_denials`` is a pure checker (habit 5): given the times of one person's refused reads it
says whether they amount to a finding. ``note_denial`` (called after every access.denied event)
and ``note_lockout`` (after every auth.locked_out) store one open finding per person and window
and write its custody event; ``acknowledge_finding`` closes it with a comment.

Who sees which finding: repeated denials go to the person's unit head (and department head);
sign-in bursts to the security administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from access.choices import FindingKind, FindingStatus
from access.models import SecurityFinding
from core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event
from orgs.choices import Role

DENIAL_THRESHOLD = 5  # refused reads …
DENIAL_WINDOW = timedelta(minutes=10)  # … within this long raise a finding


@dataclass(frozen=True)
class DenialFinding:
    count: int
    first_at: datetime
    last_at: datetime


def check_denials(times: list[datetime], *, threshold: int = DENIAL_THRESHOLD,
                  window: timedelta = DENIAL_WINDOW) -> DenialFinding | None:
    """A finding when ``threshold`` refusals fall within ``window`` of each other."""
    times = sorted(times)
    for i in range(len(times) - threshold + 1):
        if times[i + threshold - 1] - times[i] <= window:
            last = [t for t in times if t >= times[i]]
            return DenialFinding(len(last), times[i], last[-1])
    return None


def note_denial(person) -> SecurityFinding | None:
    """After an access.denied event by ``person``: raise (or extend) their open finding."""
    from custody.models import Event

    now = timezone.now()
    times = list(
        Event.objects.filter(action=EventCode.ACCESS_DENIED, actor_id=person.pk, occurred_at__gte=now - DENIAL_WINDOW)
        .order_by("-pk").values_list("occurred_at", flat=True)[: DENIAL_THRESHOLD * 20]
    )
    found = check_denials(times)
    if found is None:
        return None
    with transaction.atomic():
        current = (
            SecurityFinding.objects.select_for_update()
            .filter(kind=FindingKind.REPEATED_DENIALS, person=person, status=FindingStatus.OPEN,
                    last_at__gte=now - DENIAL_WINDOW)
            .first()
        )
        if current is not None:  # the same burst: count it on the open finding, no new event
            current.count = max(current.count, found.count)
            current.last_at = found.last_at
            current.save(update_fields=["count", "last_at"])
            return current
        unit = person.unit if person.unit_id else None
        finding = SecurityFinding.objects.create(
            kind=FindingKind.REPEATED_DENIALS, person=person, subject_name=person.display_name,
            unit=unit, department_id=person.department_id or (unit.department_id if unit else None),
            count=found.count, first_at=found.first_at, last_at=found.last_at, raised_at=now,
        )
        record_event(EventCode.FINDING_RAISED, actor=None, actor_name=_("系统"), subject=finding,
                     also=[person], details={"finding_kind": finding.kind, "failures": found.count,
                                             "full_name": person.display_name})
    return finding


def note_lockout(username: str, person=None) -> SecurityFinding:
    """After an account was locked (auth.locked_out): a finding for the security administrator."""
    from django.conf import settings

    now = timezone.now()
    with transaction.atomic():
        finding = SecurityFinding.objects.create(
            kind=FindingKind.SIGN_IN_BURST, person=person, subject_name=(username or "")[:100] or _("未知"),
            unit=person.unit if person is not None and person.unit_id else None,
            department_id=person.department_id if person is not None else None,
            count=settings.AXES_FAILURE_LIMIT, first_at=now, last_at=now, raised_at=now,
        )
        record_event(EventCode.FINDING_RAISED, actor=None, actor_name=_("系统"), subject=finding,
                     details={"finding_kind": finding.kind, "failures": finding.count,
                              "username": finding.subject_name})
    return finding


def _subtree(person) -> list[int]:
    from orgs.models import department_subtree_ids

    return department_subtree_ids(person.department_id) if person.department_id else []


def findings_for(person) -> QuerySet[SecurityFinding]:
    """The findings ``person`` is the one to look at (default deny)."""
    if person is None or not person.is_authenticated or not person.is_active:
        return SecurityFinding.objects.none()
    rules = None

    def add(q):
        nonlocal rules
        rules = q if rules is None else rules | q

    if person.unit_id and person.has_role(Role.UNIT_HEAD):
        add(Q(kind=FindingKind.REPEATED_DENIALS, unit_id=person.unit_id))
    if person.department_id and person.has_role(Role.DEPARTMENT_HEAD):
        add(Q(kind=FindingKind.REPEATED_DENIALS, department_id__in=_subtree(person)))
    if person.has_role(Role.SECURITY_ADMIN):
        add(Q(kind=FindingKind.SIGN_IN_BURST))
    if rules is None:
        return SecurityFinding.objects.none()
    return SecurityFinding.objects.filter(rules).exclude(person_id=person.pk).order_by("-pk")


def acknowledge_finding(finding_id: int, *, actor, comment: str) -> SecurityFinding:
    comment = (comment or "").strip()
    if not comment or len(comment) > 500:
        raise DomainError(_("请写明处理意见（最多 500 字）。"))
    with transaction.atomic():
        finding = findings_for(actor).select_for_update().filter(pk=finding_id).first()
        if finding is None:
            if SecurityFinding.objects.filter(pk=finding_id, person_id=getattr(actor, "pk", None)).exists():
                raise PermissionDeniedError(_("不能处理涉及本人的安全提示。"))
            raise NotFoundError(_("安全提示不存在。"))
        if finding.status != FindingStatus.OPEN:
            raise ConflictError(_("该安全提示已确认。"))
        finding.status = FindingStatus.ACKNOWLEDGED
        finding.acknowledged_by = actor
        finding.acknowledged_at = timezone.now()
        finding.comment = comment
        finding.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "comment"])
        record_event(EventCode.FINDING_ACKNOWLEDGED, actor=actor, subject=finding,
                     details={"finding_kind": finding.kind, "comment": comment})
    return finding
