"""The queue edge: thin Huey tasks that take ids (habit 2), and the enqueue helpers.

Services change state and the pipeline orchestrates; neither enqueues anything.
Work they report (a finished upload, a pipeline's follow-ups) is enqueued here,
after the transaction that made it commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from core.context import correlation, get_request_id
from ingest import services
from ingest.pipeline import FollowUp, FollowUpKind, PipelineRun, run_pipeline

logger = logging.getLogger(__name__)


@db_task()
def run_ingest_item_task(item_id: int, request_id: str = "") -> None:
    with correlation(request_id or None):
        process_item(item_id)


@db_task()
def make_proxy_task(recording_id: int, request_id: str = "") -> None:
    with correlation(request_id or None):
        services.create_proxy(recording_id)


def process_item(item_id: int) -> PipelineRun:
    """Run the pipeline for one item now, then enqueue what its steps asked for — or, when the
    vault was unreachable, the same item again a little later."""
    run = run_pipeline(item_id)
    enqueue_followups(run.followups)
    if run.retry_after is not None:
        transaction.on_commit(partial(_retry_later, item_id, run.retry_after))
    return run


def _submit(what: str, send) -> None:
    """Put work on the queue; a queue that cannot be reached (Redis down) is logged, never
    raised: the state change it follows has committed, and the request that made it must not
    answer 500. An ingest item left waiting is run by the stalled-item sweep once the queue is
    back (``requeue_stalled_items``)."""
    try:
        send()
    except Exception:
        logger.exception("could not enqueue %s; the periodic sweep will pick it up", what)


def _retry_later(item_id: int, delay: int) -> None:
    _submit(f"ingest item {item_id} (retry)", lambda: run_ingest_item_task.schedule(
        (item_id,), {"request_id": get_request_id()}, delay=delay))


def enqueue_pipeline(item_id: int) -> None:
    _submit(f"ingest item {item_id}",
            lambda: run_ingest_item_task(item_id, request_id=get_request_id()))


def enqueue_pipeline_on_commit(item_id: int) -> None:
    """A received item is processed once the transaction that recorded it commits."""
    transaction.on_commit(partial(enqueue_pipeline, item_id))


def enqueue_proxy(recording_id: int) -> None:
    _submit(f"proxy of recording {recording_id}",
            lambda: make_proxy_task(recording_id, request_id=get_request_id()))


_ENQUEUE = {FollowUpKind.PROXY: enqueue_proxy}  # every FollowUpKind has its task here


def enqueue_followups(followups: Iterable[FollowUp]) -> None:
    """Each follow-up becomes a task after commit (at once when no transaction is open)."""
    for followup in followups:
        transaction.on_commit(partial(_ENQUEUE[followup.kind], followup.object_id))


def requeue_stalled_items(*, now=None) -> int:
    """Items whose task was lost (a crash, a queue outage) are run again; steps are idempotent."""
    ids = services.stalled_item_ids(now=now)
    for item_id in ids:
        enqueue_pipeline(item_id)
    return len(ids)


@db_periodic_task(crontab(minute="*/15"))
def expire_stale_uploads_task() -> None:
    with correlation():
        services.expire_stale_uploads()


@db_periodic_task(crontab(minute="*/2"))
def requeue_stalled_items_task() -> None:
    with correlation():
        requeue_stalled_items()
