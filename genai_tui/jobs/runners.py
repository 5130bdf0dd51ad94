"""How each kind of job runs on the worker: engine calls in, session writes and events out."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache

from genai_tui import __version__
from genai_tui.jobs.events import (
    Event,
    ImageReady,
    JobWarning,
    ModelLoaded,
    ModelLoading,
    Progress,
)
from genai_tui.jobs.models_cache import ModelCache
from genai_tui.jobs.specs import GenerateJob, Job
from genai_tui.session.models import ImageRecord

Emit = Callable[[Event], None]


@cache
def library_versions() -> dict[str, str]:
    """Versions that shape the pixels, recorded with every image."""
    import diffusers
    import torch
    import transformers

    return {
        "genai-tui": __version__,
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
    }


def run_job(job: Job, models: ModelCache, emit: Emit, cancel: threading.Event) -> None:
    """Run one job to the end; raises Cancelled or whatever failed."""
    if isinstance(job, GenerateJob):
        run_generate(job, models, emit, cancel)
    else:  # pragma: no cover - the union grows with new job kinds
        raise TypeError(f"unknown job {job!r}")


def run_generate(job: GenerateJob, models: ModelCache, emit: Emit, cancel: threading.Event) -> None:
    """Load (or reuse) the model, generate, and save each image into the session as it lands."""
    from genai_tui.engine.generate import StepInfo, generate

    params = job.params.validate().with_seed()
    before = models.loaded

    def on_load(what: str, done: int | None, total: int | None) -> None:
        emit(ModelLoading(job.id, what, done, total))

    model = models.pipeline(job.model, job.load, on_load)
    if model is not before:
        emit(
            ModelLoaded(
                job.id, job.model, model.source.name, model.device, model.dtype, model.load_seconds
            )
        )

    def on_step(info: StepInfo) -> None:
        emit(Progress(job.id, info.step, info.total, info.elapsed, tuple(info.previews)))

    job.session.remember_prompt(params.prompt)
    job.session.set_model(job.model)
    result = generate(model, params, on_step, cancel)
    for warning in result.warnings:
        emit(JobWarning(job.id, warning))
    per_image = result.seconds / max(1, len(result.images))
    for made in result.images:
        record = ImageRecord(
            file="",
            prompt=params.prompt,
            negative_prompt=params.negative_prompt,
            steps=params.steps,
            cfg_scale=params.cfg_scale,
            seed=made.seed,
            width=result.width,
            height=result.height,
            scheduler=params.scheduler,
            clip_skip=params.clip_skip,
            model=job.model,
            model_name=model.source.name,
            model_hash=model.model_hash,
            time_taken=round(per_image, 3),
            device=model.device,
            dtype=model.dtype,
            versions=library_versions(),
        )
        saved = job.session.add_image(record, made.image, __version__)
        emit(ImageReady(job.id, saved, job.session.path / saved.file))
