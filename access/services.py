"""The access register (ACC-2): every byte served is registered, with a custody event."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from access.choices import AccessAction
from access.models import AccessEntry
from core.context import get_request_id
from custody.choices import EventCode
from custody.services import record_event


class AlreadyRegistered(Exception):
    """This page view's play was registered before."""


_EVENT = {
    AccessAction.VIEW: EventCode.VIEWED,
    AccessAction.PLAY: EventCode.PLAYED,
    AccessAction.DOWNLOAD: EventCode.DOWNLOADED,
}


def register_access(recording, *, actor, action: AccessAction | str, purpose: str = "", client: str = "",
                    approval_ref: str = "", play_ref: str = "") -> AccessEntry:
    """Register one access. A ``play_ref`` already registered for this recording raises
    ``AlreadyRegistered`` and writes nothing (one play per page view).

    The database's unique (recording, play_ref) constraint alone decides, so two parallel
    first requests of one page view register exactly once; no check-then-insert race.
    """
    action = AccessAction(action)
    try:
        return _register(recording, actor=actor, action=action, purpose=purpose, client=client,
                         approval_ref=approval_ref, play_ref=play_ref)
    except IntegrityError as exc:
        if play_ref and AccessEntry.objects.filter(recording=recording, play_ref=play_ref).exists():
            raise AlreadyRegistered(play_ref) from exc
        raise


def _register(recording, *, actor, action, purpose, client, approval_ref, play_ref) -> AccessEntry:
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
        )
        record_event(
            _EVENT[action],
            actor=actor,
            subject=recording,
            details={"purpose": entry.purpose, "approval_ref": approval_ref, "access_entry": entry.pk},
        )
    return entry
