"""Upload and 入库情况 forms (ING-1, ING-3, ING-6)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.bounds import period_q
from core.forms import (
    BoundedDateField,
    IdChoiceField,
    IdMultipleChoiceField,
    refuse_reversed_period,
)
from ingest.choices import IngestStatus
from recordings.choices import LateReason


class UploadMetadataForm(forms.Form):
    """Rendered on the upload page; the browser sends the values as tus Upload-Metadata."""

    unit_id = IdChoiceField(label=_("采集机构"))
    officer_ids = IdMultipleChoiceField(label=_("执法人员"), required=False)
    case_number = forms.CharField(label=_("案号"), required=False, max_length=100)
    party = forms.CharField(label=_("当事人"), required=False, max_length=200)
    handler = forms.CharField(label=_("承办人"), required=False, max_length=100)
    place = forms.CharField(label=_("地点"), required=False, max_length=200)
    matter_type = forms.CharField(
        label=_("执法事项"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("如：现场检查、抽样、查封扣押")}),
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_late = forms.BooleanField(
        label=_("本批文件超过24小时才上传（需说明逾期原因）"), required=False
    )
    late_reason = forms.ChoiceField(
        label=_("逾期原因"), required=False, choices=[("", _("请选择")), *LateReason.choices]
    )
    late_reason_text = forms.CharField(label=_("逾期说明"), required=False, max_length=500)

    def __init__(self, *args, units=(), officers=(), person=None, **kwargs):
        super().__init__(*args, **kwargs)
        units = list(units)
        self.fields["unit_id"].choices = [(u.pk, u.name) for u in units]
        if person is not None and person.unit_id:
            self.fields["unit_id"].initial = person.unit_id
        self.fields["officer_ids"].choices = [
            (p.pk, f"{p.display_name}（{p.badge_number}）" if p.badge_number else p.display_name)
            for p in officers
        ]
        if person is not None and any(p.pk == person.pk for p in officers):
            self.fields["officer_ids"].initial = [person.pk]


class IngestFilterForm(forms.Form):
    """Filters of the 入库情况 page; every field optional.

    ``wide_scope`` names everything the user's scope allows (本机构全部, 本部门全部, …);
    without it the scope choice is not offered.
    """

    SCOPE_ALL, SCOPE_MINE = "all", "mine"

    status = forms.ChoiceField(label=_("状态"), required=False, widget=forms.Select(attrs={"class": "form-select"}))
    date_from = BoundedDateField(label=_("接收日期自"), required=False)
    date_to = BoundedDateField(label=_("至"), required=False)
    scope = forms.ChoiceField(label=_("范围"), required=False, widget=forms.Select(attrs={"class": "form-select"}))
    q = forms.CharField(label=_("文件名"), required=False, max_length=100)

    def __init__(self, *args, wide_scope: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("全部状态"))] + list(IngestStatus.choices)
        scopes = [(self.SCOPE_MINE, _("我上传的"))]
        if wide_scope:
            scopes.insert(0, (self.SCOPE_ALL, wide_scope))
        self.fields["scope"].choices = scopes

    def clean(self):
        data = super().clean()
        refuse_reversed_period(self)
        return data

    def apply(self, items, user):
        """Narrow an already restricted queryset (status is applied by the view, after counting)."""
        data = self.cleaned_data
        if data.get("scope") == self.SCOPE_MINE:
            items = items.filter(created_by=user)
        items = items.filter(period_q("created_at", data.get("date_from"), data.get("date_to")))
        if data.get("q"):
            items = items.filter(filename__icontains=data["q"].strip())
        return items
