"""The pure timeline and compliance checker (REC-2 … REC-7, REC-9, SUP-2): facts in, findings
out, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from activities.choices import MatterLevel
from activities.compliance import (
    ActivityFacts,
    CaseFacts,
    Code,
    InterruptionFacts,
    RecordingFacts,
    ReportFacts,
    check_activity,
    check_case,
)
from activities.timeline import Span, build_timeline

pytestmark = [pytest.mark.req("REC-3"), pytest.mark.req("SUP-2")]

T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rec(n, start, end, **kw) -> RecordingFacts:
    return RecordingFacts(n, at(start), at(end), name=f"DSJ-{n}", **kw)


def facts(recordings=(), **kw) -> ActivityFacts:
    base = {"level": MatterLevel.FULL_PROCESS, "required_points": (), "stated_start": at(0), "stated_end": at(60),
            "recordings": tuple(recordings)}
    base.update(kw)
    return ActivityFacts(**base)


def codes(findings) -> list[tuple[str, str]]:
    return [(f.code, f.key) for f in findings]


# ---------------------------------------------------------------------------- timeline


def test_two_officers_and_a_relay_make_one_stretch_and_a_gap_is_a_gap():
    spans = [Span(at(0), at(30), 1), Span(at(10), at(25), 2),  # a second officer: an overlap
             Span(at(30.5), at(40), 3),  # a relay 30 s later: the stretch goes on
             Span(at(47), at(60), 4)]  # seven minutes later: a gap
    t = build_timeline(spans)
    assert [(s.start, s.end) for s in t.covered] == [(at(0), at(40)), (at(47), at(60))]
    assert [(g.start, g.end) for g in t.gaps] == [(at(40), at(47))]
    assert [(o.start, o.end) for o in t.overlaps] == [(at(10), at(25))]
    assert (t.first_start, t.last_end) == (at(0), at(60))


def test_recordings_without_times_are_left_out():
    t = build_timeline([Span(None, at(5), 1), Span(at(5), at(4), 2), Span(at(1), at(2), 3)])
    assert [s.recording_id for s in t.recordings] == [3]
    assert build_timeline([]).first_start is None


# ---------------------------------------------------------------------------- activities


@pytest.mark.req("REC-4")
def test_a_seven_minute_gap_is_a_finding_and_a_voice_statement_clears_it():
    recordings = [rec(1, 0, 30), rec(2, 0, 40), rec(3, 47, 60)]
    found = check_activity(facts(recordings))
    assert codes(found) == [(Code.GAP_UNEXPLAINED, at(40).isoformat())]
    assert "中断约 7 分钟" in found[0].message and found[0].requirement == "REC-4"
    explained = InterruptionFacts(at(40), at(47), written=False, explained=True)
    assert check_activity(facts(recordings, interruptions=(explained,))) == []
    unmarked = InterruptionFacts(at(40), at(47), written=False, explained=False)
    assert codes(check_activity(facts(recordings, interruptions=(unmarked,))))[0][0] == Code.GAP_UNEXPLAINED
    partial = InterruptionFacts(at(40), at(44), written=False, explained=True)
    assert codes(check_activity(facts(recordings, interruptions=(partial,))))[0][0] == Code.GAP_UNEXPLAINED


@pytest.mark.req("REC-4")
def test_a_written_explanation_waits_for_the_unit_head():
    recordings = [rec(1, 0, 40), rec(2, 47, 60)]
    written = InterruptionFacts(at(40), at(47), written=True, explained=True, acknowledged=False)
    assert codes(check_activity(facts(recordings, interruptions=(written,)))) == [
        (Code.INTERRUPTION_UNACKNOWLEDGED, at(40).isoformat())]
    acknowledged = InterruptionFacts(at(40), at(47), written=True, explained=True, acknowledged=True)
    assert check_activity(facts(recordings, interruptions=(acknowledged,))) == []


def test_gaps_count_only_where_the_whole_process_must_be_recorded():
    recordings = [rec(1, 0, 40), rec(2, 47, 60)]
    assert check_activity(facts(recordings, level=MatterLevel.OPTIONAL)) == []


@pytest.mark.req("REC-2")
@pytest.mark.req("REC-5")
def test_a_mandatory_activity_without_recordings_needs_a_complete_report():
    assert codes(check_activity(facts())) == [(Code.MANDATORY_NOT_RECORDED, "")]
    assert check_activity(facts(level=MatterLevel.OPTIONAL)) == []
    unapproved = ReportFacts("commercial_secret", needs_consent=True, acknowledged=True, approved=False)
    assert codes(check_activity(facts(report=unapproved))) == [
        (Code.NON_RECORDING_INCOMPLETE, ""), (Code.MANDATORY_NOT_RECORDED, "")]
    approved = ReportFacts("commercial_secret", needs_consent=True, acknowledged=True, approved=True)
    assert check_activity(facts(report=approved)) == []
    emergency = ReportFacts("emergency", needs_consent=False, acknowledged=True, approved=False)
    assert check_activity(facts(report=emergency)) == []
    unacknowledged = ReportFacts("emergency", needs_consent=False, acknowledged=False, approved=False)
    found = check_activity(facts(report=unacknowledged))
    assert codes(found)[0] == (Code.NON_RECORDING_INCOMPLETE, "") and "采集机构负责人确认" in found[0].message


@pytest.mark.req("REC-7")
def test_document_times_twenty_minutes_off_disagree():
    found = check_activity(facts([rec(1, 20, 60)], level=MatterLevel.OPTIONAL))
    assert codes(found) == [(Code.START_DISAGREES, "")]
    assert "相差 20 分钟，超过容差 5 分钟" in found[0].message
    assert check_activity(facts([rec(1, 4, 63)], level=MatterLevel.OPTIONAL)) == []  # within 5 minutes
    wider = facts([rec(1, 20, 60)], level=MatterLevel.OPTIONAL, time_tolerance=timedelta(minutes=30))
    assert check_activity(wider) == []
    late_end = check_activity(facts([rec(1, 0, 90)], level=MatterLevel.OPTIONAL))
    assert codes(late_end) == [(Code.END_DISAGREES, "")]


@pytest.mark.req("REC-6")
@pytest.mark.req("REC-8")
def test_every_required_point_must_be_marked_on_some_recording():
    recordings = [rec(1, 0, 30, points=frozenset({"show_id"})), rec(2, 30, 60, points=frozenset({"scene"}))]
    found = check_activity(facts(recordings, required_points=("show_id", "announce_recording", "scene"),
                                 point_names={"announce_recording": "告知录音录像"}))
    assert codes(found) == [(Code.CONTENT_POINT_MISSING, "announce_recording")]
    assert "告知录音录像" in found[0].message


def test_a_late_upload_without_a_reason():
    recordings = [rec(1, 0, 30, on_time=False), rec(2, 30, 60, on_time=False, late_reason="device_fault"),
                  rec(3, 30, 45, on_time=True)]
    assert codes(check_activity(facts(recordings))) == [(Code.LATE_UPLOAD, "1")]


@pytest.mark.req("REC-9")
def test_a_case_file_is_archived_within_30_days_of_closing():
    closed = CaseFacts("市监罚〔2026〕12号", closed_on=date(2026, 10, 1), archived_on=None)
    assert check_case(closed, today=date(2026, 10, 31)) == []
    assert codes(check_case(closed, today=date(2026, 11, 1))) == [(Code.ARCHIVE_OVERDUE, "")]
    archived = CaseFacts("市监罚〔2026〕12号", closed_on=date(2026, 10, 1), archived_on=date(2026, 11, 5))
    assert check_case(archived, today=date(2026, 12, 1)) == []
    assert check_case(CaseFacts("x", None, None), today=date(2026, 12, 1)) == []


@pytest.mark.req("INT-1")
def test_a_pushed_inspection_without_a_recording_a_day_after_it_ended():
    optional = {"level": MatterLevel.OPTIONAL, "pushed": True}
    assert check_activity(facts(now=at(60 + 23 * 60), **optional)) == []  # within the upload window
    assert codes(check_activity(facts(now=at(60 + 25 * 60), **optional))) == [(Code.PUSHED_UNRECORDED, "")]
    assert check_activity(facts(now=at(60 + 25 * 60), level=MatterLevel.OPTIONAL)) == []  # not pushed
    assert check_activity(facts([rec(1, 0, 60)], now=at(60 + 25 * 60), **optional)) == []
