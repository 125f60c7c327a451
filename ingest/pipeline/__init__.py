"""The ingest pipeline: ordered small steps under one contract (habit 3)."""

from ingest.pipeline.base import PipelineContext, Step, StopPipeline
from ingest.pipeline.runner import run_pipeline
from ingest.pipeline.steps import DEFAULT_STEPS, default_steps

__all__ = [
    "DEFAULT_STEPS",
    "PipelineContext",
    "Step",
    "StopPipeline",
    "default_steps",
    "run_pipeline",
]
