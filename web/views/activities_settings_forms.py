"""The forms of 事项目录 and 检查设置 (web.views.activities_settings): a department's own catalog
entry, its tolerances, a webhook endpoint and the delivery log's filter."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities import catalogs
from activities.catalog import EntryValues
from activities.choices import DeliveryStatus, MatterLevel, RecordMethod
from activities.webhooks import MAX_NAME, MAX_URL
from core.forms import IdChoiceField, bound_text_fields

# as activities.conduct.set_compliance_settings bounds them
TIME_TOLERANCE_MAX = 120
GAP_TOLERANCE_MAX = 3600


class _StyledForm(forms.Form):
    """Tabler classes on the widgets, ``is-invalid`` on a field with errors, bounded texts."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            widget.attrs["class"] = "form-select" if isinstance(widget, forms.Select) else "form-control"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def _text(label, limit, *, required=True, rows=None, help_text=""):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput(attrs={"autocomplete": "off"})
    return forms.CharField(label=label, max_length=limit, required=required, widget=widget, help_text=help_text)


class EntryForm(_StyledForm):
    """本部门事项: a new matter, or (``tightens``) a stricter version of a higher entry; with
    ``reason`` required it is the revision of one's own entry."""

    tightens = IdChoiceField(label=gettext_lazy("从严补充的上级事项"), required=False)
    name = _text(gettext_lazy("事项名称"), 200)
    category = forms.ChoiceField(label=gettext_lazy("类别"))
    level = forms.ChoiceField(label=gettext_lazy("记录要求"))
    start_trigger = _text(gettext_lazy("开始记录"), 500, rows=2)
    end_trigger = _text(gettext_lazy("结束记录"), 500, rows=2)
    content_points = forms.MultipleChoiceField(label=gettext_lazy("记录内容要点"), required=False,
                                               widget=forms.CheckboxSelectMultiple)
    methods = forms.MultipleChoiceField(label=gettext_lazy("记录方式"), widget=forms.CheckboxSelectMultiple)
    article = _text(gettext_lazy("依据"), 300, help_text=gettext_lazy("本部门文件的名称及条款。"))
    reason = _text(gettext_lazy("理由"), 500, required=False, rows=2)

    def __init__(self, *args, higher=(), revision=False, **kwargs):
        super().__init__(*args, **kwargs)
        if revision:
            del self.fields["tightens"]
            self.fields["reason"].required = True
            self.fields["reason"].label = _("修改理由")
            self.fields["reason"].error_messages["required"] = _("请写明修改理由。")
        else:
            self.fields["tightens"].choices = [("", _("不从严补充：新增本部门事项"))] + list(higher)
            self.fields["tightens"].error_messages["invalid_choice"] = _("要从严补充的事项不适用于本部门。")
        self.fields["category"].choices = [("", _("请选择"))] + list(catalogs.CATEGORIES)
        self.fields["level"].choices = [("", _("请选择"))] + list(MatterLevel.choices)
        self.fields["content_points"].choices = [(p.code, p.name) for p in catalogs.CONTENT_POINTS]
        self.fields["methods"].choices = list(RecordMethod.choices)
        messages_ = {
            "name": {"required": _("请填写事项名称。")},
            "category": {"required": _("请选择事项类别。"), "invalid_choice": _("请选择事项类别。")},
            "level": {"required": _("请选择记录要求。"), "invalid_choice": _("请选择记录要求。")},
            "start_trigger": {"required": _("请填写何时开始记录。")},
            "end_trigger": {"required": _("请填写何时结束记录。")},
            "content_points": {"invalid_choice": _("记录内容要点无效。"), "invalid_list": _("记录内容要点无效。")},
            "methods": {"required": _("请至少选择一种记录方式。"), "invalid_choice": _("记录方式无效。"),
                        "invalid_list": _("记录方式无效。")},
            "article": {"required": _("请写明依据（本部门文件及条款）。")},
        }
        for name, errors in messages_.items():
            self.fields[name].error_messages.update(errors)

    def values(self) -> EntryValues:
        data = self.cleaned_data
        return EntryValues(
            name=data["name"], category=data["category"], level=data["level"], start_trigger=data["start_trigger"],
            end_trigger=data["end_trigger"], content_points=tuple(data.get("content_points") or ()),
            methods=tuple(data["methods"]), article=data["article"])


def _integer(label, maximum, unit):
    message = _("%(label)s应为 0–%(max)s %(unit)s的整数。") % {"label": label, "max": maximum, "unit": unit}
    field = forms.IntegerField(label=label, min_value=0, max_value=maximum,
                               widget=forms.NumberInput(attrs={"min": 0, "max": maximum, "step": 1}))
    field.error_messages.update(required=_("请填写%(label)s。") % {"label": label}, invalid=message,
                                min_value=message, max_value=message, max_digits=message)
    return field


class TolerancesForm(_StyledForm):
    """时间一致容差 (REC-7) and 接续间隔容差 (REC-3), as set_compliance_settings bounds them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_tolerance_minutes"] = _integer(_("时间一致容差"), TIME_TOLERANCE_MAX, _("分钟"))
        self.fields["gap_tolerance_seconds"] = _integer(_("接续间隔容差"), GAP_TOLERANCE_MAX, _("秒"))
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"


class EndpointForm(_StyledForm):
    name = _text(gettext_lazy("名称"), MAX_NAME, help_text=gettext_lazy("例如：案件办理系统、智慧监管平台。"))
    url = _text(gettext_lazy("推送地址"), MAX_URL,
                help_text=gettext_lazy("对方系统接收推送的完整网址。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = _("请填写名称。")
        self.fields["url"].error_messages["required"] = _("请填写推送地址。")
        self.fields["url"].widget.attrs.update(inputmode="url", spellcheck="false")


class DeliveryFilterForm(forms.Form):
    endpoint = IdChoiceField(label=gettext_lazy("推送地址"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False)

    def __init__(self, *args, endpoints=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["endpoint"].choices = [("", _("全部"))] + [(e.pk, e.name) for e in endpoints]
        self.fields["status"].choices = [("", _("全部"))] + list(DeliveryStatus.choices)
        self.fields["endpoint"].error_messages["invalid_choice"] = _("所选推送地址不属于本部门。")
        self.fields["status"].error_messages["invalid_choice"] = _("推送状态无效。")

    def is_filtered(self) -> bool:
        return self.is_bound and (not self.is_valid() or any(self.cleaned_data.values()))
