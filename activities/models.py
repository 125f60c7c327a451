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

from activities.choices import (
    CaseStage,
    CatalogSource,
    DeliveryStatus,
    DocumentType,
    FilingSource,
    FindingCode,
    FindingState,
    InterruptionForm,
    InterruptionReason,
    LinkSource,
    MatterLevel,
    NonRecordingReason,
    PartyKind,
    ReportStatus,
    Severity,
)


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
    # the number as compared (activities.filing.key): how a recording's written 案号 finds it
    number_key = models.CharField(max_length=100, blank=True, editable=False)
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
        indexes = [models.Index(fields=["department", "number_key"], name="case_number_key_idx")]

    def __str__(self) -> str:
        return self.number


class Activity(models.Model):
    """An enforcement activity on site (执法活动): its matter (the catalog version it is judged
    under), case if any, place, officers, party, and start and end as its documents state them."""

    department = models.ForeignKey("orgs.Department", verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="+")
    unit = models.ForeignKey("orgs.Unit", verbose_name=_("执法机构"), on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(MatterType, verbose_name=_("执法事项"), on_delete=models.PROTECT, related_name="+")
    # how the matter bound the department when the activity was registered (the strictest reading
    # of the entry and any department's tightening of it: activities.catalog.Effective) — what
    # the activity is judged under, whatever the catalog says later
    required_level = models.CharField(_("记录要求"), max_length=16, choices=MatterLevel.choices)
    required_points = models.JSONField(_("记录内容要点"), default=list)
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
    # the recording devices a pushing system says were used (serial numbers), for matching
    # recordings to it (activities.integration)
    device_serials = models.JSONField(_("使用的记录设备"), default=list, blank=True)
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
        indexes = [
            models.Index(fields=["unit", "-starts_at"], name="activity_unit_idx"),
            # the pushed activities a newly catalogued recording may belong to (activities.integration)
            models.Index(fields=["department", "starts_at"], condition=~Q(external_id=""), name="activity_pushed_idx"),
        ]

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


class RecordingFiling(models.Model):
    """The case and matter a recording names (REC-9): the free text an officer wrote on it
    (案号, 当事人, 执法事项) linked to the department's case and catalog entry where they match,
    and kept as written where they do not (shown as 未关联). ``case_key`` is the written case
    number normalised (activities.filing.case_key), so a case registered later finds the
    recordings that named it."""

    recording = models.OneToOneField("recordings.Recording", on_delete=models.PROTECT, related_name="filing")
    department = models.ForeignKey("orgs.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    case_key = models.CharField(max_length=100, blank=True)
    case = models.ForeignKey(Case, verbose_name=_("案件"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="filed_recordings")
    matter = models.ForeignKey(MatterType, verbose_name=_("执法事项"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    party_matches = models.BooleanField(_("当事人与案件一致"), default=False)
    source = models.CharField(_("关联方式"), max_length=16, choices=FilingSource.choices,
                              default=FilingSource.MIGRATED)
    filed_at = models.DateTimeField(_("关联时间"))

    class Meta:
        verbose_name = _("记录关联的案件和事项")
        verbose_name_plural = _("记录关联的案件和事项")
        indexes = [
            # the recordings that named a case number no case had yet (activities.filing.file_for_case)
            models.Index(fields=["department", "case_key"], condition=Q(case__isnull=True) & ~Q(case_key=""),
                         name="filing_unmatched_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recording_id}: {self.case_id} {self.matter_id}"


class ComplianceSettings(models.Model):
    """A department's tolerances: how far the recordings' first start and last end may be from
    the documents' times (REC-7, default 5 minutes), and how long a pause between recordings is
    a relay rather than an interruption (REC-3)."""

    department = models.OneToOneField("orgs.Department", on_delete=models.CASCADE, related_name="compliance_settings")
    time_tolerance_minutes = models.PositiveSmallIntegerField(_("时间一致容差（分钟）"), default=5)
    gap_tolerance_seconds = models.PositiveSmallIntegerField(_("接续间隔容差（秒）"), default=60)
    changed_at = models.DateTimeField(_("修改时间"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("合规检查设置")
        verbose_name_plural = _("合规检查设置")

    def __str__(self) -> str:
        return f"{self.department_id}: {self.time_tolerance_minutes} min, {self.gap_tolerance_seconds} s"


class Interruption(models.Model):
    """Why the recording of an activity stopped between ``starts_at`` and ``ends_at`` (REC-4):
    the reason, and its explanation — stated by voice when recording resumed (a marker on the
    next recording at that second), or, where it could not resume, a written explanation signed
    by two or more officers and reported to the unit head, who acknowledges it."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="interruptions")
    starts_at = models.DateTimeField(_("中断开始"))
    ends_at = models.DateTimeField(_("中断结束"))
    reason = models.CharField(_("中断原因"), max_length=24, choices=InterruptionReason.choices)
    reason_text = models.CharField(_("说明"), max_length=500, blank=True)
    form = models.CharField(_("说明方式"), max_length=16, choices=InterruptionForm.choices)
    marker = models.ForeignKey("recordings.Marker", verbose_name=_("恢复记录时的语音说明"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    statement = models.ForeignKey("storage.StoredObject", verbose_name=_("书面说明"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    signers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("签名执法人员"), related_name="+",
                                     blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("记录中断")
        verbose_name_plural = _("记录中断")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                              name="interruption_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.activity_id}: {self.starts_at:%H:%M}–{self.ends_at:%H:%M} {self.reason}"


class NonRecordingReport(models.Model):
    """An activity that was not recorded, and why (REC-5): a reason from the closed list,
    reported to the unit head and noted in the written record; where the reason needs it (a
    commercial secret or personal privacy: the right holder's written application and the
    department head's consent), approved."""

    activity = models.OneToOneField(Activity, on_delete=models.PROTECT, related_name="non_recording")
    reason = models.CharField(_("未记录原因"), max_length=24, choices=NonRecordingReason.choices)
    text = models.CharField(_("情况说明"), max_length=1000)
    application = models.ForeignKey("storage.StoredObject", verbose_name=_("权利人书面申请"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    noted_in_record = models.BooleanField(_("已在文字记录中注明"), default=False)
    status = models.CharField(_("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.REPORTED)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(_("采集机构负责人确认时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_comment = models.CharField(_("审批意见"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("报告时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("未进行音像记录报告")
        verbose_name_plural = _("未进行音像记录报告")

    def __str__(self) -> str:
        return f"{self.activity_id}: {self.reason} ({self.status})"


class ComplianceFinding(models.Model):
    """A finding of the compliance checker (SUP-2, activities.compliance) as stored, with its
    state: open, explained by an officer, accepted by the unit head, resolved (the checker no
    longer finds it). ``key`` tells one finding of a kind from another (which gap, which point)."""

    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="findings")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="findings")
    department = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("orgs.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("类型"), max_length=32, choices=FindingCode.choices)
    key = models.CharField(max_length=64, blank=True)
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices)
    requirement = models.CharField(_("要求"), max_length=16)
    article = models.CharField(_("依据"), max_length=300)
    message = models.CharField(_("说明"), max_length=500)
    state = models.CharField(_("状态"), max_length=16, choices=FindingState.choices, default=FindingState.OPEN)
    raised_at = models.DateTimeField(_("发现时间"))
    checked_at = models.DateTimeField(_("最近检查时间"))
    resolved_at = models.DateTimeField(_("消除时间"), null=True, blank=True)
    explanation = models.CharField(_("情况说明"), max_length=500, blank=True)
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    explained_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("合规提示")
        verbose_name_plural = _("合规提示")
        constraints = [
            models.UniqueConstraint(fields=["activity", "code", "key"], condition=Q(activity__isnull=False),
                                    name="uniq_finding_activity"),
            models.UniqueConstraint(fields=["case", "code", "key"], condition=Q(activity__isnull=True),
                                    name="uniq_finding_case"),
        ]
        indexes = [
            models.Index(fields=["unit", "state"], name="finding_unit_state_idx"),
            models.Index(fields=["department", "state"], name="finding_dept_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code}:{self.key} ({self.state})"


class ComplianceSweep(models.Model):
    """One completed run of the periodic compliance sweep (activities.findings.sweep_compliance):
    every activity was checked between ``started_at`` and ``finished_at``, so a finding found
    unchanged was checked then (its own ``checked_at`` moves only when it changes)."""

    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("完成时间"))
    checked = models.PositiveIntegerField(_("检查活动数"))
    opened = models.PositiveIntegerField(_("新提示"))
    resolved = models.PositiveIntegerField(_("已消除"))

    class Meta:
        verbose_name = _("合规检查运行")
        verbose_name_plural = _("合规检查运行")
        indexes = [models.Index(fields=["-finished_at"], name="sweep_finished_idx")]

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M} {self.checked}"


class CaseDocument(models.Model):
    """A written record (文书) of a case stage or an activity (REC-9): its type, number, date and
    the start and end times it states (REC-7 compares them with the recordings). ``stored_object``:
    the document itself, kept in the vault as an original like a recording; a pushing system may
    send only its particulars."""

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    department = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("办案阶段"), max_length=16, choices=CaseStage.choices, blank=True)
    doc_type = models.CharField(_("文书类型"), max_length=24, choices=DocumentType.choices)
    number = models.CharField(_("文书编号"), max_length=100, blank=True)
    doc_date = models.DateField(_("文书日期"), null=True, blank=True)
    stated_start = models.DateTimeField(_("文书记载的开始时间"), null=True, blank=True)
    stated_end = models.DateTimeField(_("文书记载的结束时间"), null=True, blank=True)
    stored_object = models.ForeignKey("storage.StoredObject", verbose_name=_("文书原件"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    external_system = models.CharField(_("来源系统"), max_length=64, blank=True)
    external_id = models.CharField(_("来源系统编号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("登记时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        constraints = [
            models.UniqueConstraint(fields=["external_system", "external_id"], condition=~Q(external_id=""),
                                    name="uniq_document_external"),
            models.CheckConstraint(condition=Q(case__isnull=False) | Q(activity__isnull=False),
                                   name="document_of_case_or_activity"),
            models.CheckConstraint(condition=Q(stated_start__isnull=True) | Q(stated_end__isnull=True)
                                   | Q(stated_end__gte=models.F("stated_start")), name="document_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()} {self.number}"


class WebhookEndpoint(models.Model):
    """Where a department's findings changes are pushed (INT-1): an address of its
    case-handling or supervision system, and the secret the deliveries are signed with
    (HMAC-SHA256 of the body, header ``X-AVR-Signature``)."""

    department = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("地址"), max_length=500)
    secret = models.CharField(max_length=128)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("推送地址")
        verbose_name_plural = _("推送地址")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One push of one findings change to one endpoint, retried with backoff; the delivery log."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    finding = models.ForeignKey(ComplianceFinding, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    event_type = models.CharField(_("事件"), max_length=32)
    payload = models.JSONField(_("内容"))
    status = models.CharField(_("状态"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.event_type} {self.status}"
