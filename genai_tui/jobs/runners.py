"""Which function runs each kind of job; the worker calls `run_job` and nothing else."""

from __future__ import annotations

from genai_tui.jobs.best_of import run_best_of
from genai_tui.jobs.checkpoint_export import run_export_checkpoint
from genai_tui.jobs.context import JobContext
from genai_tui.jobs.generation import run_generate
from genai_tui.jobs.loading import load_model_for
from genai_tui.jobs.scoring import run_score
from genai_tui.jobs.specs import (
    ExportCheckpointJob,
    GenerateJob,
    Job,
    LoadModelJob,
    ScoreJob,
    SweepJob,
    TrainJob,
)
from genai_tui.jobs.sweep import run_sweep
from genai_tui.jobs.training import run_train


def run_job(job: Job, ctx: JobContext) -> None:
    """Run one job to the end; raises Cancelled or whatever failed."""
    if isinstance(job, GenerateJob) and job.best_of is not None:
        run_best_of(job, ctx)
    elif isinstance(job, GenerateJob):
        run_generate(job, ctx)
    elif isinstance(job, SweepJob):
        run_sweep(job, ctx)
    elif isinstance(job, ScoreJob):
        run_score(job, ctx)
    elif isinstance(job, TrainJob):
        run_train(job, ctx)
    elif isinstance(job, ExportCheckpointJob):
        run_export_checkpoint(job, ctx)
    elif isinstance(job, LoadModelJob):
        load_model_for(ctx, job.model, job.load)
    else:  # pragma: no cover - the union grows with new job kinds
        raise TypeError(f"unknown job {job!r}")
