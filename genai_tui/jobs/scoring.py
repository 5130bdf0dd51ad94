"""CLIP scoring on the worker: each new image as it lands, and a session's images on request.

Scores of images against their own prompts are stored in the records (session.json and the
PNG's genai-tui chunk). A "rank by text" score (ScoreJob with a text) is stored nowhere: it
belongs to that query, not to the image, and travels only in `ImagesScored.scores`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from genai_tui.engine.clip_refs import DEMO_CLIP, default_clip_ref
from genai_tui.engine.errors import BadInput
from genai_tui.jobs.events import (
    ClipLoaded,
    Event,
    ImagesScored,
    JobWarning,
    ModelLoading,
    Progress,
)
from genai_tui.jobs.hints import describe, is_out_of_memory
from genai_tui.jobs.models_cache import ModelCache
from genai_tui.jobs.specs import GenerateJob, ScoreJob
from genai_tui.session.models import ImageRecord
from genai_tui.session.store import SessionError, SessionStore

if TYPE_CHECKING:
    from genai_tui.engine.clip import LoadedClip
    from genai_tui.engine.models import LoadedModel

Emit = Callable[[Event], None]


def clip_for(job_id: str, ref: str, device: str, models: ModelCache, emit: Emit) -> LoadedClip:
    """The CLIP model `ref` on `device`, from the worker's cache or loaded now (with events)."""
    before = models.loaded_clip

    def on_load(what: str, done: int | None, total: int | None) -> None:
        emit(ModelLoading(job_id, what, done, total))

    clip = models.clip(ref, device, on_load)
    if clip is not before:
        emit(ClipLoaded(job_id, ref, clip.name, clip.device, clip.dtype, clip.load_seconds))
    return clip


def score_new_images(
    job: GenerateJob,
    models: ModelCache,
    emit: Emit,
    landed: Sequence[tuple[ImageRecord, Image.Image]],
    model: LoadedModel,
) -> list[ImageRecord]:
    """Score a generation's freshly saved images against their prompt (when the job asks)."""
    if not job.score:
        return [record for record, _ in landed]
    return score_landed(
        job.id, job.session, job.clip, model.source.ref, model.device, models, emit, landed
    )


def score_landed(
    job_id: str,
    session: SessionStore,
    clip_ref: str | None,
    model_ref: str,
    device: str,
    models: ModelCache,
    emit: Emit,
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
    try:
        clip = clip_for(job_id, ref, device, models, emit)
        result = score_images(clip, [image for _, image in landed], [r.prompt for r in records])
        updated = [
            session.update_image(record.file, clip_score=score, clip_model=ref)
            for record, score in zip(records, result.scores, strict=True)
        ]
    except Exception as exc:
        if is_out_of_memory(exc):
            models.free_memory()
        _kind, error, hint = describe(exc)
        suffix = f" ({hint})" if hint else ""
        emit(JobWarning(job_id, f"images saved but not scored with CLIP {ref}: {error}{suffix}"))
        return records
    for warning in result.warnings:
        emit(JobWarning(job_id, warning))
    scores = {r.file: r.clip_score for r in updated if r.clip_score is not None}
    emit(ImagesScored(job_id, tuple(updated), None, scores, ref))
    return updated


def run_score(job: ScoreJob, models: ModelCache, emit: Emit, cancel: threading.Event) -> None:
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
    if not records:
        emit(ImagesScored(job.id, (), job.text, {}, ref))
        return
    clip = clip_for(job.id, ref, device, models, emit)
    started = time.perf_counter()
    scored: list[tuple[ImageRecord, float]] = []
    warned: set[str] = set()
    for start in range(0, len(records), job.batch_size):
        chunk: list[tuple[ImageRecord, Image.Image]] = []
        for record in records[start : start + job.batch_size]:
            image = _open(job.session, record, emit, job.id)
            if image is not None:
                chunk.append((record, image))
        if chunk:
            texts = [job.text if job.text is not None else r.prompt for r, _ in chunk]
            result = score_images(
                clip, [image for _, image in chunk], texts, batch_size=job.batch_size, cancel=cancel
            )
            scored += [(r, s) for (r, _), s in zip(chunk, result.scores, strict=True)]
            for warning in result.warnings:
                if warning not in warned:
                    warned.add(warning)
                    emit(JobWarning(job.id, warning))
        done = min(start + job.batch_size, len(records))
        emit(Progress(job.id, done, len(records), time.perf_counter() - started))
    scores = {record.file: score for record, score in scored}
    if job.text is None:
        out = [
            job.session.update_image(record.file, clip_score=score, clip_model=ref)
            for record, score in scored
        ]
    else:
        out = [record for record, _ in scored]
    emit(ImagesScored(job.id, tuple(out), job.text, scores, ref))


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


def _open(store: SessionStore, record: ImageRecord, emit: Emit, job_id: str) -> Image.Image | None:
    """The image of a record, read fully into memory; None (and a warning) when unreadable."""
    root = store.path.resolve()
    path = (root / record.file).resolve()
    # session.json is user-editable: never read outside the session folder.
    if not path.is_relative_to(root):
        raise SessionError(f'session "{store.name}": image path {record.file} is outside it')
    try:
        with Image.open(Path(path)) as image:
            return image.convert("RGB")
    except OSError as exc:
        emit(JobWarning(job_id, f"{record.file} was not scored: {exc.strerror or exc}"))
        return None
