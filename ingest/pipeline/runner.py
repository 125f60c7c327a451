"""Run the steps in order for one ingest item; the task only calls this (habit 3)."""

from __future__ import annotations

import logging
import time

from django.utils.translation import gettext as _

from core.errors import DomainError
from ingest import services
from ingest.choices import IngestStatus
from ingest.models import IngestItem
from ingest.pipeline.base import PipelineContext, PipelineRun, Step, StopPipeline
from ingest.pipeline.steps import cleanup_resources, default_steps, lateness_reason
from storage.backends.base import VaultUnavailableError

logger = logging.getLogger(__name__)

# The vault could not be reached (S3 down, a wrong key being fixed): the item is not failed — its
# bytes are safe in staging — but waits and is run again (the task edge schedules it; the stalled
# sweep is the backstop).
RETRY_AFTER_SECONDS = 60


def _describe(exc: Exception) -> str:
    """What a person reads: Chinese only. The exception type goes to the step record and the log."""
    if isinstance(exc, DomainError) and exc.message:
        return exc.message
    return _("内部错误，已记录日志。")


def run_pipeline(item_id: int, steps: list[Step] | None = None) -> PipelineRun:
    """received → processing → stored | flagged | failed. Repeating a finished item changes nothing.

    Returns the finished item and the follow-up work its steps asked for; the caller at the
    edge (``ingest.tasks``, ``ingest.local``) enqueues that after commit.
    """
    item = services.begin_processing(item_id)
    if item is None:
        return PipelineRun(IngestItem.objects.get(pk=item_id))
    ctx = PipelineContext(item=item, actor=item.created_by, digests=item.digests)
    if item.stored_object_id:
        ctx.stored_object = item.stored_object
    if item.recording_id:
        ctx.recording = item.recording
    records: list[dict] = []
    final: tuple[str, str] | None = None
    retry = None
    try:
        with services.heartbeat(item.pk):
            final, retry = _run_steps(item, ctx, steps, records)
    finally:
        cleanup_resources(ctx)
    if retry is not None:
        item = services.defer_ingest_item(item, message=retry, steps=records)
        return PipelineRun(item, retry_after=RETRY_AFTER_SECONDS)
    if final is None:
        reasons = []
        if ctx.recording is not None and ctx.recording.flagged:
            reasons.append(ctx.recording.flag_reason)
        late = lateness_reason(ctx)
        if late:
            reasons.append(late)
        if reasons:
            final = (IngestStatus.FLAGGED, "；".join(reasons))
        else:
            final = (IngestStatus.STORED, _("已入库。"))
    status, message = final
    item = services.finish_ingest_item(
        item, actor=ctx.actor, status=status, message=message, steps=records
    )
    return PipelineRun(item, tuple(ctx.followups))


def _run_steps(item, ctx: PipelineContext, steps, records: list[dict]):
    """The steps in order; returns (final status and message or None, retry message or None)."""
    final: tuple[str, str] | None = None
    retry = None
    for step in steps if steps is not None else default_steps():
        started = time.monotonic()
        if not step.can_run(ctx):
            records.append({"name": step.name, "outcome": "skipped", "ms": 0})
            continue
        outcome, message, error = "ok", "", ""
        try:
            step.run(ctx)
        except StopPipeline as stop:
            outcome, message = "stopped", stop.reason
            final = (stop.status, stop.reason)
        except VaultUnavailableError as exc:
            outcome, message, error = "deferred", _describe(exc), type(exc).__name__
            if step.required:
                logger.warning("ingest item %s: step %s waits for the vault: %s", item.pk, step.name, exc)
                retry = _("文件库暂时无法访问，原始数据安全保存在暂存区，稍后自动重试：%(reason)s") % {
                    "reason": message}
            else:  # an optional step (poster, proxy) is only noted, as any of its errors
                outcome = "error"
        except Exception as exc:
            logger.exception("ingest item %s: step %s failed", item.pk, step.name)
            outcome, message, error = "error", _describe(exc), type(exc).__name__
            if step.required:
                label = str(step.label or step.name)
                if ctx.stored_object is not None:
                    final = (
                        IngestStatus.FLAGGED,
                        _("原始文件已安全保存，但“%(step)s”未完成：%(reason)s")
                        % {"step": label, "reason": message},
                    )
                else:
                    final = (
                        IngestStatus.FAILED,
                        _("“%(step)s”失败：%(reason)s") % {"step": label, "reason": message},
                    )
        finally:
            try:
                step.cleanup(ctx)
            except Exception:
                logger.exception("ingest item %s: cleanup of %s failed", item.pk, step.name)
        record = {
            "name": step.name,
            "outcome": outcome,
            "ms": round((time.monotonic() - started) * 1000),
        }
        if message or ctx.notes.get(step.name):
            record["message"] = (message or ctx.notes.get(step.name, ""))[:300]
        if error:
            record["error"] = error  # technical detail, for the log reader and the API
        records.append(record)
        if final is not None:
            break
        if retry is not None:
            break
    return final, retry
