"""The access request form (调阅申请, ACC-1): what to ask for, why, until when.

The form only checks what a person typed (bounded ids, a purpose, a date within the window, for
a party's copy the party's written application: a PDF, JPEG or PNG by its bytes, ACC-4);
whether the records exist, who approves and under which article is the services' business
(``access.approvals``), so that a refusal never says anything about records one may not see.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.approvals import MAX_RECORDS, MAX_VALID_DAYS
from access.choices import AccessAction, Purpose, RequestKind
from access.profiles import REQUESTABLE_ACTIONS
from core.bounds import MAX_ID, local_day_start
from core.forms import BoundedDateField, IdChoiceField, bound_text_fields
from orgs.models import Department, Unit

FORM_KINDS = (RequestKind.INTERNAL, RequestKind.EXTERNAL, RequestKind.PARTY_COPY)
# the kinds that hand copies outside: a recipient, optionally the superior department's opinion
OUTSIDE_KINDS = (RequestKind.EXTERNAL, RequestKind.PARTY_COPY)
_ID_SEPARATORS = re.compile(r"[\s,，、;；]+")
# "12, 13 14" for MAX_RECORDS ids of up to 19 digits, with room for separators
IDS_MAX_LENGTH = MAX_RECORDS * 21


# A party's written application (当事人书面申请, ACC-4): a scan or a PDF, kept as an original.
# The type is read from the first bytes, never from the name alone.
MAX_APPLICATION_BYTES = 20 * 1024 * 1024
APPLICATION_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png")
APPLICATION_TYPES = (  # (magic, content type, extension served)
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
APPLICATION_HEAD = max(len(magic) for magic, _type, _ext in APPLICATION_TYPES)


def application_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a party's application from its first bytes, or None."""
    for magic, content_type, extension in APPLICATION_TYPES:
        if head.startswith(magic):
            return content_type, extension
    return None


def parse_recording_ids(text: str) -> tuple[list[int], str | None]:
    """Ids typed as "12, 13 14" (commas, spaces, 、 or ;): the ids, or an error message."""
    tokens = [t for t in _ID_SEPARATORS.split(text or "") if t]
    ids: list[int] = []
    for token in tokens:
        if not token.isascii() or not token.isdigit():
            return [], str(_("记录编号只能是数字，多个编号用逗号或空格分隔：“%(token)s”不是编号。")
                           % {"token": token[:30]})
        number = int(token) if len(token) <= 20 else MAX_ID + 1
        if not 1 <= number <= MAX_ID:
            return [], str(_("记录编号“%(token)s”超出范围：编号是 1 至 %(max)d 之间的整数。")
                           % {"token": token[:30], "max": MAX_ID})
        ids.append(number)
    ids = sorted(set(ids))
    if len(ids) > MAX_RECORDS:
        return [], str(_("一次最多申请 %(n)d 条记录（您填写了 %(count)d 条）。")
                       % {"n": MAX_RECORDS, "count": len(ids)})
    return ids, None


def department_label(department: Department) -> str:
    return f"{department.name}（{department.get_level_display()}）"


def default_until() -> date:
    return timezone.localdate() + timedelta(days=7)


def window_end(day: date, now: datetime | None = None) -> datetime:
    """The instant a request valid "until ``day``" ends: the last second of that local day
    (shown as "至 day 23:59:59"), at most MAX_VALID_DAYS from now (the service's limit)."""
    now = now or timezone.now()
    last_second = local_day_start(day + timedelta(days=1)) - timedelta(seconds=1)
    return min(last_second, now + timedelta(days=MAX_VALID_DAYS))


class AccessRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("申请类型"),
        choices=[(k.value, k.label) for k in FORM_KINDS],
        initial=RequestKind.INTERNAL,
        widget=forms.RadioSelect,
    )
    department = IdChoiceField(label=_("记录所属部门"))
    unit = IdChoiceField(label=_("采集机构"), required=False)
    recording_ids = forms.CharField(
        label=_("记录编号"),
        required=False,
        max_length=IDS_MAX_LENGTH,
        help_text=_("多个编号用逗号或空格分隔；或填写案号，申请该案的全部记录。"),
    )
    case_number = forms.CharField(label=_("案号"), required=False, max_length=100)
    # from an activity's page: every recording of that activity (REC-9)
    activity = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
    actions = forms.MultipleChoiceField(
        label=_("调阅方式"),
        required=False,
        choices=[(a.value, AccessAction(a).label) for a in REQUESTABLE_ACTIONS],
        initial=[AccessAction.VIEW, AccessAction.PLAY],
        widget=forms.CheckboxSelectMultiple,
    )
    purpose_code = forms.ChoiceField(
        label=_("事由类别"), choices=[("", _("请选择")), *Purpose.choices]
    )
    purpose_text = forms.CharField(
        label=_("事由说明"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明调阅的具体原因，如案件办理环节、需核对的内容。"),
    )
    valid_until = BoundedDateField(label=_("有效期至"))
    include_confidential = forms.BooleanField(
        label=_("含保密记录（商业秘密、个人隐私）"),
        required=False,
        help_text=_("勾选后须由部门负责人审批。"),
    )
    recipient = forms.CharField(
        label=_("提供对象"),
        required=False,
        max_length=200,
        help_text=_("对外提供时填接收记录的单位或个人；当事人申请复制时填当事人姓名或名称。"),
    )
    consult_superior = forms.BooleanField(label=_("征求上级部门意见"), required=False)
    party_application = forms.FileField(
        label=_("当事人书面申请"),
        required=False,
        help_text=_("当事人申请复制时必须上传：PDF、JPEG 或 PNG 文件，不超过 20 MB。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        self.fields["valid_until"].initial = default_until
        today = timezone.localdate()
        self.fields["valid_until"].widget.attrs.update(
            min=today.isoformat(), max=(today + timedelta(days=MAX_VALID_DAYS)).isoformat()
        )
        departments = list(Department.objects.order_by("code"))
        self.departments = {d.pk: d for d in departments}
        self.fields["department"].choices = [("", _("请选择"))] + [
            (d.pk, department_label(d)) for d in departments
        ]
        self.fields["department"].error_messages.update(
            required=_("请选择记录所属部门。"), invalid_choice=_("所选部门不存在。")
        )
        self.fields["unit"].error_messages["invalid_choice"] = _("所选采集机构不属于所选部门。")
        self.fields["purpose_code"].error_messages["required"] = _("请选择事由类别。")
        self.fields["purpose_text"].error_messages["required"] = _("请写明具体事由。")
        self.fields["valid_until"].error_messages["required"] = _("请填写有效期。")
        self.fields["kind"].error_messages["invalid_choice"] = _("申请类型无效。")
        self.fields["actions"].error_messages["invalid_choice"] = _("调阅方式无效。")
        self.fields["party_application"].error_messages.update(
            invalid=_("上传的不是文件，请重新选择当事人书面申请。"),
            empty=_("上传的文件是空的，请重新选择当事人书面申请。"),
            missing=_("没有收到文件，请重新选择当事人书面申请。"),
        )
        self.fields["unit"].choices = unit_choices(self.selected_department_id())

    def selected_department_id(self) -> int | None:
        """The department chosen (bound or initial), when it is one of the list."""
        raw = self.data.get("department") if self.is_bound else self.initial.get("department")
        try:
            number = int(raw)
        except (TypeError, ValueError):
            return None
        return number if number in self.departments else None

    def clean_recording_ids(self) -> list[int]:
        ids, error = parse_recording_ids(self.cleaned_data.get("recording_ids", ""))
        if error:
            raise forms.ValidationError(error)
        return ids

    def clean_purpose_text(self) -> str:
        text = (self.cleaned_data.get("purpose_text") or "").strip()
        if not text:
            raise forms.ValidationError(_("请写明具体事由。"))
        return text

    def clean_valid_until(self) -> date:
        day = self.cleaned_data["valid_until"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError(_("有效期已过：请选择今天或以后的日期。"))
        if day > today + timedelta(days=MAX_VALID_DAYS):
            raise forms.ValidationError(_("有效期最长 %(days)d 天。") % {"days": MAX_VALID_DAYS})
        return day

    def clean_party_application(self):
        """The file as sent, when it is a PDF, JPEG or PNG of at most MAX_APPLICATION_BYTES
        (whether one is needed at all depends on the kind: ``clean``)."""
        upload = self.cleaned_data.get("party_application")
        if not upload:
            return None
        if upload.size > MAX_APPLICATION_BYTES:
            raise forms.ValidationError(
                _("当事人书面申请不能超过 %(mb)s MB（所选文件 %(size).1f MB）。")
                % {"mb": MAX_APPLICATION_BYTES // (1024 * 1024) or 1, "size": upload.size / (1024 * 1024)})
        name = (upload.name or "").lower()
        if not name.endswith(APPLICATION_EXTENSIONS):
            raise forms.ValidationError(_("当事人书面申请只接受 PDF、JPEG 或 PNG 文件。"))
        upload.seek(0)
        head = upload.read(APPLICATION_HEAD)
        upload.seek(0)
        if application_type(head) is None:
            raise forms.ValidationError(
                _("所选文件的内容不是 PDF、JPEG 或 PNG（可能只是改了扩展名），请上传扫描件或 PDF 原件。"))
        return upload

    def clean(self):
        data = super().clean()
        department, unit = data.get("department"), data.get("unit")
        if department and unit and Unit.objects.filter(pk=unit).values_list("department_id", flat=True).first() \
                != department:
            self.add_error("unit", _("所选采集机构不属于所选部门。"))
        if "recording_ids" not in self.errors and not data.get("recording_ids") \
                and not (data.get("case_number") or "").strip() and not data.get("activity"):
            self.add_error("recording_ids", _("请填写记录编号或案号。"))
        kind = data.get("kind")
        if kind == RequestKind.EXTERNAL and not (data.get("recipient") or "").strip():
            self.add_error("recipient", _("请填写提供对象（接收单位或当事人）。"))
        if kind == RequestKind.PARTY_COPY:
            if not (data.get("recipient") or "").strip():
                self.add_error("recipient", _("请填写提供对象（申请复制的当事人姓名或名称）。"))
            if "party_application" not in self.errors and not data.get("party_application"):
                self.add_error("party_application", _("当事人申请复制须上传当事人的书面申请。"))
        if kind == RequestKind.INTERNAL and "actions" not in self.errors and not data.get("actions"):
            self.add_error("actions", _("请至少选择一种调阅方式。"))
        return data

    # what the services take -------------------------------------------------------------

    def department_obj(self) -> Department | None:
        return self.departments.get(self.cleaned_data.get("department"))

    def unit_obj(self) -> Unit | None:
        pk = self.cleaned_data.get("unit")
        return Unit.objects.filter(pk=pk).first() if pk else None

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "department": self.department_obj(),
            "unit": self.unit_obj(),
            "kind": data["kind"],
            "recording_ids": data["recording_ids"],
            "case_number": data.get("case_number") or "",
            "activity_id": data.get("activity") or None,
            "purpose_code": data["purpose_code"],
            "purpose_text": data["purpose_text"],
            "actions": data.get("actions") or [],
            "valid_until": window_end(data["valid_until"]),
            "include_confidential": bool(data.get("include_confidential")),
            "recipient": (data.get("recipient") or "") if data["kind"] in OUTSIDE_KINDS else "",
            "consult_superior": bool(data.get("consult_superior")) and data["kind"] in OUTSIDE_KINDS,
        }

    def application_upload(self):
        """The party's written application to store, for a party copy only."""
        if self.cleaned_data.get("kind") != RequestKind.PARTY_COPY:
            return None
        return self.cleaned_data.get("party_application")


def unit_choices(department_id: int | None) -> list[tuple]:
    """The units offered: those of the chosen department, else all, named with their department."""
    first = ("", _("不限（部门内全部采集机构）"))
    if department_id is not None:
        units = Unit.objects.filter(department_id=department_id).order_by("code")
        return [first] + [(u.pk, u.name) for u in units]
    units = Unit.objects.select_related("department").order_by("department__code", "code")
    return [first] + [(u.pk, f"{u.department.name} · {u.name}") for u in units]


class DecisionForm(forms.Form):
    """An approver's, requester's or revoker's comment (the service says when it is required);
    on approving an external provision or party copy that asked for it, the superior
    department's opinion (SAMR art. 17 ¶5)."""

    comment = forms.CharField(label=_("意见"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 2}))
    consult_note = forms.CharField(label=_("上级部门意见"), required=False, max_length=500,
                                   widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
