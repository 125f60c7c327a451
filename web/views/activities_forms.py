"""Forms of the 执法活动 pages: the list's filters, registering an activity, and what is done on an
activity's page (explaining a finding, an interruption, a marker, a non-recording report).

The forms check what a person typed (bounded ids, lengths, times in order, a scan that is a PDF,
JPEG or PNG by its bytes); whether the activity, recording or finding may be touched is the
services' business (activities.services, activities.conduct, activities.findings), whose refusal
is shown as its Chinese message.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from activities.choices import (
    FindingCode,
    InterruptionForm,
    InterruptionReason,
    LinkSource,
    MatterLevel,
    NonRecordingReason,
)
from core.forms import (
    BoundedDateField,
    BoundedDateTimeField,
    IdChoiceField,
    IdMultipleChoiceField,
    bound_text_fields,
    refuse_reversed_period,
)
from recordings.choices import MarkerKind
from web.forms.access_requests import (
    APPLICATION_EXTENSIONS,
    APPLICATION_HEAD,
    MAX_APPLICATION_BYTES,
    application_type,
)

FINDINGS_CHOICES = [("", _("全部")), ("open", _("有待处理的提示")), ("none", _("没有待处理的提示"))]


class ActivityFilterForm(forms.Form):
    """GET parameters of the list; every field optional and bounded. An invalid filter lists
    nothing and says why (never silently ignored)."""

    level = forms.ChoiceField(label=_("记录要求"), required=False, choices=[("", _("全部")), *MatterLevel.choices])
    findings = forms.ChoiceField(label=_("合规提示"), required=False, choices=FINDINGS_CHOICES)
    code = forms.ChoiceField(label=_("提示类型"), required=False, choices=[("", _("全部")), *FindingCode.choices])
    officer = IdChoiceField(label=_("执法人员"), required=False)
    date_from = BoundedDateField(label=_("活动日期自"), required=False)
    date_to = BoundedDateField(label=_("至"), required=False)

    def __init__(self, *args, officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].choices = [("", _("全部"))] + [(p.pk, p.display_name) for p in officers]
        self.fields["officer"].error_messages["invalid_choice"] = _("所选执法人员不在您可查看的活动中。")
        self.fields["level"].error_messages["invalid_choice"] = _("记录要求无效。")
        self.fields["findings"].error_messages["invalid_choice"] = _("合规提示筛选无效。")
        self.fields["code"].error_messages["invalid_choice"] = _("提示类型无效。")

    def clean(self):
        data = super().clean()
        refuse_reversed_period(self)
        return data

    def is_filtered(self) -> bool:
        return self.is_bound and (not self.is_valid() or any(self.cleaned_data.values()))


def _text_field(label, limit, *, required=False, rows=None, help_text=""):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput
    return forms.CharField(label=label, max_length=limit, required=required, widget=widget, help_text=help_text)


class ActivityForm(forms.Form):
    """登记执法活动: the unit, the matter as it binds the unit's department, what the documents
    state (times in the platform's local time), the officers, the case."""

    unit = IdChoiceField(label=_("执法机构"))
    matter = IdChoiceField(label=_("执法事项"))
    title = _text_field(_("活动名称"), 200, required=True)
    place = _text_field(_("地点"), 200)
    party_name = _text_field(_("当事人"), 200)
    starts_at = BoundedDateTimeField(label=_("开始时间"), help_text=_("文书（笔录）记载的开始时间，北京时间。"))
    ends_at = BoundedDateTimeField(label=_("结束时间"), required=False,
                                   help_text=_("文书记载的结束时间；尚未结束的可以以后由对接系统补充。"))
    officers = IdMultipleChoiceField(label=_("执法人员"))
    case = IdChoiceField(label=_("案件"), required=False)

    def __init__(self, *args, units=(), matters=(), officers=(), cases=(), **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["unit"].choices = [(u.pk, u.name) for u in units]
        self.fields["matter"].choices = [("", _("请选择执法事项"))] + list(matters)
        self.fields["officers"].choices = list(officers)
        self.fields["case"].choices = [("", _("不关联案件"))] + [
            (c.pk, f"{c.number}（{c.party_name}）") for c in cases]
        messages = {
            "unit": {"required": _("请选择执法机构。"), "invalid_choice": _("您不能登记该执法机构的执法活动。")},
            "matter": {"required": _("请选择执法事项。"), "invalid_choice": _("该执法事项不适用于本部门。")},
            "title": {"required": _("请填写活动名称。")},
            "starts_at": {"required": _("请填写开始时间。")},
            "officers": {"required": _("请至少选择一名执法人员。"),
                         "invalid_choice": _("所选执法人员不是本部门在职人员。")},
            "case": {"invalid_choice": _("所选案件不存在，或不属于本部门。")},
        }
        for name, errors in messages.items():
            self.fields[name].error_messages.update(errors)

    def clean_title(self) -> str:
        title = " ".join((self.cleaned_data.get("title") or "").split())
        if not title:
            raise forms.ValidationError(_("请填写活动名称。"))
        return title

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start and "ends_at" not in self.errors:
            self.add_error("ends_at", _("结束时间须晚于开始时间。"))
        return data


class LinkForm(forms.Form):
    """Link one recording (a suggestion accepted, or a number typed) or several suggestions."""

    recording = forms.CharField(label=_("记录编号"), required=False, max_length=100)
    recordings = IdMultipleChoiceField(label=_("推荐的记录"), required=False)
    source = forms.ChoiceField(choices=[(LinkSource.SUGGESTED, ""), (LinkSource.MANUAL, "")],
                               initial=LinkSource.MANUAL, required=False)

    def __init__(self, *args, suggested_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recordings"].choices = [(pk, pk) for pk in suggested_ids]
        self.fields["recordings"].error_messages["invalid_choice"] = _("所选记录已不在推荐列表中，请刷新页面。")
        self.fields["source"].error_messages["invalid_choice"] = _("关联方式无效。")

    def clean(self):
        from core.bounds import parse_id

        data = super().clean()
        raw = (data.get("recording") or "").strip().lstrip("#")
        if "recording" in self.errors:  # too long to be a number at all
            self.errors.pop("recording")
            raw = "x"
        ids = list(data.get("recordings") or [])
        if raw:
            number = parse_id(raw)
            if number is None:
                self.add_error("recording", _("记录编号应为正整数，例如 1024。"))
            else:
                ids.append(number)
        if not ids and not self.errors:
            self.add_error("recording", _("请填写或选择要关联的记录。"))
        data["ids"] = list(dict.fromkeys(ids))
        return data


class UnlinkForm(forms.Form):
    recording = IdChoiceField(label=_("记录"))
    comment = _text_field(_("取消关联的理由"), 500, required=True)

    def __init__(self, *args, linked_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["recording"].choices = [(pk, pk) for pk in linked_ids]
        self.fields["recording"].error_messages.update(
            required=_("请选择要取消关联的记录。"), invalid_choice=_("该记录未关联到本活动。"))
        self.fields["comment"].error_messages["required"] = _("请写明取消关联的理由。")


class ExplainForm(forms.Form):
    text = _text_field(_("情况说明"), 500, required=True, rows=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["text"].error_messages["required"] = _("请写明情况说明。")


class AcceptForm(forms.Form):
    comment = _text_field(_("认可意见"), 500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)


def clean_scan(upload, label: str):
    """A signed statement or a written application: a PDF, JPEG or PNG (by its bytes) of at most
    MAX_APPLICATION_BYTES; None when nothing was sent."""
    if not upload:
        return None
    if upload.size > MAX_APPLICATION_BYTES:
        raise forms.ValidationError(_("%(label)s不能超过 %(mb)s MB（所选文件 %(size).1f MB）。") % {
            "label": label, "mb": MAX_APPLICATION_BYTES // (1024 * 1024), "size": upload.size / (1024 * 1024)})
    if not (upload.name or "").lower().endswith(APPLICATION_EXTENSIONS):
        raise forms.ValidationError(_("%(label)s只接受 PDF、JPEG 或 PNG 文件。") % {"label": label})
    upload.seek(0)
    head = upload.read(APPLICATION_HEAD)
    upload.seek(0)
    if application_type(head) is None:
        raise forms.ValidationError(_("所选文件的内容不是 PDF、JPEG 或 PNG（可能只是改了扩展名），请上传扫描件或 PDF 原件。"))
    return upload


class InterruptionEntryForm(forms.Form):
    """登记记录中断 (REC-4): when, why, and how it was explained — by voice when recording
    resumed (a marker on one of the activity's recordings) or, where it could not resume, in
    writing signed by two or more of the activity's officers."""

    form = forms.ChoiceField(choices=InterruptionForm.choices, widget=forms.HiddenInput)
    starts_at = BoundedDateTimeField(label=_("中断开始"))
    ends_at = BoundedDateTimeField(label=_("中断结束"))
    reason = forms.ChoiceField(label=_("中断原因"), choices=[("", _("请选择")), *InterruptionReason.choices])
    reason_text = _text_field(_("具体情况"), 500, help_text=_("选择“其他原因”时必填。"))
    marker = IdChoiceField(label=_("恢复记录时的语音说明"), required=False)
    statement = forms.FileField(label=_("书面说明（签名扫描件）"), required=False,
                                help_text=_("PDF、JPEG 或 PNG 文件，不超过 20 MB。"))
    signers = IdMultipleChoiceField(label=_("签名的执法人员"), required=False)

    def __init__(self, *args, markers=(), officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["marker"].choices = [("", _("请选择语音说明的标记"))] + list(markers)
        self.fields["signers"].choices = [(p.pk, p.display_name) for p in officers]
        self.fields["starts_at"].widget.attrs["data-gap-field"] = "start"
        self.fields["ends_at"].widget.attrs["data-gap-field"] = "end"
        self.fields["starts_at"].error_messages["required"] = _("请填写中断开始时间。")
        self.fields["ends_at"].error_messages["required"] = _("请填写中断结束时间。")
        self.fields["reason"].error_messages.update(required=_("请选择中断原因。"), invalid_choice=_("请选择中断原因。"))
        self.fields["marker"].error_messages["invalid_choice"] = _("所选标记不是本活动记录上的语音说明。")
        self.fields["signers"].error_messages["invalid_choice"] = _("签名人须为本活动的执法人员。")
        self.fields["statement"].error_messages.update(
            invalid=_("上传的不是文件，请重新选择书面说明。"), empty=_("上传的文件是空的，请重新选择书面说明。"))

    def clean_statement(self):
        return clean_scan(self.cleaned_data.get("statement"), _("书面说明"))

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start and "ends_at" not in self.errors:
            self.add_error("ends_at", _("中断结束时间须晚于开始时间。"))
        if data.get("reason") == InterruptionReason.OTHER and not (data.get("reason_text") or "").strip():
            self.add_error("reason_text", _("请写明中断的具体原因。"))
        if data.get("form") == InterruptionForm.VOICE:
            if not data.get("marker") and "marker" not in self.errors:
                self.add_error("marker", _("请选择恢复记录时语音说明的标记；没有的，先在下方添加标记。"))
        elif data.get("form") == InterruptionForm.WRITTEN:
            if not data.get("statement") and "statement" not in self.errors:
                self.add_error("statement", _("无法恢复记录的，须上传两名以上执法人员签名的书面说明。"))
            if "signers" not in self.errors and len(data.get("signers") or []) < 2:
                self.add_error("signers", _("书面说明须由该活动的两名以上执法人员签名。"))
        return data


class MarkerForm(forms.Form):
    """A marker at a second of one of the activity's recordings: a content point shown there, or
    the officers' voice statement when recording resumed (REC-4, REC-6)."""

    recording = IdChoiceField(label=_("记录"))
    kind = forms.ChoiceField(label=_("标记类型"), choices=[
        (MarkerKind.RESUME_STATEMENT, MarkerKind.RESUME_STATEMENT.label),
        (MarkerKind.CONTENT_POINT, MarkerKind.CONTENT_POINT.label),
        (MarkerKind.NOTE, MarkerKind.NOTE.label),
    ])
    offset_s = forms.DecimalField(label=_("位置（第几秒）"), min_value=0, max_value=86_400, decimal_places=1,
                                  max_digits=7)
    content_point = forms.ChoiceField(label=_("记录内容要点"), required=False)
    note = _text_field(_("说明"), 500)

    def __init__(self, *args, recordings=(), points=(), **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["recording"].choices = [("", _("请选择记录"))] + list(recordings)
        self.fields["content_point"].choices = [("", _("请选择"))] + list(points)
        self.fields["recording"].error_messages.update(
            required=_("请选择记录。"), invalid_choice=_("只能标记本活动中您可查看的记录。"))
        self.fields["offset_s"].error_messages.update(
            required=_("请填写标记位置（秒）。"), invalid=_("标记位置应为秒数，例如 12 或 12.5。"),
            min_value=_("标记位置不能为负数。"), max_value=_("标记位置应在记录时长之内。"),
            max_digits=_("标记位置应在记录时长之内。"), max_decimal_places=_("标记位置最多精确到 0.1 秒。"))
        self.fields["content_point"].error_messages["invalid_choice"] = _("请选择记录内容要点。")

    def clean(self):
        data = super().clean()
        if data.get("kind") == MarkerKind.CONTENT_POINT and not data.get("content_point"):
            self.add_error("content_point", _("请选择记录内容要点。"))
        if data.get("kind") == MarkerKind.NOTE and not (data.get("note") or "").strip():
            self.add_error("note", _("请填写备注内容。"))
        return data


class NonRecordingForm(forms.Form):
    """未进行音像记录的报告 (REC-5)."""

    reason = forms.ChoiceField(label=_("未记录原因"), choices=[("", _("请选择")), *NonRecordingReason.choices])
    text = _text_field(_("情况说明"), 1000, required=True, rows=3)
    noted_in_record = forms.BooleanField(label=_("已在文字记录（笔录）中注明未进行音像记录及原因"), required=False)
    application = forms.FileField(label=_("权利人书面申请"), required=False,
                                  help_text=_("涉及商业秘密或个人隐私的必须上传：PDF、JPEG 或 PNG 文件，不超过 20 MB。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["reason"].error_messages.update(
            required=_("请选择未进行音像记录的原因。"), invalid_choice=_("请选择未进行音像记录的原因。"))
        self.fields["text"].error_messages["required"] = _("请说明未进行音像记录的情况。")

    def clean_application(self):
        return clean_scan(self.cleaned_data.get("application"), _("权利人书面申请"))

    def clean(self):
        from activities.choices import NEEDS_CONSENT

        data = super().clean()
        if not data.get("noted_in_record"):
            self.add_error("noted_in_record", _("未进行音像记录的，应当在文字记录中注明；请确认已注明。"))
        if data.get("reason") in NEEDS_CONSENT and not data.get("application") and "application" not in self.errors:
            self.add_error("application", _("涉及商业秘密或个人隐私的，须上传权利人的书面申请。"))
        return data


class DecisionForm(forms.Form):
    """The department head's consent to not recording (approve / reject with a reason)."""

    decision = forms.ChoiceField(choices=[("approve", ""), ("reject", "")])
    comment = _text_field(_("审批意见"), 500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["decision"].error_messages.update(required=_("请选择同意或不同意。"),
                                                      invalid_choice=_("请选择同意或不同意。"))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("comment") or "").strip():
            self.add_error("comment", _("不同意时请写明理由。"))
        return data
