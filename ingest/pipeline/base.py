"""The contract every ingest step follows (habit 3).

A step says whether it applies (``can_run``), does one thing (``run``), and
tidies up after itself whatever happened (``cleanup``). To end the pipeline
early with a final status it raises ``StopPipeline``. A step marked
``required = False`` may fail without failing the item (poster, proxy).

A step never enqueues work itself: it appends a ``FollowUp`` to
``ctx.followups`` and the queue edge (``ingest.tasks``) enqueues it after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.digests import Digests
    from ingest.models import IngestItem
    from recordings.data import MediaInfo, RecordingMetadata


class StopPipeline(Exception):
    """End the pipeline now with ``status`` (an IngestStatus) and a Chinese ``reason``."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = str(reason)


class FollowUpKind(StrEnum):
    PROXY = "proxy"  # transcode a recording browsers cannot play (ING-7)


@dataclass(frozen=True)
class FollowUp:
    """Work a step asks for once the item is finished, e.g. a proxy to make for a recording."""

    kind: FollowUpKind
    object_id: int


@dataclass
class PipelineContext:
    item: IngestItem
    actor: Any
    digests: Digests
    stored_object: Any = None  # storage.models.StoredObject
    media_source: Any = None  # a local path or a seekable reader (ingest.streams.media_source)
    media: MediaInfo | None = None
    metadata: RecordingMetadata | None = None
    recording: Any = None  # recordings.models.Recording
    flags: list[str] = field(default_factory=list)  # Chinese reasons that make the item "flagged"
    notes: dict[str, str] = field(default_factory=dict)  # per-step remarks shown with the steps
    resources: list[Any] = field(default_factory=list)  # context managers to close in cleanup
    followups: list[FollowUp] = field(default_factory=list)  # enqueued by the edge after commit


@dataclass(frozen=True)
class PipelineRun:
    """What one run of the pipeline produced: the finished item and the work it asks for."""

    item: IngestItem
    followups: tuple[FollowUp, ...] = ()
    retry_after: int | None = None  # seconds: the store was unreachable, run the item again then


class Step:
    name: str = "step"
    label: str = ""
    required: bool = True  # False: an error is noted and the pipeline continues

    def can_run(self, ctx: PipelineContext) -> bool:
        return True

    def run(self, ctx: PipelineContext) -> None:
        raise NotImplementedError

    def cleanup(self, ctx: PipelineContext) -> None:
        """Called after run() whether it succeeded or not."""
