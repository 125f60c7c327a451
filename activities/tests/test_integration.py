"""Matching recordings to pushed activities (INT-1): a recording uploaded after the activity was
pushed is linked to the one it fits best; an inspection task with no recording a day after it
ended is a finding, which a late recording resolves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.catalog import effective_catalog
from activities.choices import FindingCode, FindingState, LinkSource
from activities.findings import recompute_activities
from activities.integration import match_new_recording, match_recordings_for
from activities.models import Activity, ActivityRecording, ComplianceFinding
from activities.services import ActivityValues, create_activity
from core.testing import make_department, make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.req("INT-1")]

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def org():
    city = make_department()
    unit = make_unit(city)
    catalog = effective_catalog(city)
    return {
        "city": city, "unit": unit,
        "a": make_person("officer", unit=unit, full_name="张伟"),
        "b": make_person("officer", unit=unit, full_name="李娜"),
        "c": make_person("officer", unit=unit, full_name="王芳"),
        "pusher": make_person("department_head", department=city, full_name="对接账号"),
        "outsider": make_person("officer", unit=make_unit(make_department(name="另一局"))),
        "inspection": next(e.matter for e in catalog if (e.matter.scope, e.matter.code) == ("samr", "inspection_art41")),
        "seizure": next(e.matter for e in catalog if (e.matter.scope, e.matter.code) == ("samr", "seizure")),
    }


def pushed(org, start, minutes=60, *, officers=("a", "b"), external_id="SSJ-1", serials=(), matter="inspection"):
    activity = create_activity(org["unit"], ActivityValues(
        matter_id=org[matter].pk, title=f"双随机抽查任务 {external_id}", starts_at=start,
        ends_at=start + timedelta(minutes=minutes) if minutes is not None else None,
        officer_ids=tuple(org[o].pk for o in officers), external_system="双随机监管系统" if external_id else "",
        external_id=external_id), actor=org["pusher"])
    if serials:
        Activity.objects.filter(pk=activity.pk).update(device_serials=list(serials))
        activity.refresh_from_db()
    return activity


def recording(org, who, start, minutes=10, **kw):
    return make_recording(org[who], start_time=start, end_time=start + timedelta(minutes=minutes), **kw)


def linked_to(rec):
    link = ActivityRecording.objects.filter(recording=rec).first()
    return link.activity_id if link else None


def open_codes(activity):
    return {f.code for f in ComplianceFinding.objects.filter(activity=activity).exclude(state=FindingState.RESOLVED)}


def test_a_recording_uploaded_later_is_linked_to_the_pushed_activity(org):
    start = NOW - timedelta(hours=5)
    activity = pushed(org, start)
    rec = recording(org, "b", start + timedelta(minutes=3))
    link = ActivityRecording.objects.get(recording=rec)
    assert link.activity_id == activity.pk and link.source == LinkSource.INTEGRATION and link.linked_by is None
    event = Event.objects.filter(action=EventCode.RECORDING_LINKED, subject_id=str(rec.pk)).get()
    assert event.actor_id is None and event.actor_name == "对接匹配"
    assert event.details == {"activity": activity.pk, "title": activity.title, "link_source": "integration"}


def test_only_matching_recordings_are_linked(org):
    start = NOW - timedelta(hours=5)
    activity = pushed(org, start, serials=["A0012345"])
    assert linked_to(recording(org, "a", start + timedelta(minutes=75))) == activity.pk  # within the 30 min margin
    assert linked_to(recording(org, "a", start + timedelta(minutes=95))) is None  # after end + 30 min
    assert linked_to(recording(org, "a", start - timedelta(minutes=45))) is None  # ends 35 min before the start
    assert linked_to(recording(org, "c", start)) is None  # not one of its officers
    assert linked_to(recording(org, "c", start, device_serial="A0012345")) == activity.pk  # its device
    assert linked_to(recording(org, "outsider", start, device_serial="A0012345")) is None  # another department
    assert linked_to(make_recording(org["a"])) is None  # no capture time


def test_the_best_of_several_pushed_activities(org):
    start = NOW - timedelta(hours=5)
    by_device = pushed(org, start, officers=("c",), external_id="SSJ-DEV", serials=["A0012345"])
    short = pushed(org, start + timedelta(minutes=50), minutes=20, external_id="SSJ-SHORT")
    long = pushed(org, start, minutes=120, external_id="SSJ-LONG")
    # an officer of it first (over a device match), then the most time inside its span
    rec = recording(org, "a", start + timedelta(minutes=40), minutes=30, device_serial="A0012345")
    assert linked_to(rec) == long.pk
    assert linked_to(recording(org, "b", start + timedelta(minutes=55), minutes=10)) in (short.pk, long.pk)
    assert linked_to(recording(org, "c", start + timedelta(minutes=5), device_serial="OTHER")) == by_device.pk


def test_activities_not_pushed_are_not_matched(org):
    start = NOW - timedelta(hours=5)
    manual = pushed(org, start, external_id="")
    rec = recording(org, "a", start + timedelta(minutes=5))
    assert linked_to(rec) is None
    assert match_recordings_for(manual) == []
    assert match_new_recording(rec) is None


def test_pushing_links_the_recordings_already_there(org):
    start = NOW - timedelta(hours=5)
    before = [recording(org, "a", start + timedelta(minutes=m)) for m in (0, 20, 40)]
    elsewhere = recording(org, "outsider", start)
    activity = pushed(org, start)
    links = match_recordings_for(activity)
    assert [link.recording_id for link in links] == [r.pk for r in before]
    assert linked_to(elsewhere) is None
    assert match_recordings_for(activity) == []  # nothing left to link


def test_an_activity_without_an_end_is_matched_around_its_start(org):
    start = NOW - timedelta(hours=5)
    activity = pushed(org, start, minutes=None)
    assert linked_to(recording(org, "a", start + timedelta(minutes=20))) == activity.pk
    assert linked_to(recording(org, "a", start + timedelta(minutes=31))) is None


def test_an_inspection_task_left_unrecorded_is_a_finding_after_a_day(org):
    start = NOW - timedelta(hours=3)
    task = pushed(org, start)
    assert FindingCode.PUSHED_UNRECORDED not in open_codes(task)  # ended two hours ago: not yet
    Activity.objects.filter(pk=task.pk).update(starts_at=start - timedelta(days=2),
                                               ends_at=start - timedelta(days=2) + timedelta(hours=1))
    recompute_activities([task.pk])
    assert FindingCode.PUSHED_UNRECORDED in open_codes(task)
    finding = ComplianceFinding.objects.get(activity=task, code=FindingCode.PUSHED_UNRECORDED)
    assert finding.requirement == "INT-1" and "24" in finding.message
    # the recording arrives late: linked, and the finding resolves
    late = recording(org, "a", start - timedelta(days=2) + timedelta(minutes=5))
    assert linked_to(late) == task.pk
    finding.refresh_from_db()
    assert finding.state == FindingState.RESOLVED


def test_the_periodic_sweep_opens_it(org):
    from activities.tasks import sweep_compliance_hourly

    start = NOW - timedelta(hours=3)
    task = pushed(org, start)
    Activity.objects.filter(pk=task.pk).update(starts_at=start - timedelta(days=2),
                                               ends_at=start - timedelta(days=2) + timedelta(hours=1))
    assert FindingCode.PUSHED_UNRECORDED not in open_codes(task)
    sweep_compliance_hourly.call_local()
    assert FindingCode.PUSHED_UNRECORDED in open_codes(task)


def test_a_finding_after_a_day_with_the_clock_moved(org, monkeypatch):
    """The checker reads the time from activities.findings: a day later, without moving the task."""
    import activities.findings

    start = NOW - timedelta(hours=3)
    task = pushed(org, start)
    later = NOW + timedelta(days=1)
    monkeypatch.setattr(activities.findings.timezone, "now", lambda: later)
    recompute_activities([task.pk])
    assert FindingCode.PUSHED_UNRECORDED in open_codes(task)
