"""What officers report about how an activity was recorded: interruptions (REC-4), not
recording at all (REC-5), and the department's tolerances (REC-3, REC-7). Each change is a
service with its custody event, and the activity's findings are recomputed in the same
transaction (activities.findings)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.choices import (
    NEEDS_CONSENT,
    InterruptionForm,
    InterruptionReason,
    NonRecordingReason,
    ReportStatus,
)
from activities.findings import recompute_activities
from activities.models import ComplianceSettings, Interruption, NonRecordingReport
from activities.services import ActivityError, _editable
from core.errors import ConflictError, NotFoundError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event
from orgs.choices import Role


def _unit_head_of(actor, activity) -> bool:
    return bool(actor.unit_id == activity.unit_id and actor.has_role(Role.UNIT_HEAD))


def _department_head_of(actor, activity) -> bool:
    return bool(actor.department_id == activity.department_id and actor.has_role(Role.DEPARTMENT_HEAD))


def _visible(activity_id: int, actor):
    from activities.selectors import get_activity

    activity = get_activity(actor, activity_id, lock=True)
    if activity is None:
        raise NotFoundError(_("执法活动不存在或您无权查看。"))
    return activity


# ---------------------------------------------------------------------------- interruptions


def record_interruption(activity_id: int, *, actor, starts_at, ends_at, reason: str, reason_text: str = "",
                        form: str, marker_id: int | None = None, statement=None, signer_ids=()) -> Interruption:
    """Why recording stopped between ``starts_at`` and ``ends_at``, and how it was explained: by
    voice at resumption (``marker_id``: a marker on one of the activity's recordings), or in
    writing (``statement``: the signed explanation, stored; ``signer_ids``: two or more of the
    activity's officers), reported to the unit head."""
    from recordings.choices import MarkerKind
    from recordings.models import Marker

    if reason not in InterruptionReason.values:
        raise ActivityError(_("请选择中断原因。"))
    if form not in InterruptionForm.values:
        raise ActivityError(_("请选择说明方式。"))
    reason_text = " ".join((reason_text or "").split())
    if len(reason_text) > 500 or (reason == InterruptionReason.OTHER and not reason_text):
        raise ActivityError(_("请写明中断的具体原因（最多 500 字）。"))
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise ActivityError(_("中断结束时间须晚于开始时间。"))
    with transaction.atomic():
        activity = _editable(activity_id, actor)
        start, end = activity.starts_at, activity.ends_at
        first, last = _recorded_span(activity)
        lo = min(t for t in (start, first) if t is not None) if (start or first) else None
        hi = max(t for t in (end, last) if t is not None) if (end or last) else None
        if lo is None or hi is None or starts_at < lo or ends_at > hi:
            raise ActivityError(_("中断时间须在执法活动的起止时间之内。"))
        marker = None
        signers = []
        if form == InterruptionForm.VOICE:
            marker = Marker.objects.filter(pk=marker_id, kind=MarkerKind.RESUME_STATEMENT,
                                           recording__activity_link__activity=activity).first()
            if marker is None:
                raise ActivityError(_("请先在恢复记录的那段录像上标记语音说明的位置。"))
        else:
            if statement is None:
                raise ActivityError(_("无法恢复记录的，须上传两名以上执法人员签名的书面说明。"))
            officer_ids = set(activity.officers.values_list("pk", flat=True))
            try:
                signer_ids = {int(pk) for pk in signer_ids}
            except (TypeError, ValueError) as exc:
                raise ActivityError(_("签名执法人员无效。")) from exc
            if len(signer_ids) < 2 or not signer_ids <= officer_ids:
                raise ActivityError(_("书面说明须由该活动的两名以上执法人员签名。"))
            signers = list(activity.officers.filter(pk__in=signer_ids))
        interruption = Interruption.objects.create(
            activity=activity, starts_at=starts_at, ends_at=ends_at, reason=reason, reason_text=reason_text,
            form=form, marker=marker, statement=statement, created_at=timezone.now(), created_by=actor)
        if signers:
            interruption.signers.set(signers)
        record_event(EventCode.INTERRUPTION_RECORDED, actor=actor, subject=activity, also=[interruption], details={
            "interruption_reason": reason, "comment": reason_text, "interruption_form": form,
            "start_time": starts_at, "end_time": ends_at, "signers": len(signers)})
        recompute_activities([activity.pk])
    return interruption


def _recorded_span(activity):
    from django.db.models import Max, Min

    from recordings.models import Recording

    span = Recording.objects.filter(activity_link__activity=activity).aggregate(
        first=Min("start_time"), last=Max("end_time"))
    return span["first"], span["last"]


def acknowledge_interruption(interruption_id: int, *, actor) -> Interruption:
    """The unit head acknowledges a written explanation reported to them (REC-4)."""
    with transaction.atomic():
        interruption = Interruption.objects.select_for_update().filter(pk=interruption_id).first()
        if interruption is None:
            raise NotFoundError(_("中断登记不存在。"))
        activity = _visible(interruption.activity_id, actor)
        if not _unit_head_of(actor, activity):
            raise PermissionDeniedError(_("只有该执法机构的负责人可以确认。"))
        if interruption.form != InterruptionForm.WRITTEN:
            raise ConflictError(_("语音说明无需确认。"))
        if interruption.acknowledged_at is not None:
            raise ConflictError(_("该书面说明已确认。"))
        interruption.acknowledged_by, interruption.acknowledged_at = actor, timezone.now()
        interruption.save(update_fields=["acknowledged_by", "acknowledged_at"])
        record_event(EventCode.INTERRUPTION_ACKNOWLEDGED, actor=actor, subject=activity, also=[interruption],
                     details={"start_time": interruption.starts_at, "end_time": interruption.ends_at})
        recompute_activities([activity.pk])
    return interruption


# ---------------------------------------------------------------------------- not recording


def report_non_recording(activity_id: int, *, actor, reason: str, text: str, noted_in_record: bool,
                         application=None) -> NonRecordingReport:
    """An activity not recorded, for a reason of the closed list (REC-5)."""
    if reason not in NonRecordingReason.values:
        raise ActivityError(_("请选择未进行音像记录的原因。"))
    text = " ".join((text or "").split())
    if not text or len(text) > 1000:
        raise ActivityError(_("请说明未进行音像记录的情况（最多 1000 字）。"))
    if not noted_in_record:
        raise ActivityError(_("未进行音像记录的，应当在文字记录中注明；请确认已注明。"))
    if reason in NEEDS_CONSENT and application is None:
        raise ActivityError(_("涉及商业秘密或个人隐私的，须上传权利人的书面申请。"))
    with transaction.atomic():
        activity = _editable(activity_id, actor)
        if NonRecordingReport.objects.filter(activity=activity).exists():
            raise ConflictError(_("该活动已有未记录报告。"))
        report = NonRecordingReport.objects.create(
            activity=activity, reason=reason, text=text, application=application, noted_in_record=True,
            created_at=timezone.now(), created_by=actor)
        record_event(EventCode.NON_RECORDING_REPORTED, actor=actor, subject=activity, also=[report],
                     details={"non_recording_reason": reason, "comment": text,
                              "application": application is not None})
        recompute_activities([activity.pk])
    return report


def acknowledge_non_recording(activity_id: int, *, actor) -> NonRecordingReport:
    """The unit head acknowledges the report made to them."""
    with transaction.atomic():
        activity = _visible(activity_id, actor)
        report = NonRecordingReport.objects.select_for_update().filter(activity=activity).first()
        if report is None:
            raise NotFoundError(_("该活动没有未记录报告。"))
        if not _unit_head_of(actor, activity):
            raise PermissionDeniedError(_("只有该执法机构的负责人可以确认。"))
        if report.status != ReportStatus.REPORTED:
            raise ConflictError(_("该报告已%(status)s。") % {"status": report.get_status_display()})
        report.status, report.acknowledged_by, report.acknowledged_at = ReportStatus.ACKNOWLEDGED, actor, timezone.now()
        report.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        record_event(EventCode.NON_RECORDING_ACKNOWLEDGED, actor=actor, subject=activity, also=[report],
                     details={"non_recording_reason": report.reason})
        recompute_activities([activity.pk])
    return report


def decide_non_recording(activity_id: int, *, actor, approve: bool, comment: str = "") -> NonRecordingReport:
    """The department head consents (or not) to not recording a commercial secret or personal
    privacy, after the unit head's acknowledgement (SAMR art. 11)."""
    comment = " ".join((comment or "").split())
    if len(comment) > 500 or (not approve and not comment):
        raise ActivityError(_("不同意时请写明理由（最多 500 字）。"))
    with transaction.atomic():
        activity = _visible(activity_id, actor)
        report = NonRecordingReport.objects.select_for_update().filter(activity=activity).first()
        if report is None:
            raise NotFoundError(_("该活动没有未记录报告。"))
        if not _department_head_of(actor, activity):
            raise PermissionDeniedError(_("只有该部门负责人可以审批。"))
        if report.reason not in NEEDS_CONSENT:
            raise ConflictError(_("该原因无需部门负责人审批。"))
        if report.status != ReportStatus.ACKNOWLEDGED:
            raise ConflictError(_("须先由采集机构负责人确认，且只能审批一次。"))
        report.status = ReportStatus.APPROVED if approve else ReportStatus.REJECTED
        report.decided_by, report.decided_at, report.decision_comment = actor, timezone.now(), comment
        report.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
        record_event(EventCode.NON_RECORDING_DECIDED, actor=actor, subject=activity, also=[report],
                     details={"non_recording_reason": report.reason, "approved": approve, "comment": comment})
        recompute_activities([activity.pk])
    return report


# ---------------------------------------------------------------------------- tolerances


def set_compliance_settings(department, *, actor, time_tolerance_minutes: int, gap_tolerance_seconds: int
                            ) -> ComplianceSettings:
    """The department head or legal office sets the department's tolerances; its activities are
    rechecked with them."""
    from activities.models import Activity

    if not (actor.department_id == department.pk and actor.has_role(Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE)):
        raise PermissionDeniedError(_("只有本部门负责人或法制机构可以修改合规检查设置。"))
    if not (isinstance(time_tolerance_minutes, int) and 0 <= time_tolerance_minutes <= 120):
        raise ActivityError(_("时间一致容差应为 0–120 分钟。"))
    if not (isinstance(gap_tolerance_seconds, int) and 0 <= gap_tolerance_seconds <= 3600):
        raise ActivityError(_("接续间隔容差应为 0–3600 秒。"))
    with transaction.atomic():
        row, _created = ComplianceSettings.objects.select_for_update().get_or_create(
            department=department, defaults={"changed_at": timezone.now(), "changed_by": actor})
        before = (row.time_tolerance_minutes, row.gap_tolerance_seconds)
        row.time_tolerance_minutes, row.gap_tolerance_seconds = time_tolerance_minutes, gap_tolerance_seconds
        row.changed_at, row.changed_by = timezone.now(), actor
        row.save()
        record_event(EventCode.COMPLIANCE_SETTINGS_CHANGED, actor=actor, subject=department, details={
            "time_tolerance_minutes": time_tolerance_minutes, "gap_tolerance_seconds": gap_tolerance_seconds,
            "previous_tolerances": list(before)})
        recompute_activities(Activity.objects.filter(department=department).values_list("pk", flat=True))
    return row
