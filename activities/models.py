"""Enforcement activities, cases and the matter catalog (REC-1, REC-2, REC-9).

A matter catalog entry is kept in versions: a row is never edited, a change is a new version of
the same entry (``scope`` + ``code``), and an activity points at the version it is judged under.
Cases and activities carry an external system's id when a case-handling or supervision system
pushed them (INT-1), unique per system.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from activities.choices import CaseStage, CatalogSource, LinkSource, MatterLevel, PartyKind


class MatterType(models.Model):
    """One version of a matter catalog entry (音像记录事项): what must be recorded, how, and
    from when to when. Built-in catalogs are loaded from ``activities.catalogs``; a department's
    own entries have ``scope`` ``dept:<id>``. ``tightens``: the higher entry a department entry
    makes stricter (never looser; activities.catalog_services)."""

    source = models.CharField(_("来源"), max_length=16, choices=CatalogSource.choices)
    scope = models.CharField(_("适用范围"), max_length=32)  # "samr", "shuangqiao", "dalian", "dept:<id>"
    department = models.ForeignKey(
        "orgs.Department", verbose_name=_("补充部门"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    code = models.CharField(_("编码"), max_length=64)
    version = models.PositiveIntegerField(_("版本"), default=1)
    current = models.BooleanField(_("现行版本"), default=True)
    tightens = models.ForeignKey(
        "self", verbose_name=_("从严补充的上级事项"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("事项名称"), max_length=200)
    category = models.CharField(_("类别"), max_length=32)
    level = models.CharField(_("记录要求"), max_length=16, choices=MatterLevel.choices)
    start_trigger = models.CharField(_("开始记录"), max_length=500)
    end_trigger = models.CharField(_("结束记录"), max_length=500)
    content_points = models.JSONField(_("记录内容要点"), default=list)
    methods = models.JSONField(_("记录方式"), default=list)
    article = models.CharField(_("依据"), max_length=300)
    quote = models.TextField(_("原文"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    change_reason = models.CharField(_("修改理由"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("执法事项")
        verbose_name_plural = _("执法事项")
        constraints = [
            models.UniqueConstraint(fields=["scope", "code", "version"], name="uniq_matter_version"),
            models.UniqueConstraint(fields=["scope", "code"], condition=Q(current=True), name="uniq_matter_current"),
        ]
        indexes = [models.Index(fields=["scope", "current"], name="matter_scope_idx")]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_level_display()}）"


class Case(models.Model):
    """A case (案件) of a department: its number (案号, unique in the department), party, handler,
    stage and closing; the case file is archived within 30 days of closing (REC-9)."""

    department = models.ForeignKey("orgs.Department", verbose_name=_("办案部门"), on_delete=models.PROTECT,
                                   related_name="+")
    number = models.CharField(_("案号"), max_length=100)
    title = models.CharField(_("案由"), max_length=200, blank=True)
    party_kind = models.CharField(_("当事人类型"), max_length=16, choices=PartyKind.choices,
                                  default=PartyKind.ORGANIZATION)
    party_name = models.CharField(_("当事人"), max_length=200)
    party_uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("承办人"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("办案阶段"), max_length=16, choices=CaseStage.choices, default=CaseStage.START)
    opened_on = models.DateField(_("立案日期"), null=True, blank=True)
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    archive_due = models.DateField(_("归档期限"), null=True, blank=True)
    archived_on = models.DateField(_("归档日期"), null=True, blank=True)
    external_system = models.CharField(_("来源系统"), max_length=64, blank=True)
    external_id = models.CharField(_("来源系统编号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        constraints = [
            models.UniqueConstraint(fields=["department", "number"], name="uniq_case_number"),
            models.UniqueConstraint(fields=["external_system", "external_id"],
                                    condition=~Q(external_id=""), name="uniq_case_external"),
        ]

    def __str__(self) -> str:
        return self.number


class Activity(models.Model):
    """An enforcement activity on site (执法活动): its matter (the catalog version it is judged
    under), case if any, place, officers, party, and start and end as its documents state them."""

    department = models.ForeignKey("orgs.Department", verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="+")
    unit = models.ForeignKey("orgs.Unit", verbose_name=_("执法机构"), on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(MatterType, verbose_name=_("执法事项"), on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, verbose_name=_("案件"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="activities")
    title = models.CharField(_("活动名称"), max_length=200)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    starts_at = models.DateTimeField(_("开始时间（文书记载）"), null=True, blank=True)
    ends_at = models.DateTimeField(_("结束时间（文书记载）"), null=True, blank=True)
    party_name = models.CharField(_("当事人"), max_length=200, blank=True)
    officers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("执法人员"), related_name="+")
    external_system = models.CharField(_("来源系统"), max_length=64, blank=True)
    external_id = models.CharField(_("来源系统编号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("执法活动")
        verbose_name_plural = _("执法活动")
        constraints = [
            models.UniqueConstraint(fields=["external_system", "external_id"],
                                    condition=~Q(external_id=""), name="uniq_activity_external"),
            models.CheckConstraint(condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True)
                                   | Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"),
        ]
        indexes = [models.Index(fields=["unit", "-starts_at"], name="activity_unit_idx")]

    def __str__(self) -> str:
        return self.title


class ActivityRecording(models.Model):
    """A recording linked to an activity; a recording belongs to one activity at most."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="links")
    recording = models.OneToOneField("recordings.Recording", on_delete=models.PROTECT, related_name="activity_link")
    source = models.CharField(_("关联方式"), max_length=16, choices=LinkSource.choices, default=LinkSource.MANUAL)
    linked_at = models.DateTimeField(_("关联时间"))
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        verbose_name = _("活动关联的记录")
        verbose_name_plural = _("活动关联的记录")

    def __str__(self) -> str:
        return f"{self.activity_id}: {self.recording_id}"
