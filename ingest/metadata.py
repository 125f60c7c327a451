"""What the uploader told us, cleaned and checked before any byte is accepted (ING-4)."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from access.rules import decide_officers, decide_upload
from core.bounds import parse_id
from core.errors import PermissionDeniedError
from ingest.errors import InvalidUploadError
from ingest.filenames import DeviceFilename
from orgs.models import Unit
from recordings.choices import LateReason, TimeSource
from recordings.data import MediaInfo, RecordingMetadata

# key -> max length; values are single-line text unless listed in MULTILINE.
TEXT_FIELDS = {
    "case_number": 100,
    "party": 200,
    "handler": 100,
    "place": 200,
    "matter_type": 100,
    "notes": 2000,
    "late_reason_text": 500,
    "device_serial": 64,
    "filetype": 100,
}
MULTILINE = {"notes", "late_reason_text"}
KNOWN_KEYS = set(TEXT_FIELDS) | {
    "filename",
    "unit_id",
    "officer_ids",
    "late_reason",
    "sha256",
    "important",
    "batch",
}
MAX_OFFICERS = 50  # people named on one file; more is a mistake, not a recording
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# The upload page's batch id ("本次上传"): a token minted per page view.
_BATCH = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _text(value, *, multiline: bool = False) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    value = unicodedata.normalize("NFC", str(value))
    allowed = {"\n", "\t"} if multiline else set()
    return "".join(
        ch for ch in value if ch in allowed or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    ).strip()


def _id(value, label: str) -> int:
    """A database id (core.bounds.parse_id), else a 400 that says which value is wrong."""
    number = parse_id(value if isinstance(value, int) else _text(value))
    if number is None:
        shown = _text(value) if isinstance(value, (bytes, str)) else str(value)
        if len(shown) > 24:
            shown = shown[:24] + "…"
        raise InvalidUploadError(
            _("%(label)s“%(value)s”无效：须为正整数编号。") % {"label": label, "value": shown}
        )
    return number


def _escaped(value: str) -> str:
    """Text that any database keeps as given: control characters and lone surrogates as \\xNN."""
    out = []
    for ch in value:
        category = unicodedata.category(ch)
        if (category == "Cc" and ch not in "\t\n\r") or category == "Cs":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def client_metadata(values: dict) -> dict[str, str]:
    """Upload-Metadata keys the platform does not know, kept as the client sent them (tus).

    Values are bytes in tus; they are kept as text (invalid UTF-8 as ``\\xNN``), never
    interpreted. The exact header is kept beside them on the upload.
    """
    kept: dict[str, str] = {}
    for key, value in values.items():
        if key in KNOWN_KEYS:
            continue
        if isinstance(value, bytes):
            text = value.decode("utf-8", errors="backslashreplace")
        else:
            text = value if isinstance(value, str) else str(value)
        kept[_escaped(str(key))] = _escaped(text)
    return kept


def clean_metadata(values: dict, *, actor) -> dict:
    """Validate upload metadata (tus ``Upload-Metadata`` or a local caller's dict).

    Returns a JSON-safe dict with only known keys; ``filename`` is handled by
    the caller (display name and raw name are kept apart); unknown keys are the
    client's own (``client_metadata``).
    """
    cleaned: dict = {}
    for key, limit in TEXT_FIELDS.items():
        if key in values and values[key] not in (None, ""):
            text = _text(values[key], multiline=key in MULTILINE)
            if len(text) > limit:
                raise InvalidUploadError(
                    _("“%(key)s”过长（最多 %(limit)s 个字符）。") % {"key": key, "limit": limit}
                )
            if text:
                cleaned[key] = text
    unit = None
    unit_id = values.get("unit_id")
    if unit_id not in (None, ""):
        unit = Unit.objects.filter(pk=_id(unit_id, _("采集机构编号"))).first()
        if unit is None:
            raise InvalidUploadError(_("所选采集机构不存在。"))
    decision = decide_upload(actor, unit)  # access.rules: who files into which unit (ACC-1)
    if not decision.allowed:
        if decision.basis == "no_unit":  # the request lacks a unit: the caller can supply one
            raise InvalidUploadError(decision.message)
        raise PermissionDeniedError(decision.message)
    if unit is not None:
        cleaned["unit_id"] = unit.pk
    officer_ids = values.get("officer_ids")
    if officer_ids not in (None, "", b""):
        if isinstance(officer_ids, (bytes, str)):
            parts = [p for p in re.split(r"[,，\s]+", _text(officer_ids)) if p]
        else:
            parts = list(officer_ids)
        if len(parts) > MAX_OFFICERS:
            raise InvalidUploadError(
                _("一次最多可关联 %(n)s 名执法人员。") % {"n": MAX_OFFICERS}
            )
        ids = sorted({_id(p, _("执法人员编号")) for p in parts})
        # officers of the recording's unit only: naming someone gives them the record (ACC-1);
        # one message whether an id is unknown or outside, so ids reveal nobody
        named = decide_officers(unit or actor.unit, ids)
        if not named.allowed:
            raise InvalidUploadError(named.message)
        cleaned["officer_ids"] = ids
    late_reason = _text(values.get("late_reason") or "")
    if late_reason:
        if late_reason not in LateReason.values:
            raise InvalidUploadError(_("逾期原因无效。"))
        if late_reason == LateReason.OTHER and not cleaned.get("late_reason_text"):
            raise InvalidUploadError(_("逾期原因为“其他”时须填写说明。"))
        cleaned["late_reason"] = late_reason
    sha256 = _text(values.get("sha256") or "").lower()
    if sha256:
        if not _SHA256.match(sha256):
            raise InvalidUploadError(_("声明的 SHA-256 格式无效（应为 64 位十六进制）。"))
        cleaned["sha256"] = sha256
    important = _text(values.get("important") or "").lower()
    if important in ("1", "true", "yes", "on"):
        cleaned["important"] = True
    batch = _text(values.get("batch") or "")
    if batch:
        if not _BATCH.match(batch):
            raise InvalidUploadError(_("上传批次编号格式无效。"))
        cleaned["batch"] = batch
    return cleaned


def build_recording_metadata(
    meta: dict, *, device_name: DeviceFilename | None, media: MediaInfo | None
) -> RecordingMetadata:
    """Uploader's values + the filename pattern + the media's own clock (media time wins)."""
    result = RecordingMetadata(
        unit_id=meta.get("unit_id"),
        officer_ids=list(meta.get("officer_ids") or []),
        place=meta.get("place", ""),
        case_number=meta.get("case_number", ""),
        party=meta.get("party", ""),
        handler=meta.get("handler", ""),
        matter_type=meta.get("matter_type", ""),
        notes=meta.get("notes", ""),
        is_important=bool(meta.get("important")),
        late_reason=meta.get("late_reason", ""),
        late_reason_text=meta.get("late_reason_text", ""),
        device_serial=meta.get("device_serial", ""),
    )
    if device_name is not None:
        result.device_serial = result.device_serial or device_name.device_serial
        result.badge_number = device_name.badge_number
        result.is_important = result.is_important or device_name.important
        result.start_time, result.time_source = device_name.start_time, TimeSource.FILENAME
    if media is not None and media.created_at is not None:
        result.start_time, result.time_source = media.created_at, TimeSource.MEDIA
    return result
