"""The compliance checker (SUP-2; architecture habit 5): for one activity, or one case, the
findings of what the regulations ask and the record does not show. Pure — facts in, findings
out; reading the facts, storing the findings and telling people is the caller's
(activities.findings).

What it checks, each with its requirement and article:

- a matter that must be recorded, with no recording and no complete non-recording report
  (REC-2, REC-5);
- a non-recording report not yet acknowledged by the unit head, or, where its reason needs it,
  without the department head's consent (REC-5);
- a gap in the coverage of a matter that must be recorded over its whole process, with no
  interruption explaining it — or explained in writing but not acknowledged (REC-3, REC-4);
- a recording uploaded late without a reason (ING-3);
- the recordings' first start or last end more than the tolerance from the documents' times
  (REC-7);
- a content point the matter asks for, marked on none of the recordings (REC-6, REC-8);
- an activity a supervision or case-handling system pushed (a 双随机 inspection task), with no
  recording a day after it ended (INT-1; SAMR art. 12: uploaded within 24 hours);
- a case closed more than 30 days ago whose file is not archived (REC-9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils.translation import gettext as _

from activities.choices import LEVEL_RANK, FindingCode, MatterLevel, Severity
from activities.timeline import DEFAULT_GAP_TOLERANCE, Span, build_timeline

SAMR = "《市场监管部门执法音像记录工作规定（试行）》"
UPLOAD_WINDOW = timedelta(hours=24)
SQ_DEVICES = "《承德市双桥区市场监督管理局行政执法音像记录设备使用、管理、监督规定》"
SQ_PROCESS = "《承德市双桥区市场监督管理局行政执法全过程记录办法》"
DEFAULT_TIME_TOLERANCE = timedelta(minutes=5)
ARCHIVE_DAYS = 30


Code = FindingCode  # the codes a finding carries


@dataclass(frozen=True)
class Finding:
    code: str
    key: str  # which one of its kind (a gap's start, a point's code, a recording's id)
    severity: str
    requirement: str
    article: str
    message: str  # Chinese


@dataclass(frozen=True)
class RecordingFacts:
    id: int
    start: datetime | None
    end: datetime | None
    on_time: bool | None = None
    late_reason: str = ""
    points: frozenset[str] = frozenset()  # content points marked on it
    name: str = ""


@dataclass(frozen=True)
class InterruptionFacts:
    start: datetime
    end: datetime
    written: bool  # explained in writing (recording could not resume), else by voice
    explained: bool  # the voice marker is there / the statement with two or more signers is
    acknowledged: bool = False  # a written one: the unit head acknowledged the report


@dataclass(frozen=True)
class ReportFacts:
    reason: str
    needs_consent: bool
    acknowledged: bool
    approved: bool
    rejected: bool = False


@dataclass(frozen=True)
class ActivityFacts:
    level: str
    required_points: tuple[str, ...]
    stated_start: datetime | None
    stated_end: datetime | None
    recordings: tuple[RecordingFacts, ...]
    interruptions: tuple[InterruptionFacts, ...] = ()
    report: ReportFacts | None = None
    time_tolerance: timedelta = DEFAULT_TIME_TOLERANCE
    gap_tolerance: timedelta = DEFAULT_GAP_TOLERANCE
    point_names: dict[str, str] = field(default_factory=dict)
    pushed: bool = False  # by an external system (INT-1)
    now: datetime | None = None


def _local(value: datetime) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%H:%M:%S")


def check_activity(facts: ActivityFacts) -> list[Finding]:
    findings: list[Finding] = []
    must_record = LEVEL_RANK[facts.level] >= LEVEL_RANK[MatterLevel.MANDATORY]
    whole_process = facts.level == MatterLevel.FULL_PROCESS
    report = facts.report
    timeline = build_timeline([Span(r.start, r.end, r.id) for r in facts.recordings],
                              gap_tolerance=facts.gap_tolerance)

    if report is not None:
        complete = report.acknowledged and (report.approved or not report.needs_consent)
        if not complete:
            if report.rejected:
                why = _("部门负责人不同意不进行音像记录")
            elif report.needs_consent and report.acknowledged:
                why = _("尚待部门负责人同意")
            else:
                why = _("尚待采集机构负责人确认")
            findings.append(Finding(
                Code.NON_RECORDING_INCOMPLETE, "", Severity.MEDIUM, "REC-5", f"{SAMR}第十一条",
                _("未进行音像记录的报告%(why)s。") % {"why": why}))
    else:
        complete = False
    if must_record and not facts.recordings and not complete:
        findings.append(Finding(
            Code.MANDATORY_NOT_RECORDED, "", Severity.HIGH, "REC-2", f"{SAMR}第三条、第十一条",
            _("该事项应当进行音像记录，但没有关联的音像记录，也没有经确认的未记录报告。")))

    ended = facts.stated_end or facts.stated_start
    if (facts.pushed and not must_record and not facts.recordings and not complete and ended is not None
            and facts.now is not None and facts.now > ended + UPLOAD_WINDOW):
        findings.append(Finding(
            Code.PUSHED_UNRECORDED, "", Severity.MEDIUM, "INT-1", f"{SAMR}第十二条",
            _("对接系统推送的执法活动已结束超过24小时，没有关联的音像记录。")))

    if whole_process:
        for gap in timeline.gaps:
            findings.extend(_gap(gap, facts.interruptions))

    for r in facts.recordings:
        if r.on_time is False and not r.late_reason:
            findings.append(Finding(
                Code.LATE_UPLOAD, str(r.id), Severity.MEDIUM, "ING-3", f"{SAMR}第十二条",
                _("记录“%(name)s”超过24小时上传，未说明理由。") % {"name": r.name or r.id}))

    tolerance = facts.time_tolerance
    if timeline.first_start is not None and facts.stated_start is not None:
        off = abs((timeline.first_start - facts.stated_start).total_seconds())
        if off > tolerance.total_seconds():
            findings.append(Finding(
                Code.START_DISAGREES, "", Severity.MEDIUM, "REC-7", f"{SQ_DEVICES}第七条",
                _("首段记录开始于 %(rec)s，文书记载的开始时间为 %(doc)s，相差 %(min)s 分钟，超过容差 %(tol)s 分钟。") % {
                    "rec": _local(timeline.first_start), "doc": _local(facts.stated_start),
                    "min": round(off / 60), "tol": round(tolerance.total_seconds() / 60)}))
    if timeline.last_end is not None and facts.stated_end is not None:
        off = abs((timeline.last_end - facts.stated_end).total_seconds())
        if off > tolerance.total_seconds():
            findings.append(Finding(
                Code.END_DISAGREES, "", Severity.MEDIUM, "REC-7", f"{SQ_DEVICES}第七条",
                _("末段记录结束于 %(rec)s，文书记载的结束时间为 %(doc)s，相差 %(min)s 分钟，超过容差 %(tol)s 分钟。") % {
                    "rec": _local(timeline.last_end), "doc": _local(facts.stated_end),
                    "min": round(off / 60), "tol": round(tolerance.total_seconds() / 60)}))

    if facts.recordings:
        marked = frozenset().union(*(r.points for r in facts.recordings))
        for point in facts.required_points:
            if point not in marked:
                findings.append(Finding(
                    Code.CONTENT_POINT_MISSING, point, Severity.LOW, "REC-6", f"{SAMR}第十条",
                    _("记录内容要点“%(point)s”尚未在任何一段记录中标记。") % {
                        "point": facts.point_names.get(point, point)}))
    return findings


def _gap(gap: Span, interruptions) -> list[Finding]:
    """A gap is explained by interruptions that cover it together."""
    covering = [i for i in interruptions if i.start <= gap.end and i.end >= gap.start]
    minutes = max(1, round(gap.seconds / 60))
    where = {"start": _local(gap.start), "end": _local(gap.end), "min": minutes}
    key = gap.start.isoformat()
    if not _covers(covering, gap) or not all(i.explained for i in covering):
        return [Finding(
            Code.GAP_UNEXPLAINED, key, Severity.HIGH, "REC-4", f"{SAMR}第九条、第十一条",
            _("%(start)s 至 %(end)s 中断约 %(min)s 分钟，未登记中断原因及说明。") % where)]
    if any(i.written and not i.acknowledged for i in covering):
        return [Finding(
            Code.INTERRUPTION_UNACKNOWLEDGED, key, Severity.MEDIUM, "REC-4", f"{SAMR}第十一条",
            _("%(start)s 至 %(end)s 的中断已书面说明，尚待采集机构负责人确认。") % where)]
    return []


def _covers(interruptions, gap: Span) -> bool:
    reach = gap.start
    for i in sorted(interruptions, key=lambda i: i.start):
        if i.start > reach:
            return False
        reach = max(reach, i.end)
        if reach >= gap.end:
            return True
    return reach >= gap.end


@dataclass(frozen=True)
class CaseFacts:
    number: str
    closed_on: date | None
    archived_on: date | None


def check_case(facts: CaseFacts, today: date) -> list[Finding]:
    if facts.closed_on is None or facts.archived_on is not None:
        return []
    due = facts.closed_on + timedelta(days=ARCHIVE_DAYS)
    if today <= due:
        return []
    return [Finding(
        Code.ARCHIVE_OVERDUE, "", Severity.MEDIUM, "REC-9", f"{SQ_PROCESS}第二十三条",
        _("案件 %(number)s 已于 %(closed)s 结案，应在 %(due)s 前归档，至今未归档。") % {
            "number": facts.number, "closed": facts.closed_on.isoformat(), "due": due.isoformat()})]
