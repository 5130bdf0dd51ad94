"""CLIP scoring on the worker: each new image as it lands, and a session's images on request.

Scores of images against their own prompts are stored in the records (session.json and the
PNG's genai-tui chunk). A "rank by text" score (ScoreJob with a text) is stored nowhere: it
belongs to that query, not to the image, and travels only in `ImagesScored.scores`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from genai_tui.engine.clip_refs import DEMO_CLIP, default_clip_ref
from genai_tui.engine.errors import BadInput
from genai_tui.jobs.context import JobContext
from genai_tui.jobs.events import ClipLoaded, ImagesScored, JobWarning, ModelLoading, Progress
from genai_tui.jobs.hints import describe, is_out_of_memory
from genai_tui.jobs.specs import ScoreJob
from genai_tui.session.models import ImageRecord
from genai_tui.session.store import SessionStore

if TYPE_CHECKING:
    from genai_tui.engine.clip import LoadedClip


def clip_for(ctx: JobContext, ref: str, device: str) -> LoadedClip:
    """The CLIP model `ref` on `device`, from the worker's cache or loaded now (with events)."""
    before = ctx.models.loaded_clip

    def on_load(what: str, done: int | None, total: int | None) -> None:
        ctx.emit(ModelLoading(ctx.job_id, what, done, total))

    clip = ctx.models.clip(ref, device, on_load)
    if clip is not before:
        ctx.emit(ClipLoaded(ctx.job_id, ref, clip.name, clip.device, clip.dtype, clip.load_seconds))
    return clip


def score_landed(
    ctx: JobContext,
    clip_ref: str | None,
    model_ref: str,
    device: str,
    landed: Sequence[tuple[ImageRecord, Image.Image]],
) -> list[ImageRecord]:
    """Score saved images of `model_ref` against their prompt with CLIP `clip_ref` (None: the
    default for that model and device); return their records, scored if it worked, and tell the
    UI with ImagesScored.

    The images are already on disk: any failure here (CLIP missing, offline, out of memory)
    becomes a JobWarning and the records are returned unscored.
    """
    from genai_tui.engine.clip import score_images

    records = [record for record, _ in landed]
    if not landed:
        return records
    ref = clip_ref or default_clip_ref(model_ref, device)
    store = ctx.store()
    try:
        clip = clip_for(ctx, ref, device)
        result = score_images(clip, [image for _, image in landed], [r.prompt for r in records])
        updated = [
            store.update_image(record.file, clip_score=score, clip_model=ref)
            for record, score in zip(records, result.scores, strict=True)
        ]
    except Exception as exc:
        if is_out_of_memory(exc):
            ctx.models.free_memory()
        _kind, error, hint = describe(exc)
        suffix = f" ({hint})" if hint else ""
        message = f"images saved but not scored with CLIP {ref}: {error}{suffix}"
        ctx.emit(JobWarning(ctx.job_id, message))
        return records
    for warning in result.warnings:
        ctx.emit(JobWarning(ctx.job_id, warning))
    scores = {r.file: r.clip_score for r in updated if r.clip_score is not None}
    ctx.emit(ImagesScored(ctx.job_id, tuple(updated), None, scores, ref))
    return updated


def run_score(job: ScoreJob, ctx: JobContext) -> None:
    """Score a session's images (against their prompts, or one text) and report ImagesScored.

    Against their prompts, the scores are written to every record once all are scored, so a
    cancelled job changes nothing. Against a text, no record is changed.
    """
    from genai_tui.engine.clip import score_images
    from genai_tui.engine.models import pick_device

    if job.text is not None and not job.text.strip():
        raise BadInput("the text to rank by is empty", hint="give a text, or none to use prompts")
    if job.batch_size < 1:
        raise BadInput(f"batch size must be at least 1 (got {job.batch_size})")
    session = job.session.session
    records = _chosen(session.images, job.files, job.session.name)
    device = pick_device()
    ref = job.clip or default_clip_ref(session.model or DEMO_CLIP, device)
    emit = ctx.emit
    if not records:
        emit(ImagesScored(ctx.job_id, (), job.text, {}, ref))
        return
    clip = clip_for(ctx, ref, device)
    started = time.perf_counter()
    scored: list[tuple[ImageRecord, float]] = []
    warned: set[str] = set()
    for start in range(0, len(records), job.batch_size):
        chunk: list[tuple[ImageRecord, Image.Image]] = []
        for record in records[start : start + job.batch_size]:
            image = _open(job.session, record, ctx)
            if image is not None:
                chunk.append((record, image))
        if chunk:
            texts = [job.text if job.text is not None else r.prompt for r, _ in chunk]
            result = score_images(
                clip,
                [image for _, image in chunk],
                texts,
                batch_size=job.batch_size,
                cancel=ctx.cancel,
            )
            scored += [(r, s) for (r, _), s in zip(chunk, result.scores, strict=True)]
            for warning in result.warnings:
                if warning not in warned:
                    warned.add(warning)
                    emit(JobWarning(ctx.job_id, warning))
        done = min(start + job.batch_size, len(records))
        emit(Progress(ctx.job_id, done, len(records), time.perf_counter() - started))
    scores = {record.file: score for record, score in scored}
    if job.text is None:
        out = [
            job.session.update_image(record.file, clip_score=score, clip_model=ref)
            for record, score in scored
        ]
    else:
        out = [record for record, _ in scored]
    emit(ImagesScored(ctx.job_id, tuple(out), job.text, scores, ref))


def _chosen(
    images: list[ImageRecord], files: tuple[str, ...] | None, session: str
) -> list[ImageRecord]:
    """The records to score: all of them (hidden ones too), or those named, in session order."""
    if files is None:
        return images
    known = {record.file for record in images}
    unknown = [file for file in files if file not in known]
    if unknown:
        raise BadInput(f'session "{session}" has no image {unknown[0]}')
    wanted = set(files)
    return [record for record in images if record.file in wanted]


def _open(store: SessionStore, record: ImageRecord, ctx: JobContext) -> Image.Image | None:
    """The image of a record, read fully into memory; None (and a warning) when unreadable."""
    root = store.path.resolve()
    path = (root / record.file).resolve()
    # session.json is user-editable: never read outside the session folder. One bad record
    # costs its own score only, not everyone's.
    if not path.is_relative_to(root):
        message = f"{record.file} was not scored: its path is outside the session folder"
        ctx.emit(JobWarning(ctx.job_id, message))
        return None
    try:
        with Image.open(Path(path)) as image:
            return image.convert("RGB")
    except OSError as exc:
        ctx.emit(JobWarning(ctx.job_id, f"{record.file} was not scored: {exc.strerror or exc}"))
        return None
