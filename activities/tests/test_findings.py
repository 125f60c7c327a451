"""Compliance findings as stored and kept current (SUP-2): the issue's acceptance scenarios
through the services, each change recomputing the activity's findings in the same
transaction, every finding opened or resolved a custody event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.catalog import effective_catalog
from activities.choices import (
    FindingCode,
    FindingState,
    InterruptionForm,
    MatterLevel,
    ReportStatus,
)
from activities.conduct import (
    acknowledge_interruption,
    acknowledge_non_recording,
    decide_non_recording,
    record_interruption,
    report_non_recording,
    set_compliance_settings,
)
from activities.findings import accept_finding, explain_finding, recompute_activities
from activities.models import ComplianceFinding
from activities.selectors import list_findings
from activities.services import ActivityError, ActivityValues, create_activity, link_recording
from core.errors import ConflictError, NotFoundError, PermissionDeniedError
from core.testing import make_department, make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event
from recordings.choices import MarkerKind
from recordings.markers import MarkerError, add_marker, remove_marker
from recordings.services import update_recording_metadata

pytestmark = [pytest.mark.django_db, pytest.mark.req("SUP-2")]

T0 = timezone.make_aware(timezone.datetime(2026, 11, 20, 9, 30))


def at(minutes: float):
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def org():
    city = make_department()
    unit = make_unit(city)
    o = {
        "city": city, "unit": unit,
        "a": make_person("officer", unit=unit, full_name="张伟"),
        "b": make_person("officer", unit=unit, full_name="李娜"),
        "unit_head": make_person("unit_head", unit=unit),
        "head": make_person("department_head", department=city),
        "other_head": make_person("unit_head", unit=make_unit(city)),
    }
    catalog = effective_catalog(city)
    o["seizure"] = next(e for e in catalog if e.matter.code == "seizure" and e.matter.scope == "samr")
    o["optional"] = next(e for e in catalog if e.level == MatterLevel.OPTIONAL)
    return o


def _activity(org, matter="seizure", **kw):
    values = {"matter_id": org[matter].matter.pk, "title": "某贸易有限公司查封现场",
              "officer_ids": (org["a"].pk, org["b"].pk), "starts_at": at(0), "ends_at": at(60)}
    values.update(kw)
    return create_activity(org["unit"], ActivityValues(**values), actor=org["a"])


def _open(activity) -> dict[str, ComplianceFinding]:
    return {f.code: f for f in ComplianceFinding.objects.filter(activity=activity).exclude(state=FindingState.RESOLVED)}


def _recorded(org, activity, officer, start, end):
    rec = make_recording(officer, unit=org["unit"], start_time=at(start), end_time=at(end),
                         duration_s=(end - start) * 60, received_at=at(end + 60))  # uploaded on time
    link_recording(activity.pk, rec.pk, actor=officer)
    return rec


def _mark_all_points(org, activity, rec):
    for point in activity.required_points:
        add_marker(rec.pk, actor=org["unit_head"], offset_s=1, kind=MarkerKind.CONTENT_POINT, content_point=point)


@pytest.mark.req("REC-3")
@pytest.mark.req("REC-4")
def test_a_seizure_with_a_seven_minute_gap_and_its_voice_statement(org):
    activity = _activity(org)
    assert set(_open(activity)) == {FindingCode.MANDATORY_NOT_RECORDED}  # registered, nothing recorded yet
    first = _recorded(org, activity, org["a"], 0, 40)
    _recorded(org, activity, org["b"], 2, 38)  # the second officer
    resumed = _recorded(org, activity, org["a"], 47, 60)
    _mark_all_points(org, activity, first)
    assert set(_open(activity)) == {FindingCode.GAP_UNEXPLAINED}
    gap = _open(activity)[FindingCode.GAP_UNEXPLAINED]
    assert gap.severity == "high" and "中断约 7 分钟" in gap.message and gap.requirement == "REC-4"
    assert Event.objects.filter(action=EventCode.COMPLIANCE_RAISED, subject_id=str(gap.pk)).exists()
    resolved = [e.details["finding_code"] for e in Event.objects.filter(action=EventCode.COMPLIANCE_RESOLVED)]
    assert FindingCode.MANDATORY_NOT_RECORDED in resolved  # recorded now

    # the officer said why at resumption: a marker at that second, the interruption recorded
    with pytest.raises(ActivityError, match="标记语音说明"):
        record_interruption(activity.pk, actor=org["a"], starts_at=at(40), ends_at=at(47), reason="battery",
                            form=InterruptionForm.VOICE)
    marker = add_marker(resumed.pk, actor=org["a"], offset_s=2, kind=MarkerKind.RESUME_STATEMENT,
                        note="电池耗尽，更换备用电池后继续记录")
    record_interruption(activity.pk, actor=org["a"], starts_at=at(40), ends_at=at(47), reason="battery",
                        form=InterruptionForm.VOICE, marker_id=marker.pk)
    assert _open(activity) == {}
    gap.refresh_from_db()
    assert gap.state == FindingState.RESOLVED and gap.resolved_at is not None
    with pytest.raises(MarkerError, match="不能删除"):
        remove_marker(marker.pk, actor=org["a"])


@pytest.mark.req("REC-4")
def test_an_interruption_outside_the_activity_or_badly_signed_is_refused(org):
    activity = _activity(org)
    _recorded(org, activity, org["a"], 0, 40)
    _recorded(org, activity, org["a"], 47, 60)
    with pytest.raises(ActivityError, match="起止时间之内"):
        record_interruption(activity.pk, actor=org["a"], starts_at=at(55), ends_at=at(75), reason="battery",
                            form=InterruptionForm.VOICE)
    with pytest.raises(ActivityError, match="晚于开始时间"):
        record_interruption(activity.pk, actor=org["a"], starts_at=at(47), ends_at=at(40), reason="battery",
                            form=InterruptionForm.VOICE)
    with pytest.raises(ActivityError, match="具体原因"):
        record_interruption(activity.pk, actor=org["a"], starts_at=at(40), ends_at=at(47), reason="other",
                            form=InterruptionForm.WRITTEN)
    statement = make_recording(org["a"], unit=org["unit"]).original  # any stored original stands for the scan
    with pytest.raises(ActivityError, match="两名以上"):
        record_interruption(activity.pk, actor=org["a"], starts_at=at(40), ends_at=at(47), reason="device_fault",
                            form=InterruptionForm.WRITTEN, statement=statement, signer_ids=[org["a"].pk])
    # written, signed by both officers: waits for the unit head's acknowledgement
    written = record_interruption(activity.pk, actor=org["a"], starts_at=at(40), ends_at=at(47),
                                  reason="device_fault", form=InterruptionForm.WRITTEN, statement=statement,
                                  signer_ids=[org["a"].pk, org["b"].pk])
    assert FindingCode.INTERRUPTION_UNACKNOWLEDGED in _open(activity)
    with pytest.raises(PermissionDeniedError):
        acknowledge_interruption(written.pk, actor=org["b"])
    acknowledge_interruption(written.pk, actor=org["unit_head"])
    assert FindingCode.INTERRUPTION_UNACKNOWLEDGED not in _open(activity)
    with pytest.raises(ConflictError):
        acknowledge_interruption(written.pk, actor=org["unit_head"])


@pytest.mark.req("REC-2")
@pytest.mark.req("REC-5")
def test_a_mandatory_activity_not_recorded_needs_an_approved_report(org):
    activity = _activity(org)
    assert set(_open(activity)) == {FindingCode.MANDATORY_NOT_RECORDED}
    with pytest.raises(ActivityError, match="书面申请"):
        report_non_recording(activity.pk, actor=org["a"], reason="commercial_secret", text="涉及配方",
                             noted_in_record=True)
    with pytest.raises(ActivityError, match="文字记录中注明"):
        report_non_recording(activity.pk, actor=org["a"], reason="emergency", text="火情", noted_in_record=False)
    application = make_recording(org["a"], unit=org["unit"]).original
    report_non_recording(activity.pk, actor=org["a"], reason="commercial_secret", text="现场涉及生产配方",
                         noted_in_record=True, application=application)
    assert set(_open(activity)) == {FindingCode.MANDATORY_NOT_RECORDED, FindingCode.NON_RECORDING_INCOMPLETE}
    with pytest.raises(ConflictError, match="须先由采集机构负责人确认"):
        decide_non_recording(activity.pk, actor=org["head"], approve=True)
    acknowledge_non_recording(activity.pk, actor=org["unit_head"])
    assert set(_open(activity)) == {FindingCode.MANDATORY_NOT_RECORDED, FindingCode.NON_RECORDING_INCOMPLETE}
    with pytest.raises(PermissionDeniedError):
        decide_non_recording(activity.pk, actor=org["unit_head"], approve=True)
    report = decide_non_recording(activity.pk, actor=org["head"], approve=True, comment="同意")
    assert report.status == ReportStatus.APPROVED and _open(activity) == {}
    with pytest.raises(ConflictError):
        decide_non_recording(activity.pk, actor=org["head"], approve=False, comment="再审一次")


def test_a_rejected_report_leaves_the_activity_unrecorded(org):
    activity = _activity(org)
    application = make_recording(org["a"], unit=org["unit"]).original
    report_non_recording(activity.pk, actor=org["a"], reason="privacy", text="涉及当事人隐私", noted_in_record=True,
                         application=application)
    acknowledge_non_recording(activity.pk, actor=org["unit_head"])
    with pytest.raises(ActivityError, match="理由"):
        decide_non_recording(activity.pk, actor=org["head"], approve=False)
    decide_non_recording(activity.pk, actor=org["head"], approve=False, comment="应当记录")
    found = _open(activity)
    assert set(found) == {FindingCode.MANDATORY_NOT_RECORDED, FindingCode.NON_RECORDING_INCOMPLETE}
    assert "不同意" in found[FindingCode.NON_RECORDING_INCOMPLETE].message


@pytest.mark.req("REC-7")
def test_document_times_twenty_minutes_off_and_the_departments_tolerance(org):
    activity = _activity(org, matter="optional", ends_at=at(90))
    rec = _recorded(org, activity, org["a"], 20, 90)
    _mark_all_points(org, activity, rec)
    found = _open(activity)
    assert set(found) == {FindingCode.START_DISAGREES}
    assert "相差 20 分钟，超过容差 5 分钟" in found[FindingCode.START_DISAGREES].message
    set_compliance_settings(org["city"], actor=org["head"], time_tolerance_minutes=30, gap_tolerance_seconds=60)
    assert _open(activity) == {}
    with pytest.raises(ActivityError, match="0–120"):
        set_compliance_settings(org["city"], actor=org["head"], time_tolerance_minutes=-1, gap_tolerance_seconds=60)
    with pytest.raises(PermissionDeniedError):
        set_compliance_settings(org["city"], actor=org["a"], time_tolerance_minutes=1, gap_tolerance_seconds=60)
    # a corrected start time is checked again
    set_compliance_settings(org["city"], actor=org["head"], time_tolerance_minutes=5, gap_tolerance_seconds=60)
    assert set(_open(activity)) == {FindingCode.START_DISAGREES}
    update_recording_metadata(rec, actor=org["unit_head"], changes={"start_time": at(1)})
    assert _open(activity) == {}


@pytest.mark.req("REC-6")
def test_content_points_are_ticked_on_a_recording(org):
    activity = _activity(org, matter="optional")
    rec = _recorded(org, activity, org["a"], 0, 60)
    required = list(activity.required_points)
    assert required and set(_open(activity)) == {FindingCode.CONTENT_POINT_MISSING}
    with pytest.raises(MarkerError, match="请选择记录内容要点"):
        add_marker(rec.pk, actor=org["unit_head"], offset_s=5, kind=MarkerKind.CONTENT_POINT, content_point="nope")
    with pytest.raises(MarkerError, match="超出记录时长"):
        add_marker(rec.pk, actor=org["unit_head"], offset_s=3601, kind=MarkerKind.CONTENT_POINT,
                   content_point=required[0])
    with pytest.raises(MarkerError, match="秒数"):
        add_marker(rec.pk, actor=org["unit_head"], offset_s="abc", kind=MarkerKind.CONTENT_POINT,
                   content_point=required[0])
    markers = [add_marker(rec.pk, actor=org["unit_head"], offset_s=n, kind=MarkerKind.CONTENT_POINT,
                          content_point=p) for n, p in enumerate(required)]
    assert _open(activity) == {}
    assert Event.objects.filter(action=EventCode.MARKER_ADDED).count() == len(required)
    remove_marker(markers[0].pk, actor=org["unit_head"])
    assert ComplianceFinding.objects.get(activity=activity, code=FindingCode.CONTENT_POINT_MISSING,
                                         key=required[0]).state == FindingState.OPEN  # found again


def test_a_finding_is_explained_by_the_officer_and_accepted_by_the_unit_head(org):
    activity = _activity(org)
    finding = _open(activity)[FindingCode.MANDATORY_NOT_RECORDED]
    with pytest.raises(ConflictError, match="已说明"):
        accept_finding(finding.pk, actor=org["unit_head"])  # nothing explained yet
    explained = explain_finding(finding.pk, actor=org["a"], text="记录仪送修，已补报")
    assert explained.state == FindingState.EXPLAINED
    with pytest.raises(NotFoundError):
        accept_finding(finding.pk, actor=org["other_head"])  # not theirs to see
    accepted = accept_finding(finding.pk, actor=org["unit_head"], comment="属实")
    assert accepted.state == FindingState.ACCEPTED
    recompute_activities([activity.pk])  # still found: the state is kept
    finding.refresh_from_db()
    assert finding.state == FindingState.ACCEPTED
    assert list(list_findings(org["b"])) == [finding]  # an officer of the activity sees it
    assert list(list_findings(make_person("officer", unit=org["unit"]))) == []


def test_a_sweep_that_finds_nothing_new_writes_no_finding_and_records_its_run(org):
    """The nightly sweep reads first and locks only what changes (SUP-2): on a night when the
    checker finds what it found before, it writes nothing but its own run, and a finding's
    check time is then the run's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from activities.findings import checked_at, sweep_compliance
    from activities.models import ComplianceSweep

    activities = [_activity(org, title=f"查封现场 {n}") for n in range(3)]  # nothing recorded: findings open
    before = {f.pk: (f.state, f.checked_at) for f in ComplianceFinding.objects.all()}
    assert before
    with CaptureQueriesContext(connection) as queries:
        totals = sweep_compliance()
    assert totals == {"checked": 3, "opened": 0, "resolved": 0}
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")) or "FOR UPDATE" in q["sql"]]
    assert all("activities_compliancesweep" in sql for sql in writes), writes
    assert {f.pk: (f.state, f.checked_at) for f in ComplianceFinding.objects.all()} == before
    run = ComplianceSweep.objects.get()
    assert run.checked == 3
    assert checked_at(ComplianceFinding.objects.first()) == run.started_at
    # a change the services did not see (here: the stated times moved under the findings) is
    # reconciled by the next sweep, under lock
    from activities.models import ActivityRecording

    rec = make_recording(org["a"], unit=org["unit"], start_time=at(0), end_time=at(60), duration_s=3600,
                         received_at=at(120))

    ActivityRecording.objects.create(activity=activities[0], recording=rec, linked_at=timezone.now())
    assert sweep_compliance()["resolved"] >= 1
    assert ComplianceSweep.objects.count() == 2
