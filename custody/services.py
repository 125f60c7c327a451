"""record_event(): the only way anything enters the custody log."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from core.context import get_request_id
from custody.choices import EventCode
from custody.hashing import event_hash
from custody.models import GENESIS_HASH, Event

# Any fixed 64-bit number: serialises appenders on PostgreSQL.
_PG_LOCK_KEY = 0x6176725F63757374


def _subject_ref(subject: Any) -> tuple[str, str]:
    if subject is None:
        return "system", ""
    if isinstance(subject, tuple):
        kind, ident = subject
        return str(kind), str(ident)
    return subject._meta.model_name, str(subject.pk)


def _actor_ref(actor: Any, actor_name: str | None) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "pk", None):
        return None, actor_name or "系统"
    return actor.pk, actor_name or getattr(actor, "display_name", None) or str(actor)


def record_event(
    action: EventCode | str,
    *,
    actor: Any,
    subject: Any = None,
    details: dict | None = None,
    actor_name: str | None = None,
) -> Event:
    """Append one event, chained to the previous one, inside the caller's transaction.

    ``subject`` is a model instance or a ``(type, id)`` pair. ``details`` must be
    JSON-serialisable (dates become ISO strings).
    """
    action = EventCode(action)
    subject_type, subject_id = _subject_ref(subject)
    actor_id, name = _actor_ref(actor, actor_name)
    clean_details = json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder, ensure_ascii=False))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = Event.objects.order_by("-seq").values("seq", "hash").first()
        fields = {
            "seq": (last["seq"] + 1) if last else 1,
            "occurred_at": timezone.now(),
            "actor_id": actor_id,
            "actor_name": name[:100],
            "action": action.value,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "details": clean_details,
            "request_id": get_request_id(),
            "prev_hash": last["hash"] if last else GENESIS_HASH,
        }
        fields["hash"] = event_hash(fields)
        return Event.objects.create(**fields)
