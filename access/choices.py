from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessAction(models.TextChoices):
    VIEW = "view", _("查看")
    PLAY = "play", _("播放")
    DOWNLOAD = "download", _("下载")
    COPY = "copy", _("复制")
    EXPORT = "export", _("导出")
    PROVIDE = "provide", _("对外提供")
    # A poster, thumbnail or proxy read on its own (the entry names the derivative kind).
    DERIVATIVE_VIEW = "derivative_view", _("查看衍生资料")


class AccessProfile(models.TextChoices):
    """Which local rule a department's approvals follow (issue 9, ACC-1); see access.profiles."""

    NATIONAL = "national", _("全国通用（市场监管总局规定第十七条）")
    DALIAN = "dalian", _("大连片区（分管副局长审批，第二十二条）")
    SHUANGQIAO = "shuangqiao", _("双桥区（机关负责人审批，设备管理规定第十二条）")


class RequestKind(models.TextChoices):
    INTERNAL = "internal", _("调阅、复制")
    EXTERNAL = "external", _("对外提供")
    PARTY_COPY = "party_copy", _("当事人申请复制")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤回")
    REVOKED = "revoked", _("已撤销")


class Purpose(models.TextChoices):
    """事由: the reason for a request, from a list plus free text."""

    CASE_HANDLING = "case_handling", _("案件办理")
    LEGAL_REVIEW = "legal_review", _("法制审核")
    RECONSIDERATION = "reconsideration", _("行政复议、诉讼")
    COMPLAINT = "complaint", _("投诉举报核查")
    SUPERVISION = "supervision", _("执法监督检查")
    TRAINING = "training", _("教学培训")
    OTHER = "other", _("其他")


def purpose_line(code: str, text: str) -> str:
    """事由 as the register keeps it: the category's label and the person's own words."""
    return f"{Purpose(code).label}：{text}"


class Confidentiality(models.TextChoices):
    """ACC-3: a record that needs the department-head path for every access."""

    NONE = "", _("无")
    COMMERCIAL_SECRET = "commercial_secret", _("商业秘密")
    PERSONAL_PRIVACY = "personal_privacy", _("个人隐私")


class ApproverRole(models.TextChoices):
    """Who approves a request (the profile's step names the office, the article names the rule)."""

    UNIT_HEAD = "unit_head", _("采集机构负责人")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    DEPUTY_DIRECTOR = "deputy_director", _("分管副局长（部门负责人）")
    AGENCY_HEAD = "agency_head", _("机关负责人（部门负责人）")


class FindingKind(models.TextChoices):
    """Security findings the access layer raises (ACC-1, ACC-6)."""

    REPEATED_DENIALS = "repeated_denials", _("多次访问无权查看的记录")
    SIGN_IN_BURST = "sign_in_burst", _("连续登录失败被锁定")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    ACKNOWLEDGED = "acknowledged", _("已确认")
