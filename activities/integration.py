"""Matching recordings to the activities a case-handling or supervision system pushed (INT-1).

A pushed activity (``external_id`` set) says when it took place, who did it and, sometimes, which
recording devices were used. A recording of the activity's department is matched to it when

- its time overlaps the activity's stated span widened by ``MARGIN`` on each side
  ([starts_at − 30 min, ends_at + 30 min]; an activity without an end is read as an instant), and
- its primary officer or one of its named officers is one of the activity's officers, or it was
  made on one of the activity's devices (``Activity.device_serials``).

Two ways in: ``match_recordings_for(activity)`` when the activity is pushed (the recordings
already uploaded), and ``match_new_recording(recording)`` when a recording is catalogued later
(recordings.services.register_recording), which picks the one pushed activity that fits best:
an officer of it first, then the most time inside its span, then the nearest.

Only pushed activities are matched automatically, and only recordings not linked yet: a link a
person made is never replaced. The link is written here, not through
``activities.services.link_recording``: that one acts for a person who may view the recording
and edit the activity, and the system that pushed the activity usually sees no recordings at all.
Each link is the custody event ``RECORDING_LINKED`` (link source ``integration``) by the system
("对接匹配"), and the activity's findings are checked again in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.choices import LinkSource
from activities.findings import recompute_activities
from activities.models import Activity, ActivityRecording
from custody.choices import EventCode
from custody.services import record_event

MARGIN = timedelta(minutes=30)
# at most this many recordings are linked to one pushed activity in one go, and at most this
# many pushed activities are weighed for one new recording (a department's busiest hour)
RECORDING_LIMIT = 200
CANDIDATE_LIMIT = 200


def _span(activity: Activity):
    """The window a recording must overlap to be matched, or None (no stated start)."""
    if activity.starts_at is None:
        return None
    return activity.starts_at - MARGIN, (activity.ends_at or activity.starts_at) + MARGIN


def match_recordings_for(activity: Activity) -> list[ActivityRecording]:
    """Link every unlinked recording of the pushed ``activity``'s department that matches it
    (see the module's docstring); the links made, in the recordings' time order."""
    if not activity.external_id:
        return []
    window = _span(activity)
    if window is None:
        return []
    from recordings.models import Recording

    low, high = window
    officer_ids = list(activity.officers.values_list("pk", flat=True))
    serials = sorted({s for s in (activity.device_serials or []) if isinstance(s, str) and s})
    who = Q(primary_officer_id__in=officer_ids) | Q(officers__in=officer_ids)
    if serials:
        who |= Q(device_serial__in=serials)
    matching = (
        Recording.objects.filter(department_id=activity.department_id, activity_link__isnull=True,
                                 start_time__isnull=False, start_time__lte=high)
        .filter(Q(end_time__gte=low) | Q(end_time__isnull=True, start_time__gte=low))
        .filter(who)
        .values("pk")
    )
    recordings = list(Recording.objects.filter(pk__in=matching).order_by("start_time", "pk")[:RECORDING_LIMIT])
    if not recordings:
        return []
    with transaction.atomic():
        links = [link for rec in recordings if (link := _link(activity, rec)) is not None]
        if links:
            recompute_activities([activity.pk])
    return links


def match_new_recording(recording) -> ActivityRecording | None:
    """Link a newly catalogued ``recording`` to the pushed activity of its department it matches
    best, if any (an officer of the activity first, then the time inside its stated span, then
    the nearest); None when nothing matches."""
    if recording.start_time is None or recording.department_id is None:
        return None
    start = recording.start_time
    end = recording.end_time if recording.end_time is not None and recording.end_time >= start else start
    candidates = list(
        Activity.objects.filter(department_id=recording.department_id, starts_at__isnull=False,
                                starts_at__lte=end + MARGIN)
        .exclude(external_id="")
        .filter(Q(ends_at__gte=start - MARGIN) | Q(ends_at__isnull=True, starts_at__gte=start - MARGIN))
        .order_by("starts_at", "pk")[:CANDIDATE_LIMIT]
    )
    if not candidates:
        return None
    people = set(recording.officers.values_list("pk", flat=True))
    if recording.primary_officer_id is not None:
        people.add(recording.primary_officer_id)
    officers = defaultdict(set)
    for activity_id, person_id in Activity.officers.through.objects.filter(
            activity_id__in=[a.pk for a in candidates]).values_list("activity_id", "person_id"):
        officers[activity_id].add(person_id)
    best, best_score = None, None
    for activity in candidates:
        by_officer = bool(people & officers[activity.pk])
        by_device = bool(recording.device_serial) and recording.device_serial in (activity.device_serials or [])
        if not (by_officer or by_device):
            continue
        a_start, a_end = activity.starts_at, activity.ends_at or activity.starts_at
        inside = (min(end, a_end) - max(start, a_start)).total_seconds()
        score = (by_officer, by_device, max(0.0, inside), min(0.0, inside), -activity.pk)
        if best_score is None or score > best_score:
            best, best_score = activity, score
    if best is None:
        return None
    with transaction.atomic():
        link = _link(best, recording)
        if link is not None:
            recompute_activities([best.pk])
    return link


def _link(activity: Activity, recording) -> ActivityRecording | None:
    """The link and its custody event, by the system; None when the recording was linked
    meanwhile (a recording belongs to one activity at most)."""
    try:
        with transaction.atomic():
            link = ActivityRecording.objects.create(activity=activity, recording=recording,
                                                    source=LinkSource.INTEGRATION, linked_at=timezone.now(),
                                                    linked_by=None)
    except IntegrityError:
        return None
    record_event(EventCode.RECORDING_LINKED, actor=None, actor_name=_("对接匹配"), subject=recording,
                 also=[activity], details={"activity": activity.pk, "title": activity.title,
                                           "link_source": LinkSource.INTEGRATION})
    return link
