"""Small display helpers for the web UI templates."""

from __future__ import annotations

import json
from datetime import datetime

from django import template
from django.utils import timezone

from web.templatetags.event_details import summary_lines, technical_json
from web.templatetags.media_labels import format_name, mime_label

register = template.Library()


@register.filter
def event_summary(details) -> list[str]:
    """Readable ``label：value`` lines for a custody event's details, all in Chinese.

    Technical and unknown keys are left out here; ``event_technical`` shows them.
    """
    return summary_lines(details)


@register.filter
def event_technical(event) -> str:
    """The stored event (details, hashes, request id) as JSON, for the 技术细节 disclosure."""
    return technical_json(event)


@register.filter
def technical_data(value) -> str:
    """Stored technical data (e.g. ``recording.probe``, the library's own words) as JSON, for a
    "技术细节" disclosure; never for the main text."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=str, sort_keys=True)


@register.filter
def media_format(code) -> str:
    """A stored container or codec code as people name it: ``hevc`` → ``H.265``."""
    return format_name(code)


@register.filter
def media_type(mime_type) -> str:
    """A MIME type in Chinese: ``image/jpeg`` → ``JPEG 图片``."""
    return mime_label(mime_type)


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
