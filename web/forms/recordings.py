"""Catalogue forms: the list's filters, metadata corrections, late reasons (ING-3, ING-4)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import (
    BoundedDateField,
    BoundedDateTimeField,
    IdChoiceField,
    bound_text_fields,
    refuse_reversed_period,
)
from recordings.capture_time import edit_time_error
from recordings.choices import LateReason, MediaKind
from recordings.models import DESCRIPTIVE_FIELDS
from recordings.selectors import FILTER_TEXT_LIMITS, SORTS, RecordingFilter

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
    """GET parameters of the catalogue list; every field optional, every value bounded.

    An invalid filter is never ignored: the view shows the errors and lists nothing.
    """

    q = forms.CharField(label=_("搜索"), required=False, max_length=FILTER_TEXT_LIMITS["q"])
    date_from = BoundedDateField(label=_("拍摄日期自"), required=False)
    date_to = BoundedDateField(label=_("至"), required=False)
    unit = IdChoiceField(label=_("采集机构"), required=False)
    officer = IdChoiceField(label=_("执法人员"), required=False)
    device_serial = forms.CharField(
        label=_("设备序列号"), required=False, max_length=FILTER_TEXT_LIMITS["device_serial"]
    )
    case_number = forms.CharField(
        label=_("案号"), required=False, max_length=FILTER_TEXT_LIMITS["case_number"]
    )
    party = forms.CharField(label=_("当事人"), required=False, max_length=FILTER_TEXT_LIMITS["party"])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_CHOICES)
    timeliness = forms.ChoiceField(label=_("时效"), required=False, choices=TIMELINESS_CHOICES)
    media_kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部")), *MediaKind.choices]
    )
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, units=(), officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        # units of several departments (a superior's scope) are told apart by their department
        several = len({u.department_id for u in units}) > 1
        self.fields["unit"].choices = [("", _("全部"))] + [
            (u.pk, f"{u.department.name} · {u.name}" if several else u.name) for u in units
        ]
        self.fields["officer"].choices = [("", _("全部"))] + [
            (p.pk, p.display_name) for p in officers
        ]
        bound_text_fields(self)
        self.fields["unit"].error_messages["invalid_choice"] = _("所选采集机构不在您可检索的范围内。")
        self.fields["officer"].error_messages["invalid_choice"] = _("所选执法人员不在您可检索的范围内。")

    def clean(self):
        data = super().clean()
        refuse_reversed_period(self)
        return data

    def to_filter(self) -> RecordingFilter:
        """The filter of a valid form (call is_valid() first; an invalid form lists nothing)."""
        data = self.cleaned_data
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
        if not self.is_bound:
            return False
        if not self.is_valid():
            return True
        return any(v for k, v in self.cleaned_data.items() if k != "sort")


class RecordingMetadataForm(forms.Form):
    """The descriptive fields an editor may correct (ING-4); bytes never change.

    Times must be believable for this recording (``recordings.capture_time``): not before
    devices existed, not after the platform received it; the end not before the start.
    """

    device_serial = forms.CharField(label=_("设备序列号"), required=False, max_length=64)
    start_time = BoundedDateTimeField(label=_("开始时间"), required=False)
    end_time = BoundedDateTimeField(label=_("结束时间"), required=False)
    place = forms.CharField(label=_("地点"), required=False, max_length=200)
    case_number = forms.CharField(label=_("案号"), required=False, max_length=100)
    party = forms.CharField(label=_("当事人"), required=False, max_length=200)
    handler = forms.CharField(label=_("承办人"), required=False, max_length=100)
    matter_type = forms.CharField(label=_("执法事项"), required=False, max_length=100)
    notes = forms.CharField(
        label=_("备注"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    FIELDS = DESCRIPTIVE_FIELDS

    def __init__(self, *args, recording=None, **kwargs):
        self.recording = recording
        super().__init__(*args, **kwargs)
        assert tuple(self.fields) == self.FIELDS
        bound_text_fields(self)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if self.recording is not None:
            for name in ("start_time", "end_time"):
                message = edit_time_error(data.get(name), reference=self.recording.received_at)
                if message:
                    self.add_error(name, message)
        if start and end and end < start and "end_time" not in self.errors:
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
