"""Proof bundles (docs/custody-log.md §4): the events of one subject with their inclusion
proofs against a checkpoint, the details to check, and how the last witnessed checkpoint
leads to it. The evidence disc carries one per record; ``custody/verifier`` checks it offline.
"""

from __future__ import annotations

from django.conf import settings

from core.choices import CheckTrigger
from custody import tree
from custody.checkpoints import cosigned_note, last_witnessed_checkpoint, make_checkpoint
from custody.choices import EventCode
from custody.entries import entry_fields
from custody.keys import Ed25519LogKey, signing_keys
from custody.models import Checkpoint, EventSubject, Leaf
from custody.rows import event_rows
from custody.services import record_event
from custody.verifier import note
from custody.verifier.check import BUNDLE_FORMAT

MAX_BUNDLE_EVENTS = 20000


def subject_event_ids(subject_type: str, subject_id: str, *, limit: int = MAX_BUNDLE_EVENTS) -> list[int]:
    return list(
        EventSubject.objects.filter(subject_type=subject_type, subject_id=subject_id)
        .order_by("event_id").values_list("event_id", flat=True)[:limit]
    )


def bundle_for_events(event_ids: list[int], checkpoint: Checkpoint | None = None) -> dict:
    """A bundle of these events against ``checkpoint`` (a fresh one on demand by default).

    Events that joined the tree after the checkpoint are left out; ``pending`` counts them.
    """
    checkpoint = checkpoint or make_checkpoint(trigger=CheckTrigger.BUNDLE)
    size = checkpoint.size
    leaves = dict(Leaf.objects.filter(event_id__in=event_ids, index__lt=size).values_list("event_id", "index"))
    rows, subjects, details = event_rows(leaves)
    entries = []
    for event_id in sorted(leaves, key=leaves.get):
        index = leaves[event_id]
        item = {
            "leaf_index": index,
            "event": event_id,
            "entry": entry_fields(rows[event_id], subjects.get(event_id, ())),
            "inclusion_proof": [note.b64encode(h) for h in tree.inclusion_proof(index, size)],
        }
        row = details.get(event_id)
        if row is not None and row["erased_by"] is not None:
            item["details_erased"] = {"by_event": row["erased_by"]}
        elif row is not None:
            item["details"] = row["content"]
            item["details_salt"] = note.b64encode(bytes.fromhex(row["salt"]))
        entries.append(item)
    consistency = []
    witnessed = last_witnessed_checkpoint()
    if witnessed is not None and 0 < witnessed.size < size:
        consistency.append({
            "checkpoint": cosigned_note(witnessed),
            "proof": [note.b64encode(h) for h in tree.consistency_proof(witnessed.size, size)],
        })
    return {
        "format": BUNDLE_FORMAT,
        "keys": public_keys(),
        "checkpoint": cosigned_note(checkpoint),
        "consistency": consistency,
        "entries": entries,
        "pending": len(event_ids) - len(entries),
    }


def public_keys() -> list[str]:
    """The keys a bundle names: the log's Ed25519 key and the registered witnesses'."""
    keys = [k.verifier.text() for k in signing_keys() if isinstance(k, Ed25519LogKey)]
    return keys + list(settings.LOG_WITNESSES)


def subject_bundle(subject_type: str, subject_id: str, *, actor) -> dict:
    """The bundle of one subject's events; taking it out of the platform is itself an event."""
    checkpoint = make_checkpoint(actor=actor, trigger=CheckTrigger.BUNDLE)
    bundle = bundle_for_events(subject_event_ids(subject_type, subject_id), checkpoint)
    bundle["subject"] = [subject_type, subject_id]
    record_event(EventCode.BUNDLE_EXPORTED, actor=actor, subject=(subject_type, subject_id),
                 details={"tree_size": checkpoint.size, "rows": len(bundle["entries"])})
    return bundle
