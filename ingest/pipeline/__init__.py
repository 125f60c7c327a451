"""The ingest pipeline: ordered small steps under one contract (habit 3).

Orchestration only: it calls ``ingest.services`` for every state change and
reports follow-up work (``FollowUp``) instead of enqueueing it.
"""

from ingest.pipeline.base import (
    FollowUp,
    FollowUpKind,
    PipelineContext,
    PipelineRun,
    Step,
    StopPipeline,
)
from ingest.pipeline.runner import run_pipeline
from ingest.pipeline.steps import DEFAULT_STEPS, default_steps

__all__ = [
    "DEFAULT_STEPS",
    "FollowUp",
    "FollowUpKind",
    "PipelineContext",
    "PipelineRun",
    "Step",
    "StopPipeline",
    "default_steps",
    "run_pipeline",
]
