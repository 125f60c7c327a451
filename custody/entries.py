"""A custody event as the bytes of its leaf (docs/custody-log.md §1).

One place maps rows to entries: the sequencer, the verification over the database, the proof
bundles and the migration all call ``entry_bytes``. The encoding itself is the standalone
verifier's (``custody.verifier.entry``), so what the platform hashes is what the disc checks.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from custody.verifier.entry import (
    ENTRY_VERSION,
    MAX_SAFE_INTEGER,
    SALT_SIZE,
    details_digest,
    encode_entry,
)
from custody.verifier.tlog import leaf_hash

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ENTRY_ROW_FIELDS = ("event_uid", "occurred_at", "actor_id", "actor_name", "action", "details_digest", "request_id")


def micros(value: datetime) -> int:
    return (value - EPOCH) // timedelta(microseconds=1)


def subject_pairs(subjects: Iterable[tuple[str, str]]) -> list[list[str]]:
    return sorted({(str(kind), str(ident)) for kind, ident in subjects}, key=lambda pair: pair)  # type: ignore[return-value]


def entry_fields(row: dict, subjects: Iterable[tuple[str, str]]) -> dict:
    """``row`` holds ENTRY_ROW_FIELDS (a ``values()`` row or the fields being written)."""
    return {
        "v": ENTRY_VERSION,
        "event_uid": str(row["event_uid"]),
        "occurred_at_us": micros(row["occurred_at"]),
        "actor_id": row["actor_id"],
        "actor_name": row["actor_name"],
        "action": row["action"],
        "subjects": [list(pair) for pair in subject_pairs(subjects)],
        "details_digest": row["details_digest"],
        "request_id": row["request_id"],
    }


def entry_bytes(row: dict, subjects: Iterable[tuple[str, str]]) -> bytes:
    """The canonical bytes. Built from database rows whose types the schema fixes, so the
    verifier's field-by-field validation (``encode_entry``) is skipped here; the bytes are the
    same (custody/tests/test_log.py checks both agree, and the verifier re-encodes every entry)."""
    fields = entry_fields(row, subjects)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def checked_entry_bytes(row: dict, subjects: Iterable[tuple[str, str]]) -> bytes:
    return encode_entry(entry_fields(row, subjects))


def entry_leaf_hash(row: dict, subjects: Iterable[tuple[str, str]]) -> bytes:
    return leaf_hash(entry_bytes(row, subjects))


def new_salt() -> str:
    return secrets.token_bytes(SALT_SIZE).hex()


def digest_of(salt_hex: str, content) -> str:
    return details_digest(bytes.fromhex(salt_hex), content)


def canonical_details(value):
    """Details as the digest can encode them: floats and integers beyond ±(2**53 − 1) become
    their decimal text (JCS restricted to integers, docs/custody-log.md §1)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return [canonical_details(item) for item in value]
    if isinstance(value, dict):
        return {str(key): canonical_details(item) for key, item in value.items()}
    return str(value)
