"""How a GenerateJob runs: the engine's images in, saved records and events out."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from genai_tui.jobs.context import JobContext
from genai_tui.jobs.events import ImageReady, JobWarning, Progress
from genai_tui.jobs.loading import load_model_for
from genai_tui.jobs.loras import resolve_loras
from genai_tui.jobs.records import MadeBy, image_record, save_image
from genai_tui.jobs.scoring import ranked_for, save_scored, scoring_of
from genai_tui.jobs.specs import GenerateJob
from genai_tui.session.models import ImageRecord


def run_generate(
    job: GenerateJob,
    ctx: JobContext,
    *,
    seeds: Sequence[int] | None = None,
    sweep: str | None = None,
    axes: Sequence[dict[str, str]] = (),
) -> list[ImageRecord]:
    """Load (or reuse) the model, generate, and save each image into the session as it lands.

    Then score the images with CLIP, and PickScore when it ranks (unless job.score is off);
    returns their final records.
    A sweep's batch passes its cells' `seeds` (one image each), its id and each cell's `axes`.
    """
    from genai_tui.engine.generate import StepInfo, generate

    store = ctx.store()
    params = job.params.validate().with_seed()
    params, lora_uses = resolve_loras(store, params)  # session names -> files
    model = load_model_for(ctx, job.model, job.load)
    ref = model.source.ref
    # Before any image: a PickScore that is not here fails the job; the demo's stand-in is said.
    scoring = ranked_for(ctx, scoring_of(job), ref) if job.score else scoring_of(job)

    def on_step(info: StepInfo) -> None:
        ctx.emit(
            Progress(
                ctx.job_id,
                info.step,
                info.total,
                info.elapsed,
                tuple(info.previews),
                info.preview_mode,
                info.preview_note,
            )
        )

    store.remember_prompt(params.prompt)
    store.set_model(ref)
    result = generate(model, params, on_step, ctx.cancel, preview=job.preview, seeds=seeds)
    for warning in result.warnings:
        ctx.emit(JobWarning(ctx.job_id, warning))
    per_image = result.seconds / max(1, len(result.images))
    made_by = MadeBy(ref, model.source.name, model.model_hash, model.device, model.dtype)
    made = [
        (
            image_record(
                params,
                seed=one.seed,
                width=result.width,
                height=result.height,
                made_by=made_by,
                loras=lora_uses,
                seconds=per_image,
                sweep=sweep,
                axes=axes[i] if i < len(axes) else None,
            ),
            one.image,
        )
        for i, one in enumerate(result.images)
    ]

    def save(record: ImageRecord, image: Image.Image) -> ImageRecord:
        saved = save_image(store, record, image)
        ctx.emit(ImageReady(ctx.job_id, saved, store.path / saved.file))
        return saved

    if not job.score:
        return [save(record, image) for record, image in made]
    return save_scored(ctx, scoring, ref, model.device, made, save)
