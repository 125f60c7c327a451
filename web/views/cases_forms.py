"""Forms of the 案件 pages (REC-9): the list's filters, registering a case, and what is done on a
case's page (a document with its file, the next stage, closing, archiving); the document form is
also on an activity's page.

The forms check what a person typed (bounded ids, lengths, days and times in order, a
统一社会信用代码 with its check character, a document file that is a PDF, JPEG or PNG by its
bytes and at most MAX_APPLICATION_BYTES); whether the case or activity may be touched is the
services' business (activities.services, activities.documents), whose refusal is shown as its
Chinese message.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.choices import CaseStage, DocumentType, PartyKind
from activities.parties import normalize_uscc, uscc_error
from core.forms import BoundedDateField, BoundedDateTimeField, IdChoiceField, bound_text_fields
from web.views.activities_forms import clean_scan

CASE_STATES = [
    ("open", _("办理中")),
    ("closed", _("已结案待归档")),
    ("overdue", _("归档逾期")),
    ("archived", _("已归档")),
]


class CaseFilterForm(forms.Form):
    """GET parameters of the list; every field optional and bounded. An invalid filter lists
    nothing and says why."""

    stage = forms.ChoiceField(label=_("办案阶段"), required=False, choices=[("", _("全部")), *CaseStage.choices])
    state = forms.ChoiceField(label=_("办理情况"), required=False, choices=[("", _("全部")), *CASE_STATES])
    q = forms.CharField(label=_("案号或当事人"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["stage"].error_messages["invalid_choice"] = _("办案阶段无效。")
        self.fields["state"].error_messages["invalid_choice"] = _("办理情况无效。")

    def clean_q(self) -> str:
        return " ".join((self.cleaned_data.get("q") or "").split())

    def is_filtered(self) -> bool:
        return self.is_bound and (not self.is_valid() or any(self.cleaned_data.values()))


class CaseForm(forms.Form):
    """登记案件: 案号 (unique in the department), 案由, the party (an organization with its
    统一社会信用代码, or a natural person), the handler, the filing date."""

    number = forms.CharField(label=_("案号"), max_length=100,
                             help_text=_("本部门内唯一，例如：某市监处罚〔2026〕15号。"))
    title = forms.CharField(label=_("案由"), max_length=200, required=False)
    party_kind = forms.ChoiceField(label=_("当事人类型"), choices=PartyKind.choices, initial=PartyKind.ORGANIZATION,
                                   widget=forms.RadioSelect)
    party_name = forms.CharField(label=_("当事人"), max_length=200)
    party_uscc = forms.CharField(label=_("统一社会信用代码"), max_length=32, required=False,
                                 help_text=_("单位当事人的 18 位代码，平台核对第 18 位校验码；自然人不填。"))
    handler = IdChoiceField(label=_("承办人"), required=False)
    opened_on = BoundedDateField(label=_("立案日期"), required=False)

    def __init__(self, *args, handlers=(), **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["handler"].choices = [("", _("暂不指定"))] + list(handlers)
        messages = {
            "number": {"required": _("请填写案号。")},
            "party_name": {"required": _("请填写当事人。")},
            "party_kind": {"required": _("请选择当事人类型。"), "invalid_choice": _("请选择当事人类型。")},
            "handler": {"invalid_choice": _("承办人须为本部门人员。")},
        }
        for name, errors in messages.items():
            self.fields[name].error_messages.update(errors)

    def _required_text(self, name: str, message) -> str:
        value = " ".join((self.cleaned_data.get(name) or "").split())
        if not value:
            raise forms.ValidationError(message)
        return value

    def clean_number(self) -> str:
        return self._required_text("number", _("请填写案号。"))

    def clean_party_name(self) -> str:
        return self._required_text("party_name", _("请填写当事人。"))

    def clean_opened_on(self):
        day = self.cleaned_data.get("opened_on")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("立案日期不能晚于今天。"))
        return day

    def clean(self):
        data = super().clean()
        uscc = normalize_uscc(data.get("party_uscc") or "")
        if data.get("party_kind") == PartyKind.PERSON:
            data["party_uscc"] = ""
        elif uscc and "party_uscc" not in self.errors:
            why = uscc_error(uscc)
            if why:
                self.add_error("party_uscc", why)
            data["party_uscc"] = uscc
        return data


class DocumentForm(forms.Form):
    """登记文书: its type, number, date, the start and end times it states, the stage of the case
    it belongs to, the activity it records (on a case's page), and the document itself (a scan or
    a PDF original; may be left out when only its particulars are registered)."""

    doc_type = forms.ChoiceField(label=_("文书类型"), choices=[("", _("请选择")), *DocumentType.choices])
    stage = forms.ChoiceField(label=_("办案阶段"), required=False, choices=[("", _("不属于办案阶段")), *CaseStage.choices])
    number = forms.CharField(label=_("文书编号"), max_length=100, required=False)
    doc_date = BoundedDateField(label=_("文书日期"), required=False)
    stated_start = BoundedDateTimeField(label=_("文书记载的开始时间"), required=False)
    stated_end = BoundedDateTimeField(label=_("文书记载的结束时间"), required=False)
    activity = IdChoiceField(label=_("所记录的执法活动"), required=False)
    file = forms.FileField(label=_("文书原件"), required=False,
                           help_text=_("扫描件或电子文书（PDF、JPEG 或 PNG 文件），不超过 20 MB；作为原件存档，不可修改。"))

    def __init__(self, *args, activities=(), **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["activity"].choices = [("", _("不指定执法活动"))] + [(a.pk, a.title) for a in activities]
        self.fields["doc_type"].error_messages.update(required=_("请选择文书类型。"),
                                                      invalid_choice=_("请选择文书类型。"))
        self.fields["stage"].error_messages["invalid_choice"] = _("办案阶段无效。")
        self.fields["activity"].error_messages["invalid_choice"] = _("所选执法活动不属于该案件，或您无权查看。")
        self.fields["file"].error_messages.update(
            invalid=_("上传的不是文件，请重新选择文书原件。"), empty=_("上传的文件是空的，请重新选择文书原件。"))

    def clean_number(self) -> str:
        return " ".join((self.cleaned_data.get("number") or "").split())

    def clean_file(self):
        return clean_scan(self.cleaned_data.get("file"), _("文书原件"))

    def clean(self):
        data = super().clean()
        start, end = data.get("stated_start"), data.get("stated_end")
        if start and end and end < start and "stated_end" not in self.errors:
            self.add_error("stated_end", _("文书记载的结束时间不能早于开始时间。"))
        return data


class StageForm(forms.Form):
    """The next stage of a case (only later stages are offered)."""

    stage = forms.ChoiceField(label=_("进入阶段"))

    def __init__(self, *args, stages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = list(stages)
        self.fields["stage"].error_messages.update(required=_("请选择要进入的办案阶段。"),
                                                   invalid_choice=_("办案阶段只能向后推进，请选择之后的阶段。"))


def _past_day(form, name: str, message) -> None:
    day = form.cleaned_data.get(name)
    if day and day > timezone.localdate() and name not in form.errors:
        form.add_error(name, message)


class CloseForm(forms.Form):
    closed_on = BoundedDateField(label=_("结案日期"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["closed_on"].error_messages["required"] = _("请填写结案日期。")

    def clean(self):
        data = super().clean()
        _past_day(self, "closed_on", _("结案日期不能晚于今天。"))
        return data


class ArchiveForm(forms.Form):
    archived_on = BoundedDateField(label=_("归档日期"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["archived_on"].error_messages["required"] = _("请填写归档日期。")

    def clean(self):
        data = super().clean()
        _past_day(self, "archived_on", _("归档日期不能晚于今天。"))
        return data
