"""The catalogue: one Recording per original; derivatives point back (ING-4, ING-7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from recordings.choices import DerivativeKind, LateReason, MarkerKind, MediaKind, TimeSource
from recordings.querysets import RecordingQuerySet

# The descriptive metadata a person may correct (ING-4): the web form and the API list these.
DESCRIPTIVE_FIELDS = (
    "device_serial", "start_time", "end_time", "place", "case_number", "party",
    "handler", "matter_type", "notes",
)
# Fields whose edits are custody events with before/after (ING-4).
EDITABLE_FIELDS = (*DESCRIPTIVE_FIELDS, "late_reason", "late_reason_text")


class Recording(models.Model):
    original = models.OneToOneField(
        "storage.StoredObject", verbose_name=_("原始文件"), on_delete=models.PROTECT, related_name="recording"
    )
    original_filename = models.CharField(_("原始文件名"), max_length=255)
    raw_filename = models.TextField(_("上传时的文件名（原样）"), blank=True)
    media_kind = models.CharField(_("类型"), max_length=16, choices=MediaKind.choices)
    mime_type = models.CharField(_("MIME 类型"), max_length=100, blank=True)
    container = models.CharField(_("封装格式"), max_length=64, blank=True)
    video_codec = models.CharField(_("视频编码"), max_length=32, blank=True)
    audio_codec = models.CharField(_("音频编码"), max_length=32, blank=True)
    duration_s = models.FloatField(_("时长（秒）"), null=True, blank=True)
    width = models.PositiveIntegerField(_("宽"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高"), null=True, blank=True)
    probe = models.JSONField(_("媒体探测结果"), default=dict, blank=True)
    playable = models.BooleanField(_("浏览器可直接播放"), default=False)

    device = models.ForeignKey(
        "devices.Device", verbose_name=_("设备"), null=True, blank=True, on_delete=models.PROTECT, related_name="recordings"
    )
    device_serial = models.CharField(_("设备序列号"), max_length=64, blank=True, db_index=True)
    badge_number = models.CharField(_("执法证号（文件名）"), max_length=32, blank=True)
    primary_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("拍摄人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="primary_recordings",
    )
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("执法人员"), blank=True, related_name="recordings",
        through="RecordingOfficer",
    )
    unit = models.ForeignKey("orgs.Unit", verbose_name=_("采集机构"), on_delete=models.PROTECT, related_name="recordings")
    department = models.ForeignKey(
        "orgs.Department", verbose_name=_("所属部门"), on_delete=models.PROTECT, related_name="recordings"
    )

    start_time = models.DateTimeField(_("开始时间"), null=True, blank=True)
    end_time = models.DateTimeField(_("结束时间"), null=True, blank=True)
    time_source = models.CharField(_("时间来源"), max_length=16, choices=TimeSource.choices, default=TimeSource.UPLOAD)
    # DEV-4: the times as the device's clock gave them, and the correction applied (device minus
    # platform, seconds; recordings.clock) — NULL when no measurement of the device's clock applies
    raw_start_time = models.DateTimeField(_("开始时间（设备时钟）"), null=True, blank=True)
    raw_end_time = models.DateTimeField(_("结束时间（设备时钟）"), null=True, blank=True)
    clock_offset_s = models.FloatField(_("设备时钟偏差（秒）"), null=True, blank=True)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    case_number = models.CharField(_("案号"), max_length=100, blank=True)
    party = models.CharField(_("当事人"), max_length=200, blank=True)
    handler = models.CharField(_("承办人"), max_length=100, blank=True)
    matter_type = models.CharField(_("执法事项"), max_length=100, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    is_important = models.BooleanField(_("重要标记"), default=False)

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="uploaded_recordings"
    )
    received_at = models.DateTimeField(_("接收时间"))
    upload_deadline = models.DateTimeField(_("上传期限"), null=True, blank=True)
    on_time = models.BooleanField(_("按时上传"), null=True)
    late_reason = models.CharField(_("逾期原因"), max_length=32, choices=LateReason.choices, blank=True)
    late_reason_text = models.CharField(_("逾期说明"), max_length=500, blank=True)

    # ``flags`` is the truth: [{"code": ..., "message": <Chinese>}]; ``flagged`` and ``flag_reason``
    # are kept from it (recordings.flags) so the catalogue can filter and show them cheaply.
    flags = models.JSONField(_("异常项"), default=list, blank=True)
    flagged = models.BooleanField(_("异常标记"), default=False)
    flag_reason = models.CharField(_("异常原因"), max_length=500, blank=True)

    objects = RecordingQuerySet.as_manager()

    class Meta:
        verbose_name = _("执法音像记录")
        verbose_name_plural = _("执法音像记录")
        indexes = [
            # a unit's / a department's catalogue page in its order, with the list's yes/no and
            # kind filters in the key: the capped count is an index-only scan (migration 0004)
            models.Index(
                fields=["unit", "-start_time", "-id", "media_kind", "flagged", "on_time"],
                name="rec_unit_page_idx",
            ),
            models.Index(
                fields=["department", "-start_time", "-id", "media_kind", "flagged", "on_time"],
                name="rec_dept_page_idx",
            ),
            models.Index(fields=["primary_officer", "-start_time"], name="rec_officer_start_idx"),
            models.Index(fields=["uploaded_by", "-start_time"], name="rec_uploader_start_idx"),
            models.Index(fields=["-start_time", "-id"], name="rec_start_idx"),
            models.Index(fields=["case_number"], name="rec_case_idx"),
            models.Index(fields=["party"], name="rec_party_idx"),
            models.Index(fields=["on_time", "-start_time"], name="rec_ontime_idx"),
            models.Index(fields=["flagged", "-start_time"], name="rec_flagged_idx"),
        ]

    def __str__(self) -> str:
        return self.original_filename

    @property
    def is_late(self) -> bool:
        return self.on_time is False


class RecordingOfficer(models.Model):
    """One officer named on a recording (the ``Recording.officers`` link table, the table Django
    made for it). It carries a copy of its recording's start time, kept by the two services that
    write either (``register_recording``, ``update_recording_metadata``), so that the access
    rule "recordings I appear in" (ACC-1) reads only the period a catalogue page shows through
    one index, not every recording the officer was ever named on."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    recording_start = models.DateTimeField(_("记录开始时间"), null=True, blank=True)

    class Meta:
        db_table = "recordings_recording_officers"
        verbose_name = _("执法人员")
        verbose_name_plural = _("执法人员")
        unique_together = [("recording", "person")]
        indexes = [
            models.Index(fields=["person", "recording_start", "recording"], name="rec_officer_link_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.recording_id}"


class Derivative(models.Model):
    """Anything made from a recording: never a record itself (SAMR art. 2, ING-7)."""

    recording = models.ForeignKey(Recording, verbose_name=_("原始记录"), on_delete=models.PROTECT, related_name="derivatives")
    kind = models.CharField(_("类型"), max_length=16, choices=DerivativeKind.choices)
    stored_object = models.ForeignKey(
        "storage.StoredObject", verbose_name=_("存储对象"), on_delete=models.PROTECT, related_name="derivatives"
    )
    mime_type = models.CharField(_("MIME 类型"), max_length=100)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("生成时间"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("衍生资料")
        verbose_name_plural = _("衍生资料")
        constraints = [models.UniqueConstraint(fields=["recording", "kind"], name="uniq_recording_derivative_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ← {self.recording}"


class Marker(models.Model):
    """A second of a recording ticked by a reviewer (REC-6): a content point of the activity's
    matter shown there (activities.catalogs.CONTENT_POINTS, the announcement and the showing of
    IDs included), the officers stating why recording was interrupted (REC-4), or a note. Who
    set it, and when, is kept; removing one is a custody event too."""

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="markers")
    offset_s = models.FloatField(_("位置（秒）"))
    kind = models.CharField(_("类型"), max_length=24, choices=MarkerKind.choices)
    content_point = models.CharField(_("记录内容要点"), max_length=32, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("标记时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("标记人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("记录标记")
        verbose_name_plural = _("记录标记")
        ordering = ["recording", "offset_s", "pk"]
        constraints = [models.CheckConstraint(condition=models.Q(offset_s__gte=0), name="marker_offset_positive")]

    def __str__(self) -> str:
        return f"{self.recording_id}@{self.offset_s:.0f}s {self.kind}"
