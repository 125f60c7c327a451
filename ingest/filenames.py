"""Filenames as given vs. as shown, and the body-camera naming pattern (ING-4, ING-6).

Vault paths never derive from filenames (they are content-addressed); a
filename is only ever displayed, so it is cleaned for display while the exact
value given is kept beside it.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from recordings.media import local_zone

MAX_DISPLAY = 255


def raw_filename_text(value: bytes | str) -> str:
    """The exact value given, as text: bytes that are not valid UTF-8 become ``\\xNN``,
    and so do NUL and lone surrogates (no database text column can hold them)."""
    if isinstance(value, str):
        value = value.encode("utf-8", errors="backslashreplace")  # lone surrogates → \\udcNN
    return value.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


def decode_filename(value: bytes | str) -> str:
    """Best reading for display: UTF-8, else GB18030 (a superset of GBK), else replacement marks."""
    if isinstance(value, str):
        return value
    for encoding in ("utf-8", "gb18030"):
        try:
            return value.decode(encoding)
        except UnicodeDecodeError:
            continue
    return value.decode("utf-8", errors="replace")


def sanitize_filename(value: bytes | str) -> str:
    """A display name: the last path component, no control or format characters, ≤255 chars."""
    text = unicodedata.normalize("NFC", decode_filename(value))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    text = re.split(r"[/\\]", text)[-1].strip()
    text = text.lstrip(". ").rstrip(". ")
    if not text:
        return _("未命名文件")
    if len(text) > MAX_DISPLAY:
        stem, ext = os.path.splitext(text)
        ext = ext[:16]
        text = stem[: MAX_DISPLAY - len(ext)] + ext
    return text


@dataclass(frozen=True)
class DeviceFilename:
    """What ``<serial>_<badge>_<YYYYMMDDhhmmss>[_<seq>][_IMP].<ext>`` tells us."""

    device_serial: str
    badge_number: str
    start_time: datetime  # aware, in the department's local time zone
    sequence: int | None
    important: bool
    extension: str


_DEVICE_NAME = re.compile(
    r"^(?P<serial>[A-Za-z0-9-]{2,32})_(?P<badge>[A-Za-z0-9]{1,32})_(?P<ts>\d{14})"
    r"(?:_(?P<seq>\d{1,8}))?(?P<imp>_IMP)?\.(?P<ext>[A-Za-z0-9]{1,8})$",
    re.IGNORECASE,
)


def parse_device_filename(name: str) -> DeviceFilename | None:
    """Parse a body-camera filename; None when it does not follow the pattern."""
    match = _DEVICE_NAME.match(name.strip())
    if match is None:
        return None
    try:
        naive = datetime.strptime(match["ts"], "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return DeviceFilename(
        device_serial=match["serial"].upper(),
        badge_number=match["badge"],
        start_time=naive.replace(tzinfo=local_zone()),
        sequence=int(match["seq"]) if match["seq"] else None,
        important=bool(match["imp"]),
        extension=match["ext"].lower(),
    )
