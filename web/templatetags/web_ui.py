"""Small display helpers for the web UI templates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from recordings.models import Recording

register = template.Library()

# Chinese labels for detail keys that appear in custody events.
_DETAIL_LABELS = {
    "filename": _lazy("文件名"),
    "sha256": _lazy("SHA-256"),
    "sm3": _lazy("SM3"),
    "size": _lazy("大小"),
    "media_kind": _lazy("类型"),
    "start_time": _lazy("开始时间"),
    "end_time": _lazy("结束时间"),
    "upload_deadline": _lazy("上传期限"),
    "on_time": _lazy("按时"),
    "flagged": _lazy("异常"),
    "flag_reason": _lazy("异常原因"),
    "purpose": _lazy("事由"),
    "approval_ref": _lazy("审批依据"),
    "access_entry": _lazy("登记号"),
    "key": _lazy("对象键"),
    "write_verified": _lazy("写后复核"),
    "status": _lazy("结果"),
    "detail": _lazy("说明"),
    "trigger": _lazy("触发方式"),
    "ip": _lazy("IP"),
    "reason": _lazy("原因"),
    "kind": _lazy("类型"),
    "mime_type": _lazy("MIME 类型"),
    "source": _lazy("来源"),
    "message": _lazy("说明"),
}

# Keys whose values are internal references or too long to be useful in a summary.
_SKIPPED_KEYS = {
    "before",
    "after",
    "user_agent",
    "expected",
    "actual",
    "key",
    "steps",
    "metadata",
    "raw_filename",
    "stored_object",
    "ingest_item",
    "access_entry",
}


def _field_label(name: str) -> str:
    try:
        return str(Recording._meta.get_field(name).verbose_name)
    except Exception:
        return str(_DETAIL_LABELS.get(name, name))


def _value_label(name: str, value):
    """Stored codes shown with their Chinese labels (media kind, derivative kind)."""
    from recordings.choices import DerivativeKind, MediaKind

    choices = {"media_kind": MediaKind, "kind": DerivativeKind}.get(name)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return value


def _short(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, str):
        parsed = parse_datetime(value) if len(value) >= 16 and value[4:5] == "-" else None
        if parsed is not None:
            if timezone.is_aware(parsed):
                parsed = timezone.localtime(parsed)
            return parsed.strftime("%Y-%m-%d %H:%M:%S")
        if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
            return value[:12] + "…"
        return value if len(value) <= 60 else value[:60] + "…"
    if isinstance(value, dict | list):
        text = str(value)
        return text if len(text) <= 60 else text[:60] + "…"
    return str(value)


@register.filter
def event_summary(details) -> list[str]:
    """A few readable lines for a custody event's details (before → after first)."""
    if not isinstance(details, dict) or not details:
        return []
    lines = []
    before, after = details.get("before"), details.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        for name in after:
            lines.append(
                f"{_field_label(name)}：{_short(before.get(name))} → {_short(after[name])}"
            )
    for name, value in details.items():
        if name in _SKIPPED_KEYS or value in ("", None):
            continue
        lines.append(f"{_field_label(name)}：{_short(_value_label(name, value))}")
    return lines[:8]


@register.filter
def duration(seconds) -> str:
    if seconds is None or seconds == "":
        return "—"
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


@register.filter
def local_dt(value) -> str:
    if not value:
        return "—"
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M:%S")


@register.filter
def bytes_exact(value) -> str:
    """Size with thousands separators (exact bytes, for digests)."""
    if value is None:
        return "—"
    return f"{int(value):,}"


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current GET query string with some parameters replaced."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()
