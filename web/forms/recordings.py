"""Catalogue forms: the list's filters, metadata corrections, late reasons (ING-3, ING-4)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from recordings.choices import LateReason, MediaKind
from recordings.selectors import SORTS, RecordingFilter

TIMELINESS_CHOICES = [
    ("", _("全部")),
    ("on_time", _("按时")),
    ("late", _("逾期")),
    ("unknown", _("未知")),
]
STATUS_CHOICES = [("", _("全部")), ("ok", _("正常")), ("flagged", _("异常"))]
SORT_CHOICES = [
    ("-start_time", _("拍摄时间（新→旧）")),
    ("start_time", _("拍摄时间（旧→新）")),
    ("-received_at", _("接收时间（新→旧）")),
    ("received_at", _("接收时间（旧→新）")),
    ("-duration_s", _("时长（长→短）")),
]
assert {value for value, _label in SORT_CHOICES} == set(SORTS)


class RecordingFilterForm(forms.Form):
    """GET parameters of the catalogue list; every field optional."""

    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    date_from = forms.DateField(
        label=_("拍摄日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    unit = forms.TypedChoiceField(label=_("采集机构"), required=False, coerce=int, empty_value=None)
    officer = forms.TypedChoiceField(
        label=_("执法人员"), required=False, coerce=int, empty_value=None
    )
    device_serial = forms.CharField(label=_("设备序列号"), required=False, max_length=64)
    case_number = forms.CharField(label=_("案号"), required=False, max_length=100)
    party = forms.CharField(label=_("当事人"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_CHOICES)
    timeliness = forms.ChoiceField(label=_("时效"), required=False, choices=TIMELINESS_CHOICES)
    media_kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部")), *MediaKind.choices]
    )
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, units=(), officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", _("全部"))] + [(u.pk, u.name) for u in units]
        self.fields["officer"].choices = [("", _("全部"))] + [
            (p.pk, p.display_name) for p in officers
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data

    def to_filter(self) -> RecordingFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return RecordingFilter(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            unit_id=data.get("unit"),
            officer_id=data.get("officer"),
            device_serial=data.get("device_serial") or "",
            case_number=data.get("case_number") or "",
            party=data.get("party") or "",
            status=data.get("status") or "",
            timeliness=data.get("timeliness") or "",
            media_kind=data.get("media_kind") or "",
            q=data.get("q") or "",
            sort=data.get("sort") or "-start_time",
        )

    def is_filtered(self) -> bool:
        if not self.is_valid():
            return False
        return any(v for k, v in self.cleaned_data.items() if k != "sort")


def _local_datetime_field(label) -> forms.DateTimeField:
    """A to-the-second local time, entered with the browser's datetime-local picker."""
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "step": 1}, format="%Y-%m-%dT%H:%M:%S"
        ),
        input_formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"],
    )


class RecordingMetadataForm(forms.Form):
    """The descriptive fields an editor may correct (ING-4); bytes never change."""

    device_serial = forms.CharField(label=_("设备序列号"), required=False, max_length=64)
    start_time = _local_datetime_field(_("开始时间"))
    end_time = _local_datetime_field(_("结束时间"))
    place = forms.CharField(label=_("地点"), required=False, max_length=200)
    case_number = forms.CharField(label=_("案号"), required=False, max_length=100)
    party = forms.CharField(label=_("当事人"), required=False, max_length=200)
    handler = forms.CharField(label=_("承办人"), required=False, max_length=100)
    matter_type = forms.CharField(label=_("执法事项"), required=False, max_length=100)
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    FIELDS = (
        "device_serial",
        "start_time",
        "end_time",
        "place",
        "case_number",
        "party",
        "handler",
        "matter_type",
        "notes",
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end < start:
            self.add_error("end_time", _("结束时间不能早于开始时间。"))
        return data

    def changes(self, recording) -> dict:
        """Only the fields whose value differs from the stored one."""
        out = {}
        for name in self.FIELDS:
            value = self.cleaned_data.get(name)
            if value is None and name not in ("start_time", "end_time"):
                value = ""
            if isinstance(value, str):
                value = value.strip()
            current = getattr(recording, name)
            if name in ("start_time", "end_time") and current and value:
                # The form has whole seconds; the stored value may carry microseconds.
                if current.replace(microsecond=0) == value.replace(microsecond=0):
                    continue
            if current != value:
                out[name] = value
        return out


class LateReasonForm(forms.Form):
    late_reason = forms.ChoiceField(
        label=_("逾期原因"), choices=[("", _("请选择")), *LateReason.choices]
    )
    late_reason_text = forms.CharField(
        label=_("说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("late_reason") == LateReason.OTHER
            and not (data.get("late_reason_text") or "").strip()
        ):
            self.add_error("late_reason_text", _("逾期原因为“其他”时须填写说明。"))
        return data
