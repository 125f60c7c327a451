"""Compliance findings as stored (SUP-2): the checker's findings for each activity and case,
kept with their state. ``recompute_activities`` reads the facts of many activities in a few
queries, runs the pure checker (activities.compliance) and reconciles what is stored: a new
finding is opened, one the checker no longer finds is resolved, one still found keeps its state
(an officer's explanation, the unit head's acceptance). Called by every service that changes
what a finding depends on, and by the periodic sweep (activities.tasks).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import catalogs, webhooks
from activities.choices import NEEDS_CONSENT, FindingState, InterruptionForm, ReportStatus
from activities.compliance import (
    ActivityFacts,
    CaseFacts,
    Finding,
    InterruptionFacts,
    RecordingFacts,
    ReportFacts,
    check_activity,
    check_case,
)
from activities.models import (
    Activity,
    ActivityRecording,
    Case,
    CaseDocument,
    ComplianceFinding,
    ComplianceSettings,
    ComplianceSweep,
    Interruption,
    NonRecordingReport,
)
from core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from core.lookups import in_ids
from custody.choices import EventCode
from custody.services import record_event
from orgs.choices import Role

POINT_NAMES = {p.code: p.name for p in catalogs.CONTENT_POINTS}
CHUNK = 500


class FindingError(DomainError):
    pass


# ---------------------------------------------------------------------------- facts


def _settings(department_ids) -> dict[int, ComplianceSettings]:
    return {s.department_id: s for s in ComplianceSettings.objects.filter(department_id__in=set(department_ids))}


def activity_facts(activities: list[Activity]) -> dict[int, ActivityFacts]:
    """The checker's facts of ``activities``, in a fixed number of queries."""
    from recordings.choices import MarkerKind
    from recordings.models import Marker

    ids = [a.pk for a in activities]
    links = defaultdict(list)
    rows = {}
    # the links with their recordings' facts in one join; every id list is one array parameter
    for row in ActivityRecording.objects.filter(in_ids("activity_id", ids)).values_list(
            "activity_id", "recording_id", "recording__start_time", "recording__end_time", "recording__on_time",
            "recording__late_reason", "recording__original_filename"):
        links[row[0]].append(row[1])
        rows[row[1]] = row[1:]
    points = defaultdict(set)
    for recording_id, point in Marker.objects.filter(in_ids("recording_id", rows), kind=MarkerKind.CONTENT_POINT
                                                     ).values_list("recording_id", "content_point"):
        points[recording_id].add(point)
    interruptions = defaultdict(list)
    signers = defaultdict(int)
    for interruption_id in Interruption.signers.through.objects.filter(
            in_ids("interruption__activity_id", ids)).values_list("interruption_id", flat=True):
        signers[interruption_id] += 1
    for i in Interruption.objects.filter(in_ids("activity_id", ids)):
        written = i.form == InterruptionForm.WRITTEN
        explained = (i.statement_id is not None and signers[i.pk] >= 2) if written else i.marker_id is not None
        interruptions[i.activity_id].append(InterruptionFacts(
            i.starts_at, i.ends_at, written=written, explained=explained, acknowledged=i.acknowledged_at is not None))
    reports = {r.activity_id: ReportFacts(
        r.reason, needs_consent=r.reason in NEEDS_CONSENT,
        acknowledged=r.status in (ReportStatus.ACKNOWLEDGED, ReportStatus.APPROVED, ReportStatus.REJECTED),
        approved=r.status == ReportStatus.APPROVED, rejected=r.status == ReportStatus.REJECTED,
    ) for r in NonRecordingReport.objects.filter(in_ids("activity_id", ids))}
    tolerances = _settings(a.department_id for a in activities)
    documented = defaultdict(lambda: [None, None])  # the earliest start and latest end the documents state
    for activity_id, start, end in CaseDocument.objects.filter(in_ids("activity_id", ids)).exclude(
            stated_start__isnull=True, stated_end__isnull=True).values_list("activity_id", "stated_start", "stated_end"):
        span = documented[activity_id]
        if start is not None and (span[0] is None or start < span[0]):
            span[0] = start
        if end is not None and (span[1] is None or end > span[1]):
            span[1] = end
    now = timezone.now()
    out = {}
    for a in activities:
        s = tolerances.get(a.department_id)
        out[a.pk] = ActivityFacts(
            level=a.required_level, required_points=tuple(a.required_points),
            stated_start=documented[a.pk][0] or a.starts_at if a.pk in documented else a.starts_at,
            stated_end=documented[a.pk][1] or a.ends_at if a.pk in documented else a.ends_at,
            recordings=tuple(
                RecordingFacts(pk, rows[pk][1], rows[pk][2], rows[pk][3], rows[pk][4], frozenset(points[pk]),
                               rows[pk][5])
                for pk in sorted(links[a.pk], key=lambda pk: (rows[pk][1] is None, rows[pk][1] or 0, pk))
                if pk in rows),
            interruptions=tuple(interruptions[a.pk]),
            report=reports.get(a.pk),
            time_tolerance=timedelta(minutes=s.time_tolerance_minutes) if s else ActivityFacts.time_tolerance,
            gap_tolerance=timedelta(seconds=s.gap_tolerance_seconds) if s else ActivityFacts.gap_tolerance,
            point_names=POINT_NAMES,
            pushed=bool(a.external_id),
            now=now,
        )
    return out


# ---------------------------------------------------------------------------- reconciling


_ACTIVITY_FIELDS = ("pk", "department_id", "unit_id", "required_level", "required_points", "starts_at", "ends_at",
                    "external_id")


def recompute_activities(activity_ids: Iterable[int]) -> dict[str, int]:
    """Check the activities and reconcile their stored findings; counts of what changed."""
    totals = {"checked": 0, "opened": 0, "resolved": 0}
    ids = list(activity_ids)
    for n in range(0, len(ids), CHUNK):
        _recompute_chunk(list(Activity.objects.filter(pk__in=ids[n:n + CHUNK]).only(*_ACTIVITY_FIELDS)), totals)
    return totals


def _stored_findings(activity_ids: list[int], *, lock: bool) -> dict[int, dict]:
    # "not null" said outright: PostgreSQL cannot read it from an array parameter, and the
    # unique index on (activity, code, key) is partial on it
    rows = ComplianceFinding.objects.filter(in_ids("activity_id", activity_ids), activity_id__isnull=False)
    if lock:
        rows = rows.select_for_update()
    stored = defaultdict(dict)
    for pk, activity_id, code, key, state, message in rows.values_list(
            "pk", "activity_id", "code", "key", "state", "message"):
        stored[activity_id][(code, key)] = _Stored(pk, state, message)
    return stored


def _differs(stored: dict, found: list[Finding]) -> bool:
    """Whether reconciling would change anything: a finding new, found again or reworded, or
    one stored open that is no longer found."""
    keys = set()
    for f in found:
        keys.add((f.code, f.key))
        known = stored.get((f.code, f.key))
        if known is None or known.state == FindingState.RESOLVED or known.message != f.message[:500]:
            return True
    return any(key not in keys and known.state != FindingState.RESOLVED for key, known in stored.items())


def _recompute_chunk(chunk: list[Activity], totals: dict[str, int], *, sweeping: bool = False) -> None:
    """Check ``chunk`` and reconcile its stored findings under their row locks.

    ``sweeping``: the periodic sweep reads the stored findings first without locks and goes on
    to lock and reconcile only the activities whose findings change — on a night when nothing
    changed it writes nothing at all. (Its check time is the sweep's: ``ComplianceSweep``.)
    """
    facts = activity_facts(chunk)
    found = {a.pk: check_activity(facts[a.pk]) for a in chunk}
    totals["checked"] += len(chunk)
    if sweeping:
        stored = _stored_findings([a.pk for a in chunk], lock=False)
        chunk = [a for a in chunk if _differs(stored[a.pk], found[a.pk])]
        if not chunk:
            return
    with transaction.atomic():
        stored = _stored_findings([a.pk for a in chunk], lock=True)
        unchanged: list[int] = []
        for a in chunk:
            opened, resolved = _reconcile(stored[a.pk], found[a.pk], department_id=a.department_id,
                                          unit_id=a.unit_id, activity=a, unchanged=unchanged)
            totals["opened"] += opened
            totals["resolved"] += resolved
        if unchanged and not sweeping:
            ComplianceFinding.objects.filter(pk__in=unchanged).update(checked_at=timezone.now())


@dataclass(frozen=True)
class _Stored:
    """A stored finding as the reconciliation reads it (the row itself only when it changes)."""

    pk: int
    state: str
    message: str


def sweep_compliance() -> dict[str, int]:
    """Check every activity and every closed, unarchived case again (the periodic sweep:
    findings that depend on time — a pushed task left unrecorded, an archive deadline passed —
    and any change a service missed)."""
    totals = {"checked": 0, "opened": 0, "resolved": 0}
    started = timezone.now()
    last = 0
    while True:
        chunk = list(Activity.objects.filter(pk__gt=last).order_by("pk").only(*_ACTIVITY_FIELDS)[:CHUNK])
        if not chunk:
            break
        _recompute_chunk(chunk, totals, sweeping=True)
        last = chunk[-1].pk
    for case in Case.objects.filter(closed_on__isnull=False, archived_on__isnull=True).iterator(chunk_size=CHUNK):
        recompute_case(case)
    stale = Case.objects.filter(findings__state__in=[FindingState.OPEN, FindingState.EXPLAINED, FindingState.ACCEPTED],
                                findings__activity__isnull=True, archived_on__isnull=False).distinct()
    for case in stale:  # archived since: their overdue finding resolves
        recompute_case(case)
    ComplianceSweep.objects.create(started_at=started, finished_at=timezone.now(), **totals)
    return totals


def checked_at(finding: ComplianceFinding):
    """When ``finding`` was last checked: by a service that changed what it depends on, or by
    the last completed sweep (which began before it checked this one)."""
    sweep = ComplianceSweep.objects.order_by("-finished_at").values_list("started_at", flat=True).first()
    return max(finding.checked_at, sweep) if sweep is not None else finding.checked_at


def recompute_case(case: Case) -> None:
    found = check_case(CaseFacts(case.number, case.closed_on, case.archived_on), timezone.localdate())
    with transaction.atomic():
        stored = {(code, key): _Stored(pk, state, message) for pk, code, key, state, message in
                  ComplianceFinding.objects.select_for_update().filter(case=case, activity__isnull=True).values_list(
                      "pk", "code", "key", "state", "message")}
        unchanged: list[int] = []
        _reconcile(stored, found, department_id=case.department_id, unit_id=None, case=case, unchanged=unchanged)
        ComplianceFinding.objects.filter(pk__in=unchanged).update(checked_at=timezone.now())


def _reconcile(stored: dict, found: list[Finding], *, department_id, unit_id, activity=None, case=None,
               unchanged: list[int] | None = None):
    """Make the stored findings of one activity (or case) what the checker found; the ids of
    those found again unchanged go to ``unchanged`` (the caller stamps their check time)."""
    now = timezone.now()
    unchanged = [] if unchanged is None else unchanged
    opened = resolved = 0
    seen = set()
    for f in found:
        key = (f.code, f.key)
        seen.add(key)
        known = stored.get(key)
        message = f.message[:500]
        if known is None:
            row = ComplianceFinding.objects.create(
                activity=activity, case=case, department_id=department_id, unit_id=unit_id, code=f.code,
                key=f.key, severity=f.severity, requirement=f.requirement, article=f.article,
                message=message, raised_at=now, checked_at=now)
            record_event(EventCode.COMPLIANCE_RAISED, actor=None, actor_name=_("系统"), subject=row,
                         also=[activity or case], details={"finding_code": f.code, "message": row.message})
            webhooks.queue_finding_change(row, "opened")
            opened += 1
        elif known.state == FindingState.RESOLVED:  # found again
            row = ComplianceFinding.objects.get(pk=known.pk)
            row.state, row.resolved_at, row.checked_at, row.message = FindingState.OPEN, None, now, message
            row.save(update_fields=["state", "resolved_at", "checked_at", "message"])
            record_event(EventCode.COMPLIANCE_RAISED, actor=None, actor_name=_("系统"), subject=row,
                         also=[activity or case], details={"finding_code": f.code, "message": row.message})
            webhooks.queue_finding_change(row, "opened")
            opened += 1
        elif known.message != message:
            ComplianceFinding.objects.filter(pk=known.pk).update(message=message, checked_at=now)
        else:
            unchanged.append(known.pk)  # its check time is written with the others' (one UPDATE)
    for key, known in stored.items():
        if key not in seen and known.state != FindingState.RESOLVED:
            row = ComplianceFinding.objects.get(pk=known.pk)
            row.state, row.resolved_at, row.checked_at = FindingState.RESOLVED, now, now
            row.save(update_fields=["state", "resolved_at", "checked_at"])
            record_event(EventCode.COMPLIANCE_RESOLVED, actor=None, actor_name=_("系统"), subject=row,
                         also=[activity or case], details={"finding_code": row.code, "message": row.message})
            webhooks.queue_finding_change(row, "resolved")
            resolved += 1
    return opened, resolved


# ---------------------------------------------------------------------------- explaining and accepting


def _finding(finding_id: int, actor) -> ComplianceFinding:
    from activities.selectors import list_findings

    row = list_findings(actor).select_for_update(of=("self",)).filter(pk=finding_id).first()
    if row is None:
        raise NotFoundError(_("合规提示不存在或您无权查看。"))
    return row


def explain_finding(finding_id: int, *, actor, text: str) -> ComplianceFinding:
    """An officer of the activity (or its unit's keeper) explains a finding."""
    from activities.rules import can_edit_activity

    text = " ".join((text or "").split())
    if not text or len(text) > 500:
        raise FindingError(_("请写明情况说明（最多 500 字）。"))
    with transaction.atomic():
        row = _finding(finding_id, actor)
        if row.activity is None or not can_edit_activity(actor, row.activity):
            raise PermissionDeniedError(_("只有该活动的执法人员或采集机构可以说明。"))
        if row.state not in (FindingState.OPEN, FindingState.EXPLAINED):
            raise ConflictError(_("该提示已%(state)s。") % {"state": row.get_state_display()})
        row.state, row.explanation, row.explained_by, row.explained_at = (
            FindingState.EXPLAINED, text, actor, timezone.now())
        row.save(update_fields=["state", "explanation", "explained_by", "explained_at"])
        record_event(EventCode.COMPLIANCE_EXPLAINED, actor=actor, subject=row, also=[row.activity],
                     details={"finding_code": row.code, "comment": text})
        webhooks.queue_finding_change(row, "explained")
    return row


def accept_finding(finding_id: int, *, actor, comment: str = "") -> ComplianceFinding:
    """The unit head accepts an explained finding."""
    comment = " ".join((comment or "").split())[:500]
    with transaction.atomic():
        row = _finding(finding_id, actor)
        if not (row.unit_id and actor.unit_id == row.unit_id and actor.has_role(Role.UNIT_HEAD)):
            raise PermissionDeniedError(_("只有该执法机构的负责人可以认可。"))
        if row.state != FindingState.EXPLAINED:
            raise ConflictError(_("只有已说明的提示可以认可。"))
        row.state, row.accepted_by, row.accepted_at = FindingState.ACCEPTED, actor, timezone.now()
        row.save(update_fields=["state", "accepted_by", "accepted_at"])
        record_event(EventCode.COMPLIANCE_ACCEPTED, actor=actor, subject=row, also=[row.activity],
                     details={"finding_code": row.code, "comment": comment})
        webhooks.queue_finding_change(row, "accepted")
    return row
