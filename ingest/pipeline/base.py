"""The contract every ingest step follows (habit 3).

A step says whether it applies (``can_run``), does one thing (``run``), and
tidies up after itself whatever happened (``cleanup``). To end the pipeline
early with a final status it raises ``StopPipeline``. A step marked
``required = False`` may fail without failing the item (poster, proxy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class PipelineContext:
    item: IngestItem
    actor: Any
    digests: Digests
    stored_object: Any = None  # storage.models.StoredObject
    local_path: str | None = None
    media: MediaInfo | None = None
    metadata: RecordingMetadata | None = None
    recording: Any = None  # recordings.models.Recording
    flags: list[str] = field(default_factory=list)  # Chinese reasons that make the item "flagged"
    notes: dict[str, str] = field(default_factory=dict)  # per-step remarks shown with the steps
    resources: list[Any] = field(default_factory=list)  # context managers to close in cleanup


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
