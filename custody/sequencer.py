"""The sequencer: committed events get their leaf positions and enter the tree (Trillian's design).

``record_event`` only queues a ``PendingEvent`` inside the business transaction. After the
commit, ``kick_after_commit`` asks the worker to integrate (at most one request per process
every KICK_INTERVAL seconds; the running task keeps integrating while events keep coming, and a
periodic task catches anything left). ``integrate_pending`` is the one writer of ``Leaf`` and
``TreeNode``: one at a time (a PostgreSQL advisory lock; SQLite's write lock), in the order the
queued events became visible, i.e. commit order.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import connection, transaction
from django.utils import timezone

from custody import tree
from custody.entries import entry_leaf_hash
from custody.models import Leaf, PendingEvent
from custody.rows import event_rows

logger = logging.getLogger(__name__)

# Any fixed 64-bit number: one sequencer at a time on PostgreSQL (business writers never take it).
_PG_SEQUENCER_LOCK = 0x6176725F73657131
BATCH = 5000
KICK_INTERVAL = 0.25

_kick = threading.local()


def integrate_pending(batch: int = BATCH) -> int:
    """Give the oldest queued events their leaves and add them to the tree; returns how many."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_SEQUENCER_LOCK])
        ids = list(PendingEvent.objects.order_by("event_id").values_list("event_id", flat=True)[:batch])
        if not ids:
            return 0
        rows, subjects, _details = event_rows(ids, details=False)
        size = tree.tree_size()
        frontier = tree.frontier(size)
        now = Leaf._meta.get_field("integrated_at").get_db_prep_save(timezone.now(), connection)
        leaves, nodes = [], []
        for event_id in ids:
            row = rows.get(event_id)
            if row is None:  # queued but gone: verification reports the hole; never block the queue
                logger.error("custody sequencer: queued event %s does not exist", event_id)
                continue
            leaves.append((frontier.size, event_id, now))
            nodes += [
                (level, index, value.hex())
                for level, index, value in frontier.append(entry_leaf_hash(row, subjects.get(event_id, ())))
            ]
        # plain parameterised inserts: tens of thousands of rows per batch without building models
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO custody_leaf (\"index\", event_id, integrated_at) VALUES (%s, %s, %s)", leaves
            )
            cursor.executemany(
                "INSERT INTO custody_treenode (level, \"index\", hash) VALUES (%s, %s, %s)", nodes
            )
            # exactly these rows: a queued event committed meanwhile inside [lo, hi] stays queued
            if connection.vendor == "postgresql":
                cursor.execute("DELETE FROM custody_pendingevent WHERE event_id = ANY(%s)", [ids])
            else:
                cursor.executemany("DELETE FROM custody_pendingevent WHERE event_id = %s", [(i,) for i in ids])
    return len(ids)


def integrate_all() -> int:
    total = 0
    while n := integrate_pending():
        total += n
    return total


def kick_after_commit() -> None:
    """Ask for integration once the current transaction commits (debounced per thread)."""
    transaction.on_commit(_kick_now)


def _kick_now() -> None:
    """A skipped kick is safe: it falls within KICK_INTERVAL of one that started a task, and
    that task keeps polling for IDLE_POLLS × IDLE_POLL (> KICK_INTERVAL) before it stops.
    Inline (tests), a task does not poll, so every kick runs."""
    from huey.contrib.djhuey import HUEY

    from custody.tasks import integrate_log

    now = time.monotonic()
    if not HUEY.immediate and now - getattr(_kick, "last", 0.0) < KICK_INTERVAL:
        return
    _kick.last = now

    try:
        integrate_log()
    except Exception:  # the queue being unavailable must not fail a committed business change
        logger.exception("custody sequencer could not be scheduled; the periodic run will integrate")
