"""Thin Huey tasks: they take ids and call services (habit 2)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from core.context import correlation, get_request_id


@db_task()
def run_ingest_item_task(item_id: int, request_id: str = "") -> None:
    from ingest.pipeline import run_pipeline

    with correlation(request_id or None):
        run_pipeline(item_id)


@db_task()
def make_proxy_task(recording_id: int, request_id: str = "") -> None:
    from ingest.services import create_proxy

    with correlation(request_id or None):
        create_proxy(recording_id)


def enqueue_proxy(recording_id: int) -> None:
    make_proxy_task(recording_id, request_id=get_request_id())


@db_periodic_task(crontab(minute="*/15"))
def expire_stale_uploads_task() -> None:
    from ingest.services import expire_stale_uploads

    with correlation():
        expire_stale_uploads()


@db_periodic_task(crontab(minute="*/10"))
def requeue_stalled_items_task() -> None:
    from ingest.services import requeue_stalled_items

    with correlation():
        requeue_stalled_items()
