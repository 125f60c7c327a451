"""The access register (ACC-2): every byte served is registered, with a custody event."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from access.choices import AccessAction
from access.models import AccessEntry
from core.context import get_request_id
from custody.choices import EventCode
from custody.services import record_event

_EVENT = {
    AccessAction.VIEW: EventCode.VIEWED,
    AccessAction.PLAY: EventCode.PLAYED,
    AccessAction.DOWNLOAD: EventCode.DOWNLOADED,
}


def register_access(recording, *, actor, action: AccessAction | str, purpose: str = "", client: str = "",
                    approval_ref: str = "") -> AccessEntry:
    action = AccessAction(action)
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
        )
        record_event(
            _EVENT[action],
            actor=actor,
            subject=recording,
            details={"purpose": entry.purpose, "approval_ref": approval_ref, "access_entry": entry.pk},
        )
    return entry
