"""Ingest items: receiving a local file, and the state changes the pipeline makes.

State changes only: nothing here runs the pipeline or enqueues work (that is the
edge's job: ``ingest.tasks``, ``ingest.local``, ``ingest.views``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.digests import StreamingDigester
from custody.choices import EventCode
from custody.services import record_event
from ingest.choices import IngestSource, IngestStatus
from ingest.errors import ChecksumMismatchError
from ingest.filenames import raw_filename_text, sanitize_filename
from ingest.limits import check_not_empty
from ingest.metadata import clean_metadata, client_metadata
from ingest.models import IngestItem
from ingest.streams import iter_stream
from recordings.services import register_recording
from storage.backends import get_vault

logger = logging.getLogger(__name__)

# A running item beats every HEARTBEAT; one that has not beaten for STALLED_AFTER
# (AVR_INGEST_STALLED_SECONDS, default 3 minutes) lost its worker (killed, a crashed node) and is
# run again by the stalled sweep — its steps are idempotent.
STALLED_AFTER = timedelta(seconds=settings.INGEST_STALLED_SECONDS)
HEARTBEAT = min(timedelta(seconds=30), STALLED_AFTER / 6)


# --- local files (seed data, dock agent) ----------------------------------------


def receive_stream(
    stream, *, actor, filename, metadata: dict, source: str = IngestSource.SEED, raw_filename=None
) -> IngestItem:
    """A local file or byte stream, received like a finished upload (not yet processed).

    Bytes go to a vault staging file while SHA-256 and SM3 are computed in the
    same pass; the item is then ready for the pipeline (``ingest.local.ingest_stream``
    runs it at once).
    """
    raw = raw_filename if raw_filename is not None else filename
    values = metadata or {}
    cleaned = clean_metadata(values, actor=actor)
    staging = get_vault().staging(f"ing-{uuid.uuid4().hex}")
    try:
        with StreamingDigester() as digester:
            staging.append(iter_stream(stream), offset=0, on_written=digester.update)
            digests = digester.finish()
        check_not_empty(digests.size)
        declared = cleaned.get("sha256", "")
        if declared and declared != digests.sha256:
            raise ChecksumMismatchError(
                _("文件完整性校验失败：内容的 SHA-256 与声明的不一致，已整体拒绝。")
            )
    except BaseException:
        staging.discard()
        raise
    return receive_item(
        actor=actor,
        source=source,
        filename=sanitize_filename(filename),
        raw_filename=raw_filename_text(raw),
        metadata=cleaned,
        client_metadata=client_metadata(values),
        digests=digests,
        staging_name=staging.name,
    )


# --- ingest items (called by uploads and the pipeline) ----------------------------------


def receive_item(
    *,
    actor,
    source,
    filename,
    raw_filename,
    metadata: dict,
    digests,
    staging_name,
    upload=None,
    client_metadata: dict | None = None,
) -> IngestItem:
    """All bytes are in staging with their digests: the item the pipeline will run, and the
    UPLOAD_COMPLETED custody event (on the tus upload when there is one), in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        item = IngestItem.objects.create(
            upload=upload,
            source=source,
            filename=filename,
            raw_filename=raw_filename,
            size=digests.size,
            metadata=metadata,
            client_metadata=client_metadata or {},
            declared_sha256=metadata.get("sha256", ""),
            sha256=digests.sha256,
            sm3=digests.sm3,
            staging_name=staging_name,
            created_by=upload.created_by if upload is not None else actor,
            created_at=now,
            updated_at=now,
        )
        record_event(
            EventCode.UPLOAD_COMPLETED,
            actor=actor,
            subject=upload if upload is not None else item,
            details={
                "ingest_item": item.pk,
                "filename": filename,
                "raw_filename": raw_filename,
                "source": source,
                **digests.as_dict(),
                "metadata": metadata,
            },
        )
    return item


def begin_processing(item_id: int) -> IngestItem | None:
    """Mark an item as processing; None when it already finished (a repeated task is a no-op)."""
    with transaction.atomic():
        item = IngestItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None or item.is_final:
            return None
        item.status, item.updated_at = IngestStatus.PROCESSING, timezone.now()
        item.save(update_fields=["status", "updated_at"])
    return item


def attach_stored_object(item: IngestItem, stored_object) -> None:
    item.stored_object = stored_object
    item.updated_at = timezone.now()
    IngestItem.objects.filter(pk=item.pk).update(
        stored_object=stored_object, updated_at=item.updated_at
    )


def link_duplicate(item: IngestItem, *, actor, existing) -> None:
    """Same SHA-256 already catalogued: link, never store twice (ING-6)."""
    with transaction.atomic():
        item.duplicate_of = existing
        item.updated_at = timezone.now()
        IngestItem.objects.filter(pk=item.pk).update(
            duplicate_of=existing, updated_at=item.updated_at
        )
        record_event(
            EventCode.DUPLICATE_LINKED,
            actor=actor,
            subject=existing,
            details={
                "ingest_item": item.pk,
                "filename": item.filename,
                "raw_filename": item.raw_filename,
                "sha256": item.sha256,
                "uploaded_by": actor.pk if actor else None,
                "metadata": item.metadata,
            },
        )


def catalogue_item(item: IngestItem, *, actor, **recording_kwargs):
    """register_recording and the link from the item, in one transaction: never half-catalogued."""
    with transaction.atomic():
        recording = register_recording(actor=actor, **recording_kwargs)
        item.recording = recording
        item.updated_at = timezone.now()
        IngestItem.objects.filter(pk=item.pk).update(
            recording=recording, updated_at=item.updated_at
        )
    return recording


def finish_ingest_item(
    item: IngestItem, *, actor, status: str, message: str, steps: list
) -> IngestItem:
    """Final status, visible to the uploader; flagged and failed items leave a custody event."""
    now = timezone.now()
    with transaction.atomic():
        item.status, item.status_message = status, message[:500]
        item.steps, item.updated_at, item.finished_at = steps, now, now
        item.save(update_fields=["status", "status_message", "steps", "updated_at", "finished_at"])
        details = {
            "ingest_item": item.pk,
            "filename": item.filename,
            "reason": item.status_message,
            "sha256": item.sha256,
            "steps": steps,
        }
        subject = item.recording if item.recording_id else item
        if status == IngestStatus.FLAGGED:
            record_event(EventCode.INGEST_FLAGGED, actor=actor, subject=subject, details=details)
        elif status == IngestStatus.FAILED:
            record_event(EventCode.INGEST_FAILED, actor=actor, subject=subject, details=details)
    return item


@contextlib.contextmanager
def heartbeat(item_id: int):
    """While the block runs, keep ``IngestItem.updated_at`` fresh from a side thread, so a long
    step (a multi-GB commit, a probe) is never taken for a lost one."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT.total_seconds()):
                try:
                    _touch(item_id)
                except Exception:  # a missed beat is no error; several in a row are a stall
                    logger.warning("ingest item %s: heartbeat failed", item_id, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"ingest-heartbeat-{item_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _touch(item_id: int) -> None:
    IngestItem.objects.filter(pk=item_id, status=IngestStatus.PROCESSING).update(updated_at=timezone.now())


def defer_ingest_item(item: IngestItem, *, message: str, steps: list) -> IngestItem:
    """The vault was unreachable: back to received (not final), to be run again later."""
    now = timezone.now()
    item.status, item.status_message, item.steps, item.updated_at = (
        IngestStatus.RECEIVED, message[:500], steps, now)
    item.save(update_fields=["status", "status_message", "steps", "updated_at"])
    return item


def stalled_item_ids(*, now=None) -> list[int]:
    """Items whose task was lost (a crash, a queue outage): the queue edge runs them again
    (``ingest.tasks.requeue_stalled_items``); the steps are idempotent."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    return list(
        IngestItem.objects.filter(
            status__in=[IngestStatus.RECEIVED, IngestStatus.PROCESSING],
            updated_at__lt=cutoff,
        ).values_list("pk", flat=True)
    )
