"""The canonical entry encoding of a custody event (docs/custody-log.md, "Entry").

Entry bytes are RFC 8785 (JCS) JSON restricted to objects, arrays, strings, integers,
``true``, ``false`` and ``null``: UTF-8, no whitespace, object keys sorted, strings with
only ``"``, ``\\`` and control characters escaped (``\\b \\f \\n \\r \\t``, otherwise
``\\u00xx`` lower-case). With those restrictions Python's ``json.dumps(...,
sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` produces exactly JCS.
Standard library only: the platform imports it, and so does the disc verifier.
"""

from __future__ import annotations

import hashlib
import json
import re

ENTRY_VERSION = 1
ENTRY_FIELDS = (
    "v",
    "event_uid",
    "occurred_at_us",
    "actor_id",
    "actor_name",
    "action",
    "subjects",
    "details_digest",
    "request_id",
)
DETAILS_DOMAIN = b"avrecords.custody.details/v1\x00"
SALT_SIZE = 32
MAX_SAFE_INTEGER = 2**53 - 1
_HEX64 = re.compile(r"[0-9a-f]{64}")


class EntryError(ValueError):
    """Fields that have no canonical encoding."""


def _check_value(value, where: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise EntryError(f"{where}: integer outside ±(2**53 - 1)")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EntryError(f"{where}: object keys are strings")
            _check_value(item, f"{where}.{key}")
        return
    raise EntryError(f"{where}: {type(value).__name__} has no canonical form (floats are not allowed)")


def canonical_json(value) -> bytes:
    _check_value(value, "value")
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")  # lone surrogates raise here, as they must


def details_digest(salt: bytes, details) -> str:
    """Lower-case hex SHA-256 of the domain tag, the 32-byte salt and the canonical details."""
    if not isinstance(salt, bytes) or len(salt) != SALT_SIZE:
        raise EntryError("the details salt is 32 bytes")
    return hashlib.sha256(DETAILS_DOMAIN + salt + canonical_json(details)).hexdigest()


def encode_entry(fields: dict) -> bytes:
    """The canonical entry bytes; the leaf hash is SHA-256(0x00 || these bytes)."""
    missing = [name for name in ENTRY_FIELDS if name not in fields]
    extra = sorted(set(fields) - set(ENTRY_FIELDS))
    if missing or extra:
        raise EntryError(f"entry fields: missing {missing}, unexpected {extra}")
    if fields["v"] != ENTRY_VERSION or isinstance(fields["v"], bool):
        raise EntryError(f"entry version must be {ENTRY_VERSION}")
    for name in ("event_uid", "actor_name", "action", "request_id"):
        if not isinstance(fields[name], str):
            raise EntryError(f"{name} is a string")
    occurred = fields["occurred_at_us"]
    if not isinstance(occurred, int) or isinstance(occurred, bool) or occurred < 0:
        raise EntryError("occurred_at_us is a non-negative integer")
    actor_id = fields["actor_id"]
    if actor_id is not None and (not isinstance(actor_id, int) or isinstance(actor_id, bool)):
        raise EntryError("actor_id is an integer or null")
    if not isinstance(fields["details_digest"], str) or not _HEX64.fullmatch(fields["details_digest"]):
        raise EntryError("details_digest is 64 lower-case hex digits")
    subjects = fields["subjects"]
    if not isinstance(subjects, list) or not all(
        isinstance(s, list) and len(s) == 2 and all(isinstance(p, str) for p in s) for s in subjects
    ):
        raise EntryError("subjects is a list of [type, id] string pairs")
    if subjects != sorted(subjects) or len({tuple(s) for s in subjects}) != len(subjects):
        raise EntryError("subjects are sorted and unique")
    return canonical_json(dict(fields))


def decode_entry(data: bytes) -> dict:
    """Parse entry bytes and insist they are canonical (re-encoding gives the same bytes)."""
    try:
        fields = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EntryError(f"entry bytes are not JSON: {exc}") from exc
    if not isinstance(fields, dict) or encode_entry(fields) != data:
        raise EntryError("entry bytes are not in canonical form")
    return fields
