"""Choices of the activities app: matter catalogs (REC-1), cases and their stages (REC-9),
activities and how recordings come to be linked to them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CatalogSource(models.TextChoices):
    """Where a matter catalog entry comes from: a built-in list (activities.catalogs) or a
    department's own addition."""

    SAMR = "samr", _("全国（市场监管总局规定第三条）")
    SHUANGQIAO = "shuangqiao", _("双桥区事项清单")
    DALIAN = "dalian", _("大连片区事项清单")
    DEPARTMENT = "department", _("本部门补充")


class MatterLevel(models.TextChoices):
    """How binding an entry is, from loosest to strictest (a tightening may only go up)."""

    OPTIONAL = "optional", _("根据实际情况记录")
    MANDATORY = "mandatory", _("应当记录")
    FULL_PROCESS = "full_process", _("全过程记录")


LEVEL_RANK = {MatterLevel.OPTIONAL: 0, MatterLevel.MANDATORY: 1, MatterLevel.FULL_PROCESS: 2}


class RecordMethod(models.TextChoices):
    VIDEO = "video", _("录像")
    AUDIO = "audio", _("录音")
    PHOTO = "photo", _("拍照")


class PartyKind(models.TextChoices):
    ORGANIZATION = "organization", _("单位（统一社会信用代码）")
    PERSON = "person", _("自然人")


class CaseStage(models.TextChoices):
    """The four stages of a case's full-process text record (SQ 全过程 art. 6–15)."""

    START = "start", _("启动")
    INVESTIGATION = "investigation", _("调查取证")
    DECISION = "decision", _("审查决定")
    EXECUTION = "execution", _("送达执行")


class LinkSource(models.TextChoices):
    MANUAL = "manual", _("手工关联")
    SUGGESTED = "suggested", _("采纳推荐")
    INTEGRATION = "integration", _("对接系统匹配")


class FilingSource(models.TextChoices):
    """How a recording came to name its case and matter (REC-9): matched from the free text an
    officer wrote on it."""

    MIGRATED = "migrated", _("按填写内容匹配")


class InterruptionReason(models.TextChoices):
    """Why recording stopped (REC-4; SAMR art. 11)."""

    DEVICE_FAULT = "device_fault", _("设备故障")
    WEATHER = "weather", _("恶劣天气")
    BATTERY = "battery", _("电量耗尽")
    STORAGE = "storage", _("存储空间已满")
    PLACE_CHANGE = "place_change", _("转换执法场所")
    OBSTRUCTION = "obstruction", _("受到阻挠")
    OTHER = "other", _("其他原因")


class InterruptionForm(models.TextChoices):
    VOICE = "voice", _("恢复记录时语音说明")
    WRITTEN = "written", _("无法恢复：书面说明并报告")


class NonRecordingReason(models.TextChoices):
    """The only reasons for not recording (REC-5; SAMR art. 11, CC art. 13, SQ 工作制度 art. 5,
    DL art. 8)."""

    STATE_SECRET = "state_secret", _("涉及国家秘密（不得记录）")
    COMMERCIAL_SECRET = "commercial_secret", _("涉及商业秘密")
    PRIVACY = "privacy", _("涉及个人隐私")
    EMERGENCY = "emergency", _("情况紧急")
    OBJECTIVE = "objective", _("客观原因无法记录")
    EXPLOSION_HAZARD = "explosion_hazard", _("易燃易爆场所，无防爆记录设备")
    DARK_UNDERGROUND = "dark_underground", _("地下黑暗场所，无红外记录设备")
    PARTY_REFUSED = "party_refused", _("当事人拒绝或破坏记录")


# a commercial secret or personal privacy: the right holder's written application and the
# department head's consent (SAMR art. 11)
NEEDS_CONSENT = frozenset({NonRecordingReason.COMMERCIAL_SECRET, NonRecordingReason.PRIVACY})


class ReportStatus(models.TextChoices):
    REPORTED = "reported", _("已报告，待采集机构负责人确认")
    ACKNOWLEDGED = "acknowledged", _("采集机构负责人已确认")
    APPROVED = "approved", _("部门负责人已同意")
    REJECTED = "rejected", _("部门负责人不同意")


class Severity(models.TextChoices):
    HIGH = "high", _("严重")
    MEDIUM = "medium", _("一般")
    LOW = "low", _("提示")


class FindingState(models.TextChoices):
    OPEN = "open", _("待处理")
    EXPLAINED = "explained", _("已说明")
    ACCEPTED = "accepted", _("采集机构负责人已认可")
    RESOLVED = "resolved", _("已消除")


class FindingCode(models.TextChoices):
    """What the compliance checker finds (activities.compliance)."""

    MANDATORY_NOT_RECORDED = "mandatory_not_recorded", _("应当记录而未记录")
    NON_RECORDING_INCOMPLETE = "non_recording_incomplete", _("未记录报告未完成确认或审批")
    GAP_UNEXPLAINED = "gap_unexplained", _("记录中断未说明")
    INTERRUPTION_UNACKNOWLEDGED = "interruption_unacknowledged", _("中断书面说明待确认")
    LATE_UPLOAD = "late_upload", _("逾期上传未说明理由")
    START_DISAGREES = "start_disagrees", _("开始时间与文书不一致")
    END_DISAGREES = "end_disagrees", _("结束时间与文书不一致")
    CONTENT_POINT_MISSING = "content_point_missing", _("记录内容要点未标记")
    ARCHIVE_OVERDUE = "archive_overdue", _("案卷逾期未归档")
    PUSHED_UNRECORDED = "pushed_unrecorded", _("对接系统推送的检查没有音像记录")


class DocumentType(models.TextChoices):
    """The written records (文书) kept beside the recordings (REC-9)."""

    FILING_APPROVAL = "filing_approval", _("立案审批表")
    SITE_RECORD = "site_record", _("现场笔录")
    INQUIRY_RECORD = "inquiry_record", _("询问笔录")
    SAMPLING_RECORD = "sampling_record", _("抽样记录")
    SEIZURE_DECISION = "seizure_decision", _("查封扣押决定书")
    PRESERVATION_NOTICE = "preservation_notice", _("先行登记保存通知书")
    PENALTY_DECISION = "penalty_decision", _("行政处罚决定书")
    SERVICE_RECEIPT = "service_receipt", _("送达回证")
    INSPECTION_RECORD = "inspection_record", _("检查记录")
    OTHER = "other", _("其他文书")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("多次失败，已停止")
