"""Form fields with the platform's bounds (``core.bounds``): use these, not Django's bare ones."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.bounds import DATE_MAX, DATE_MIN, date_in_bounds, datetime_in_bounds, parse_id

_RANGE_MESSAGE = _("日期须在 %(min)s 至 %(max)s 之间。")


def _range_error():
    return forms.ValidationError(
        _RANGE_MESSAGE,
        code="out_of_range",
        params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
    )


class BoundedDateField(forms.DateField):
    """A calendar day between DATE_MIN and DATE_MAX (the browser's date picker)."""

    default_error_messages = {"invalid": _("请输入有效的日期（年-月-日）。")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("min", DATE_MIN.isoformat())
        self.widget.attrs.setdefault("max", DATE_MAX.isoformat())

    def to_python(self, value):
        try:
            day = super().to_python(value)
        except OverflowError:
            raise _range_error() from None
        if day is not None and not date_in_bounds(day):
            raise _range_error()
        return day


class BoundedDateTimeField(forms.DateTimeField):
    """A local date and time to the second (datetime-local picker), within the bounds."""

    default_error_messages = {"invalid": _("请输入有效的日期和时间。")}
    INPUT_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(
                attrs={
                    "type": "datetime-local",
                    "step": 1,
                    "min": f"{DATE_MIN.isoformat()}T00:00",
                    "max": f"{DATE_MAX.isoformat()}T23:59:59",
                },
                format="%Y-%m-%dT%H:%M:%S",
            ),
        )
        kwargs.setdefault("input_formats", self.INPUT_FORMATS)
        super().__init__(**kwargs)

    def to_python(self, value):
        try:
            instant = super().to_python(value)
        except OverflowError:
            raise _range_error() from None
        if instant is not None and not datetime_in_bounds(instant):
            raise _range_error()
        return instant


def coerce_id(value) -> int:
    number = parse_id(value)
    if number is None:
        raise ValueError(value)
    return number


class IdChoiceField(forms.TypedChoiceField):
    """A choice among database rows by id; an id that cannot exist is "not a valid choice"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("coerce", coerce_id)
        kwargs.setdefault("empty_value", None)
        super().__init__(**kwargs)


class IdMultipleChoiceField(forms.TypedMultipleChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("coerce", coerce_id)
        super().__init__(**kwargs)


def bound_text_fields(form: forms.Form) -> None:
    """Every length-limited text field of ``form``: the browser stops at the limit, and a
    longer value (from a script) is refused with the field, its limit and its length."""
    for field in form.fields.values():
        if isinstance(field, forms.CharField) and field.max_length:
            field.widget.attrs["maxlength"] = field.max_length
            field.error_messages["max_length"] = _(
                "最多 %(limit_value)d 个字符（当前 %(show_value)d 个），请缩短。"
            )


def refuse_reversed_period(form: forms.Form, start: str = "date_from", end: str = "date_to") -> None:
    """A period filter whose end lies before its start is an error on the end field."""
    first, last = form.cleaned_data.get(start), form.cleaned_data.get(end)
    if first and last and last < first:
        form.add_error(end, _("结束日期不能早于开始日期。"))

