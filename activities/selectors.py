"""Restricted reads of activities and cases (activities.rules), and the recordings suggested
for an activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import QuerySet

from activities.models import Activity, ActivityRecording, Case
from activities.rules import activity_q, case_q

# how far around an activity's stated times a recording may start or end and still be suggested
SUGGEST_MARGIN = timedelta(hours=2)
SUGGEST_LIMIT = 50


def list_activities(user) -> QuerySet[Activity]:
    rules = activity_q(user)
    if rules is None:
        return Activity.objects.none()
    ids = Activity.objects.filter(rules).values("pk")  # officers is many-valued: no duplicates
    return Activity.objects.filter(pk__in=ids).select_related("matter", "case", "unit").order_by("-starts_at", "-pk")


def may_see_activity(user, pk: int) -> bool:
    """Whether ``user`` may see activity ``pk``: the rules tested on that one row (a lookup by
    key and its officers), not the list's every-activity subquery."""
    rules = activity_q(user)
    return rules is not None and Activity.objects.filter(rules, pk=pk).exists()


def get_activity(user, pk: int, *, lock: bool = False) -> Activity | None:
    """Activity ``pk`` when ``user`` may see it (``lock``: its row locked for an update)."""
    if not may_see_activity(user, pk):
        return None
    rows = Activity.objects.select_related("matter", "case", "unit")
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.filter(pk=pk).first()


def list_cases(user) -> QuerySet[Case]:
    rules = case_q(user)
    if rules is None:
        return Case.objects.none()
    return Case.objects.filter(rules).order_by("-pk")


def activity_recordings(user, activity: Activity):
    """The recordings of ``activity`` that ``user`` may view, in time order."""
    from recordings.models import Recording

    linked = ActivityRecording.objects.filter(activity=activity).values("recording_id")
    return Recording.objects.restrict(user, "view").filter(pk__in=linked).order_by("start_time", "pk")


@dataclass(frozen=True)
class Suggestion:
    recording: object
    officer_match: bool
    overlap_s: float  # seconds of the recording inside the activity's stated span (0: only near it)
    score: float


def suggest_recordings(user, activity: Activity) -> list[Suggestion]:
    """Unlinked recordings of the activity's department that ``user`` may view and that start or
    end near the activity's stated times, ranked: recorded by one of its officers first, then by
    how much of them falls inside the activity's span, then by nearness."""
    from recordings.models import Recording

    if activity.starts_at is None:
        return []
    start, end = activity.starts_at, activity.ends_at or activity.starts_at
    officers = set(activity.officers.values_list("pk", flat=True))
    candidates = (
        Recording.objects.restrict(user, "view")
        .filter(department_id=activity.department_id, start_time__lt=end + SUGGEST_MARGIN,
                end_time__gt=start - SUGGEST_MARGIN, activity_link__isnull=True)
        .select_related("primary_officer")
        .prefetch_related("officers")
        .order_by("start_time")[: SUGGEST_LIMIT * 4]
    )
    out = []
    for rec in candidates:
        people = {rec.primary_officer_id, *(o.pk for o in rec.officers.all())} - {None}
        match = bool(people & officers)
        inside = (min(rec.end_time, end) - max(rec.start_time, start)).total_seconds()
        overlap = max(0.0, inside)
        gap = 0.0 if inside > 0 else -inside
        score = (1_000_000 if match else 0) + overlap - gap / 10
        out.append(Suggestion(rec, match, overlap, score))
    out.sort(key=lambda s: -s.score)
    return out[:SUGGEST_LIMIT]


def list_findings(user) -> QuerySet:
    """The compliance findings of the activities and cases ``user`` may see."""
    from django.db.models import Q

    from activities.models import ComplianceFinding

    activities, cases = activity_q(user), case_q(user)
    rules = None
    if activities is not None:
        rules = Q(activity__in=Activity.objects.filter(activities).values("pk"))
    if cases is not None:
        q = Q(activity__isnull=True, case__in=Case.objects.filter(cases).values("pk"))
        rules = q if rules is None else rules | q
    if rules is None:
        return ComplianceFinding.objects.none()
    return ComplianceFinding.objects.filter(rules).select_related("activity", "case").order_by("-raised_at", "-pk")
