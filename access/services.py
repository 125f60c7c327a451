"""The access register (ACC-2): every byte served belongs to a registered entry, with a custody event.

- ``register_access``: one entry and its custody event (access.viewed / played / downloaded).
- ``register_read``: an access that is its own entry (a download, a token-less request): the
  entry and the bytes of the response that made it, in one transaction.
- ``serve_under_ref``: the entry of one page view's derivative view (registered by its first
  request) and this response's bytes tied to it.
- ``serve_play``: one play pass of a page view's token: the first request registers it, later
  requests are tied to it, and a second full read (a whole-body response, or ranges adding up
  to more than the file) opens the next pass, a new entry.

Bytes are counted in append-only ``ServedRange`` rows, one per response, because the register
itself is append-only (no UPDATE of a counter on the entry).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from access.choices import AccessAction
from access.models import AccessEntry, ServedRange
from core.context import get_request_id
from custody.choices import EventCode
from custody.services import record_event


class AlreadyRegistered(Exception):
    """This page view's play (or derivative view) was registered before."""


_EVENT = {
    AccessAction.VIEW: EventCode.VIEWED,
    AccessAction.PLAY: EventCode.PLAYED,
    AccessAction.DOWNLOAD: EventCode.DOWNLOADED,
    # No code of its own in the custody vocabulary yet: a viewing, the details say of what.
    AccessAction.DERIVATIVE_VIEW: EventCode.VIEWED,
}


@dataclass(frozen=True)
class Span:
    """The bytes one response sends: ``first``..``last`` inclusive; ``whole`` for a 200."""

    first: int
    last: int
    whole: bool = False

    @property
    def length(self) -> int:
        return max(0, self.last - self.first + 1)


def ref_of(*parts: object) -> str:
    """What the register keeps of a token (and its pass or derivative): a hash, never the token."""
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:32]


def register_access(recording, *, actor, action: AccessAction | str, purpose: str = "", client: str = "",
                    approval_ref: str = "", play_ref: str = "", derivative_kind: str = "") -> AccessEntry:
    """Register one access. A ``play_ref`` already registered for this recording raises
    ``AlreadyRegistered`` and writes nothing (one entry per page view's play pass).

    The database's unique (recording, play_ref) constraint alone decides, so two parallel
    first requests of one page view register exactly once; no check-then-insert race.
    """
    action = AccessAction(action)
    try:
        return _register(recording, actor=actor, action=action, purpose=purpose, client=client,
                         approval_ref=approval_ref, play_ref=play_ref, derivative_kind=derivative_kind)
    except IntegrityError as exc:
        if play_ref and AccessEntry.objects.filter(recording=recording, play_ref=play_ref).exists():
            raise AlreadyRegistered(play_ref) from exc
        raise


_RULE_ACTION = {AccessAction.DERIVATIVE_VIEW: AccessAction.VIEW}


def _decision(recording, actor, action):
    """The rule (or grant) this access happens under: the one the read was allowed by
    (``recordings.selectors.get_recording`` attaches it), else decided now."""
    from access.rules import decide

    decision = getattr(recording, "access_decision", None)
    if decision is None:
        decision = decide(actor, recording, _RULE_ACTION.get(action, action))
    return decision


def _register(recording, *, actor, action, purpose, client, approval_ref, play_ref, derivative_kind) -> AccessEntry:
    decision = _decision(recording, actor, action)
    grant = decision.request
    if grant is not None:
        # the purpose and approval are the request's (ACC-2: why, under which approval)
        purpose = purpose or grant.purpose
        approval_ref = approval_ref or grant.ref
    elif not purpose:
        purpose = getattr(recording, "access_purpose", "") or ""
    with transaction.atomic():
        entry = AccessEntry.objects.create(
            occurred_at=timezone.now(),
            person=actor,
            person_name=actor.display_name,
            recording=recording,
            action=action,
            purpose=purpose[:500],
            approval_ref=approval_ref,
            request_id=get_request_id(),
            client=client[:200],
            play_ref=play_ref,
            derivative_kind=derivative_kind[:16],
            basis=decision.basis[:32] if decision.allowed else "",
        )
        details = {"purpose": entry.purpose, "approval_ref": approval_ref, "access_entry": entry.pk,
                   "rule": entry.basis}
        if action == AccessAction.DERIVATIVE_VIEW:
            details["action"] = action.value
        if derivative_kind:
            details["kind"] = entry.derivative_kind
        # the entry is a subject too: the link is in the leaf, so the register cross-check holds
        # even after the details are lawfully erased
        record_event(_EVENT[action], actor=actor, subject=recording, also=[entry], details=details)
    return entry


def record_served(entry: AccessEntry | int, span: Span, *, served_before: int | None = None) -> ServedRange:
    """Count one response's bytes on ``entry`` (an append-only row). The row also carries the
    entry's running total (``served_after``), so "bytes served so far" is one index probe
    (``served_so_far``) instead of a sum over every earlier response of a long playback."""
    entry_id = entry if isinstance(entry, int) else entry.pk
    if served_before is None:
        served_before = served_so_far(entry_id)
    return ServedRange.objects.create(
        entry_id=entry_id,
        occurred_at=timezone.now(),
        first_byte=span.first,
        last_byte=span.last,
        length=span.length,
        whole=span.whole,
        request_id=get_request_id(),
        served_after=served_before + span.length,
    )


def bytes_served(entry: AccessEntry | int) -> int:
    """The exact bytes served under ``entry``: the sum of its rows (what an auditor counts)."""
    entry_id = entry if isinstance(entry, int) else entry.pk
    return ServedRange.objects.filter(entry_id=entry_id).aggregate(total=Sum("length"))["total"] or 0


def _latest_total(entry_ref):
    return (
        ServedRange.objects.filter(entry_id=entry_ref, served_after__isnull=False)
        .order_by("-served_after").values("served_after")[:1]
    )


def served_so_far(entry: AccessEntry | int) -> int:
    """Bytes served under ``entry`` so far, for deciding where a play pass ends: the newest
    running total (one probe of the (entry, served_after) index). Two responses of one page
    view counted at the same instant may both start from the same total, so this can lag the
    exact sum by a response — it only moves a pass boundary; ``bytes_served`` stays exact.
    Rows written before the running total existed are summed instead."""
    entry_id = entry if isinstance(entry, int) else entry.pk
    total = _latest_total(entry_id).values_list("served_after", flat=True).first()
    return bytes_served(entry_id) if total is None else total


def register_read(recording, *, actor, action: AccessAction | str, span: Span, purpose: str = "",
                  client: str = "", derivative_kind: str = "") -> AccessEntry:
    """An access that is its own entry: registered with the bytes of the response that made it."""
    with transaction.atomic():
        entry = register_access(recording, actor=actor, action=action, purpose=purpose, client=client,
                                derivative_kind=derivative_kind)
        record_served(entry, span)
    return entry


def _entry_for_ref(recording, *, actor, action, play_ref, client, derivative_kind) -> tuple[AccessEntry, bool]:
    """The entry registered under ``play_ref``, registering it now if new (True when new).
    A found entry carries ``served``, the bytes served under it so far (read in the same query)."""
    entry = (
        AccessEntry.objects.filter(recording=recording, play_ref=play_ref)
        .annotate(served=Subquery(_latest_total(OuterRef("pk"))))
        .first()
    )
    if entry is not None:
        if entry.served is None:  # nothing counted yet, or only rows older than the running total
            entry.served = bytes_served(entry)
        return entry, False
    try:
        entry = register_access(recording, actor=actor, action=action, client=client, play_ref=play_ref,
                                derivative_kind=derivative_kind)
        entry.served = 0
        return entry, True
    except AlreadyRegistered:  # a parallel request of the same page view won the insert
        entry = AccessEntry.objects.get(recording=recording, play_ref=play_ref)
        entry.served = served_so_far(entry)
        return entry, False


def serve_under_ref(recording, *, actor, action: AccessAction | str, play_ref: str, span: Span | None,
                    client: str = "", derivative_kind: str = "") -> AccessEntry:
    """One entry per ``play_ref`` (registered by its first request); ``span`` tied to it."""
    entry, _new = _entry_for_ref(recording, actor=actor, action=AccessAction(action), play_ref=play_ref,
                                 client=client, derivative_kind=derivative_kind)
    if span is not None:
        record_served(entry, span, served_before=entry.served)
    return entry


def _fits(served: int, span: Span, size: int) -> bool:
    """Whether ``span`` still belongs to a pass that has served ``served`` bytes of a ``size`` file."""
    if span.whole:
        return served == 0
    return served + span.length <= size


def _count_on_known_pass(recording, play_ref: str, span: Span, size: int) -> int | None:
    """The steady state of a playback in one statement: append ``span`` to the pass already
    registered under ``play_ref`` if it still fits there, with its running total; the entry's
    id, or None (no such pass yet, it is full, or it has rows older than the running total) —
    then ``serve_play`` takes the general path. One round trip and no model instances per
    Range request: the register is written on every one of them (bench/access.py)."""
    served_t, entry_t = ServedRange._meta.db_table, AccessEntry._meta.db_table
    total = (f"COALESCE((SELECT s.served_after FROM {served_t} s WHERE s.entry_id = e.id"
             f" AND s.served_after IS NOT NULL ORDER BY s.served_after DESC LIMIT 1), 0)")
    fits = f"{total} = 0" if span.whole else f"{total} + %s <= %s"
    sql = (
        f"INSERT INTO {served_t} (entry_id, occurred_at, first_byte, last_byte, length, whole, request_id,"
        f" served_after) SELECT e.id, %s, %s, %s, %s, %s, %s, {total} + %s FROM {entry_t} e"
        f" WHERE e.recording_id = %s AND e.play_ref = %s AND {fits}"
        f" AND NOT EXISTS (SELECT 1 FROM {served_t} o WHERE o.entry_id = e.id AND o.served_after IS NULL)"
        f" RETURNING entry_id"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [now, span.first, span.last, span.length, span.whole, get_request_id(), span.length,
              recording.pk, play_ref]
    if not span.whole:
        params += [span.length, size]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def serve_play(recording, *, actor, ref_for: Callable[[int], str], pass_no: int, span: Span | None,
               size: int, client: str = "", derivative_kind: str = "") -> tuple[int, int]:
    """Tie ``span`` to play pass ``pass_no`` (registered by its first request), or to the next
    pass when it would be a second full read; returns the entry's id and its pass number.

    A pass stands for one read of the file: a whole-body response belongs only to a pass that
    has served nothing yet, and ranges only while the bytes served under the pass stay within
    the file's size. Seeking in a long recording served in short ranges stays in one pass;
    reading the file again (whole, or range by range) opens a new entry. ``span=None`` (the
    player said it started) registers the pass and counts nothing.
    """
    if span is not None:
        entry_id = _count_on_known_pass(recording, ref_for(pass_no), span, size)
        if entry_id is not None:
            return entry_id, pass_no
    while True:
        entry, new = _entry_for_ref(recording, actor=actor, action=AccessAction.PLAY,
                                    play_ref=ref_for(pass_no), client=client, derivative_kind=derivative_kind)
        if span is None:
            return entry.pk, pass_no
        if new or _fits(entry.served, span, size):
            record_served(entry, span, served_before=entry.served)
            return entry.pk, pass_no
        pass_no += 1


def record_register_export(*, actor, filters: dict, rows: int, truncated: bool) -> None:
    """The audit administrator took the register out of the platform: one custody event
    saying who, how many rows and under which filters (ACC-2, ACC-5)."""
    with transaction.atomic():
        record_event(
            EventCode.REGISTER_EXPORTED,
            actor=actor,
            subject=("access_register", ""),
            details={"rows": rows, "truncated": truncated, "filters": filters},
        )
