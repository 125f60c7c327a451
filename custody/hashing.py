"""The canonical form of an event and its chained hash.

Kept dependency-free so an auditor can re-implement it from this page:
SHA-256 over UTF-8 JSON with sorted keys and no spaces, of the fields below,
``occurred_at`` as ISO-8601 in UTC with microseconds.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "action",
    "subject_type",
    "subject_id",
    "details",
    "request_id",
    "prev_hash",
)


def canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(fields: dict) -> str:
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = canonical_time(payload["occurred_at"])
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
