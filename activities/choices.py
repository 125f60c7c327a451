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
