"""What a batch of events is made of, read in three queries: the event rows (the entry's
fields), their subject links and, when asked, their details rows.

One reader for the sequencer, the verification and the proof bundles, so all three build
entries from exactly the same rows.
"""

from __future__ import annotations

from custody.entries import ENTRY_ROW_FIELDS
from custody.models import Event, EventDetails, EventSubject


def event_rows(ids, *, details: bool = True):
    """(rows, subjects, details) keyed by event id. Read by id range when the ids are nearly
    contiguous (a batch of leaves or of the queue) rather than by a long IN list; scattered ids
    (reordered leaves, one subject's events) fall back to IN."""
    ids = list(ids)
    if not ids:
        return {}, {}, {}
    wanted = set(ids)
    lo, hi = min(ids), max(ids)
    if hi - lo < 4 * len(ids):
        ev = Event.objects.filter(pk__gte=lo, pk__lte=hi)
        sub = EventSubject.objects.filter(event_id__gte=lo, event_id__lte=hi)
        det = EventDetails.objects.filter(event_id__gte=lo, event_id__lte=hi)
    else:
        ev = Event.objects.filter(pk__in=ids)
        sub = EventSubject.objects.filter(event_id__in=ids)
        det = EventDetails.objects.filter(event_id__in=ids)
    rows = {r["id"]: r for r in ev.values("id", *ENTRY_ROW_FIELDS) if r["id"] in wanted}
    subjects: dict[int, list[tuple[str, str]]] = {}
    for event_id, kind, ident in sub.values_list("event_id", "subject_type", "subject_id"):
        if event_id in wanted:
            subjects.setdefault(event_id, []).append((kind, ident))
    found = {}
    if details:
        found = {d["event_id"]: d for d in det.values("event_id", "content", "salt", "erased_by")
                 if d["event_id"] in wanted}
    return rows, subjects, found
