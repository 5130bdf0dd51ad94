"""How each kind of job runs on the worker: engine calls in, session writes and events out."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from PIL import Image

from genai_tui import __version__
from genai_tui.engine.params import LoadOptions
from genai_tui.engine.schedulers import infotext_names
from genai_tui.jobs.best_of import run_best_of
from genai_tui.jobs.events import (
    Event,
    ImageReady,
    JobWarning,
    ModelLoaded,
    ModelLoading,
    Progress,
)
from genai_tui.jobs.loras import resolve_loras
from genai_tui.jobs.models_cache import ModelCache
from genai_tui.jobs.scoring import run_score, score_new_images
from genai_tui.jobs.specs import GenerateJob, Job, LoadModelJob, ScoreJob, TrainJob
from genai_tui.session.models import ImageRecord

if TYPE_CHECKING:
    from genai_tui.engine.models import LoadedModel

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
    if isinstance(job, ScoreJob):
        run_score(job, models, emit, cancel)
        return
    if isinstance(job, GenerateJob) and job.best_of is not None:
        # run_generate is passed in (not imported there) so best_of never imports this module.
        run_best_of(job, models, emit, cancel, run_generate)
        return
    if isinstance(job, GenerateJob):
        run_generate(job, models, emit, cancel)
    elif isinstance(job, TrainJob):
        from genai_tui.jobs.training import run_train

        run_train(job, models, emit, cancel)
    elif isinstance(job, LoadModelJob):
        load_model_for(job.id, job.model, job.load, models, emit)
    else:  # pragma: no cover - the union grows with new job kinds
        raise TypeError(f"unknown job {job!r}")


def load_model_for(
    job_id: str, ref: str | None, options: LoadOptions, models: ModelCache, emit: Emit
) -> LoadedModel:
    """The model for `ref` (None: the loaded one, else the machine's default), loading if needed."""
    if ref is None and models.loaded is not None:
        ref = models.loaded.source.ref
    elif ref is None:
        from genai_tui.engine.models import default_model_ref

        ref = default_model_ref()
    before = models.loaded

    def on_load(what: str, done: int | None, total: int | None) -> None:
        emit(ModelLoading(job_id, what, done, total))

    model = models.pipeline(ref, options, on_load)
    if model is not before:
        emit(
            ModelLoaded(
                job_id, ref, model.source.name, model.device, model.dtype, model.load_seconds
            )
        )
    return model


def run_generate(
    job: GenerateJob, models: ModelCache, emit: Emit, cancel: threading.Event
) -> list[ImageRecord]:
    """Load (or reuse) the model, generate, and save each image into the session as it lands.

    Then score the images with CLIP (unless job.score is off); returns their final records.
    """
    from genai_tui.engine.generate import StepInfo, generate

    params = job.params.validate().with_seed()
    params, lora_uses = resolve_loras(job.session, params)  # session names -> files
    model = load_model_for(job.id, job.model, job.load, models, emit)
    ref = model.source.ref

    def on_step(info: StepInfo) -> None:
        emit(Progress(job.id, info.step, info.total, info.elapsed, tuple(info.previews)))

    job.session.remember_prompt(params.prompt)
    job.session.set_model(ref)
    result = generate(model, params, on_step, cancel)
    for warning in result.warnings:
        emit(JobWarning(job.id, warning))
    per_image = result.seconds / max(1, len(result.images))
    landed: list[tuple[ImageRecord, Image.Image]] = []
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
            loras=lora_uses,
            model=ref,
            model_name=model.source.name,
            model_hash=model.model_hash,
            time_taken=round(per_image, 3),
            device=model.device,
            dtype=model.dtype,
            versions=library_versions(),
        )
        names = infotext_names(params.scheduler)
        saved = job.session.add_image(record, made.image, __version__, sampler_names=names)
        emit(ImageReady(job.id, saved, job.session.path / saved.file))
        landed.append((saved, made.image))
    return score_new_images(job, models, emit, landed, model)
