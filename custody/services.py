"""record_event(): the only way anything enters the custody log."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import CheckStatus, CheckTrigger
from core.context import get_request_id
from core.errors import DomainError
from custody.checks import check_custody_chain
from custody.choices import EventCode
from custody.hashing import event_hash
from custody.models import GENESIS_HASH, ChainVerification, Event

logger = logging.getLogger(__name__)

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


MAX_STORED_FINDINGS = 100


def verify_custody_chain(*, actor=None, trigger: str = CheckTrigger.COMMAND) -> ChainVerification:
    """Re-compute the whole chain and store the result, even when the check could not run (promise 4).

    The result is itself appended to the log (``custody.chain_verified``), after the range it checked.
    """
    last = Event.objects.order_by("-seq").values("seq", "hash").first()
    try:
        findings = check_custody_chain()
        status = CheckStatus.FAIL if findings else CheckStatus.PASS
        if findings and findings[0].seq is not None:
            detail = _("共 %(n)s 处问题，第一个断开的环节为第 %(seq)s 号事件：%(message)s") % {
                "n": len(findings), "seq": findings[0].seq, "message": findings[0].message,
            }
        elif findings:  # a register finding names its entry in the message
            detail = _("共 %(n)s 处问题，首个：%(message)s") % {
                "n": len(findings), "message": findings[0].message,
            }
        else:
            detail = _("哈希链完整，全部事件与其哈希相符。")
    except Exception as exc:  # a check that could not run still leaves a result
        logger.exception("custody chain verification could not run")
        findings, status = [], CheckStatus.NOT_RUN
        # a domain error says why in Chinese; anything else is a library's English: the log has it
        reason = exc.message if isinstance(exc, DomainError) else _("读取保管链时出错，详见系统日志")
        detail = _("校验未能执行：%(reason)s。") % {"reason": reason.rstrip("。")}
    actor_id, actor_name = _actor_ref(actor, None)
    with transaction.atomic():
        verification = ChainVerification.objects.create(
            checked_at=timezone.now(),
            actor=actor if actor_id else None,
            actor_name=actor_name,
            trigger=trigger,
            status=status,
            events_checked=last["seq"] if last else 0,
            last_seq=last["seq"] if last else None,
            last_hash=last["hash"] if last else "",
            first_broken_seq=findings[0].seq if findings else None,
            findings=[
                {"seq": f.seq, "problem": f.problem, "message": f.message} for f in findings[:MAX_STORED_FINDINGS]
            ],
            detail=detail,
        )
        record_event(
            EventCode.CHAIN_VERIFIED,
            actor=actor,
            subject=verification,
            details={
                "status": status.value,
                "trigger": trigger,
                "last_seq": verification.last_seq,
                "last_hash": verification.last_hash,
                "first_broken_seq": verification.first_broken_seq,
                "findings": len(findings),
            },
        )
    return verification
