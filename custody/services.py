"""record_event(): the only way anything enters the custody log; erase_details(): the only change.

An event is written inside the caller's transaction (atomic with the change it records) and
queued for the sequencer, which gives it its leaf after commit (custody.sequencer). Nothing
here takes a global lock: concurrent appenders do not wait for each other.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import CheckStatus, CheckTrigger
from core.context import get_request_id
from core.errors import DomainError
from custody.choices import EventCode
from custody.entries import canonical_details, digest_of, new_salt
from custody.models import ChainVerification, Event, EventDetails

logger = logging.getLogger(__name__)


def subject_ref(subject: Any) -> tuple[str, str]:
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
    also: Iterable[Any] = (),
) -> Event:
    """Append one event inside the caller's transaction; the sequencer places it after commit.

    ``subject`` is the primary subject, a model instance or a ``(type, id)`` pair; ``also``
    names further subjects (the event is in each one's history). ``details`` must be
    JSON-serialisable (dates become ISO strings); they are committed to by a salted digest
    and kept in their own, erasable row.
    """
    from custody.sequencer import kick_after_commit

    action = EventCode(action)
    subject_type, subject_id = subject_ref(subject)
    subjects = {(subject_type, subject_id)} | {subject_ref(other) for other in also}
    actor_id, name = _actor_ref(actor, actor_name)
    content = canonical_details(json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder, ensure_ascii=False)))
    salt = new_salt()
    fields = {
        "event_uid": uuid.uuid4(),
        "occurred_at": timezone.now(),
        "actor_id": actor_id,
        "actor_name": name[:100],
        "action": action.value,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "details_digest": digest_of(salt, content),
        "request_id": get_request_id(),
    }
    # no savepoint: a failed insert fails the caller's transaction, which is what atomicity asks
    with transaction.atomic(savepoint=False):
        event = _insert_event(fields, content, salt, sorted(subjects))
        kick_after_commit()
    return event


_PG_INSERT = """
WITH e AS (
  INSERT INTO custody_event (event_uid, occurred_at, actor_id, actor_name, action, subject_type,
                             subject_id, details_digest, request_id)
  VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
), d AS (
  INSERT INTO custody_eventdetails (event_id, content, salt) SELECT id, %s::jsonb, %s FROM e
), s AS (
  INSERT INTO custody_eventsubject (event_id, subject_type, subject_id)
  SELECT e.id, v.t, v.i FROM e, unnest(%s::text[], %s::text[]) AS v(t, i)
), p AS (
  INSERT INTO custody_pendingevent (event_id) SELECT id FROM e
)
SELECT id FROM e
"""


_SQLITE_INSERTS = (
    "INSERT INTO custody_event (event_uid, occurred_at, actor_id, actor_name, action, subject_type, "
    "subject_id, details_digest, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    "INSERT INTO custody_eventdetails (event_id, content, salt, erased_by, erased_at) VALUES (?, ?, ?, NULL, NULL)",
    "INSERT INTO custody_eventsubject (event_id, subject_type, subject_id) VALUES (?, ?, ?)",
    "INSERT INTO custody_pendingevent (event_id) VALUES (?)",
)
_ROW_ORDER = ("event_uid", "occurred_at", "actor_id", "actor_name", "action", "subject_type", "subject_id",
              "details_digest", "request_id")


def _insert_event(fields: dict, content: dict, salt: str, subjects: list[tuple[str, str]]) -> Event:
    """The event, its details, its subject links and its queue row, written without the ORM's
    per-statement compilation: one round trip on PostgreSQL (a data-modifying CTE), four
    prepared statements on SQLite. Values are prepared by the model fields themselves."""
    prepared = [Event._meta.get_field(name).get_db_prep_save(fields[name], connection) for name in _ROW_ORDER]
    content_text = json.dumps(content, ensure_ascii=False)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_INSERT, [*prepared, content_text, salt,
                                        [kind for kind, _i in subjects], [ident for _k, ident in subjects]])
            (pk,) = cursor.fetchone()
        else:
            raw = cursor.cursor  # the sqlite3 cursor: qmark parameters, no Django formatting
            raw.execute(_SQLITE_INSERTS[0], prepared)
            (pk,) = raw.fetchone()
            raw.execute(_SQLITE_INSERTS[1], (pk, content_text, salt))
            raw.executemany(_SQLITE_INSERTS[2], [(pk, kind, ident) for kind, ident in subjects])
            raw.execute(_SQLITE_INSERTS[3], (pk,))
    event = Event(pk=pk, **fields)
    event._state.adding, event._state.db = False, connection.alias
    return event


def erase_details(event: Event, *, actor: Any, reason: str, authorization: Any) -> Event:
    """Lawful erasure of one event's details (RET-6/RET-7): content and salt are replaced by an
    erasure marker naming the erasing event; the leaf is unchanged, so the log still verifies.

    Only the disposal services call this, with the disposal authorization they hold; the
    database allows exactly this change and no other (migration 0009).
    """
    if authorization is None:
        raise DomainError(_("没有处置授权，不能删除事件详情。"))
    with transaction.atomic():
        row = EventDetails.objects.select_for_update().get(event=event)
        if row.erased_by is not None:
            raise DomainError(_("该事件的详情已被删除。"))
        erasing = record_event(
            EventCode.DETAILS_ERASED, actor=actor, subject=event,
            also=[subject_ref(authorization)] if not isinstance(authorization, str) else (),
            details={"event": event.pk, "reason": reason[:200], "authorization": str(authorization)[:100]},
        )
        EventDetails.objects.filter(pk=row.pk).update(
            content={}, salt="", erased_by=erasing.pk, erased_at=erasing.occurred_at
        )
    return erasing


MAX_STORED_FINDINGS = 100


def verify_custody_chain(*, actor=None, trigger: str = CheckTrigger.COMMAND,
                         external_checkpoints: Iterable[str] = ()) -> ChainVerification:
    """Re-compute the whole log and store the result, even when the check could not run (promise 4).

    Pending events are integrated first, so the check covers everything committed. The result
    is itself appended to the log (``custody.chain_verified``).
    """
    from custody.checks import check_custody_log
    from custody.sequencer import integrate_all

    report = None
    try:
        integrate_all()
        report = check_custody_log(external_checkpoints=list(external_checkpoints))
        findings = report.findings
        status = CheckStatus.FAIL if findings else CheckStatus.PASS
        if findings:
            detail = _("共 %(n)s 处问题，首个：%(message)s") % {"n": len(findings), "message": findings[0].message}
        else:
            detail = _("默克尔树完整：%(n)s 个事件均与其叶子相符，%(c)s 个检查点与树一致。") % {
                "n": report.leaves, "c": report.checkpoints,
            }
            if report.erased:
                detail += _("其中 %(n)s 个事件的详情已依法删除。") % {"n": report.erased}
    except Exception as exc:  # a check that could not run still leaves a result
        logger.exception("custody log verification could not run")
        findings, status = [], CheckStatus.NOT_RUN
        # a domain error says why in Chinese; anything else is a library's English: the log has it
        reason = exc.message if isinstance(exc, DomainError) else _("读取保管链时出错，详见系统日志")
        detail = _("校验未能执行：%(reason)s。") % {"reason": reason.rstrip("。")}
    return _store_verification(actor=actor, trigger=trigger, status=status, detail=detail,
                               findings=findings, report=report)


def verification_not_started(*, actor, trigger: str, reason: str) -> ChainVerification:
    """A verification that could not even be handed to a worker (the queue is unreachable)
    is a result too (promise 4): stored as not run, with the reason."""
    detail = _("校验未能执行：%(reason)s。") % {"reason": reason.rstrip("。")}
    return _store_verification(actor=actor, trigger=trigger, status=CheckStatus.NOT_RUN,
                               detail=detail, findings=[], report=None)


def _store_verification(*, actor, trigger, status, detail, findings, report) -> ChainVerification:
    actor_id, actor_name = _actor_ref(actor, None)
    first = next((f for f in findings if f.seq is not None), None)
    with transaction.atomic():
        verification = ChainVerification.objects.create(
            checked_at=timezone.now(),
            actor=actor if actor_id else None,
            actor_name=actor_name,
            trigger=trigger,
            status=status,
            events_checked=report.leaves if report else 0,
            last_seq=report.leaves if report else None,
            last_hash=report.root_hex if report else "",
            first_broken_seq=first.seq if first else None,
            findings=[f.as_stored() for f in findings[:MAX_STORED_FINDINGS]],
            detail=detail,
        )
        record_event(
            EventCode.CHAIN_VERIFIED,
            actor=actor,
            subject=verification,
            details={
                "status": status.value,
                "trigger": trigger,
                "tree_size": verification.last_seq,
                "root": verification.last_hash,
                "first_broken_seq": verification.first_broken_seq,
                "findings": len(findings),
            },
        )
    return verification
