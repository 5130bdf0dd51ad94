"""Scoring on the worker: each new image as it lands, and a session's images on request.

Every image is scored with CLIP (its `clip_score`); a job that ranks by PickScore scores it with
PickScore too (`scores["pickscore"]`); engine/scorers.py has both and the demo's stand-in rule.
Scores of images against their own prompts are stored in the records (session.json and the
PNG's genai-tui chunk). A "rank by text" score (ScoreJob with a text) is stored nowhere: it
belongs to that query, not to the image, and travels only in `ImagesScored.scores`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from genai_tui.engine.clip_refs import DEMO_CLIP, default_clip_ref
from genai_tui.engine.errors import BadInput
from genai_tui.engine.scorers import (
    STAND_IN,
    ClipScorer,
    PickScorer,
    Scorer,
    ScorerName,
    images_model,
    ranked_by,
    resolve_pickscore,
)
from genai_tui.jobs.context import JobContext
from genai_tui.jobs.events import ClipLoaded, ImagesScored, JobWarning, ModelLoading, Progress
from genai_tui.jobs.hints import describe, is_out_of_memory
from genai_tui.jobs.specs import GenerateJob, ScoreJob, SweepJob
from genai_tui.session.models import ImageRecord
from genai_tui.session.store import SessionStore

if TYPE_CHECKING:
    from genai_tui.engine.clip import LoadedClip


@dataclass(frozen=True)
class Scoring:
    """How a job's images are scored: the scorer that ranks, and each scorer's model."""

    rank: ScorerName = "clip"
    clip: str | None = None
    pickscore: str | None = None
    pickscore_processor: str | None = None


def scoring_of(job: GenerateJob | SweepJob) -> Scoring:
    """A generation's or a sweep's scoring fields."""
    return Scoring(job.rank, job.clip, job.pickscore, job.pickscore_processor)


def ranked_for(ctx: JobContext, scoring: Scoring, model_ref: str) -> Scoring:
    """The scoring that really runs for images of `model_ref`: on the demo, CLIP in PickScore's
    place (said once, here). A PickScore that is not on the machine fails now, before any image
    is made; callers pass the result on, so a job's parts do not say it again.
    """
    rank = ranked_by(scoring.rank, model_ref, scoring.pickscore)
    if rank != scoring.rank:
        ctx.emit(JobWarning(ctx.job_id, STAND_IN))
    elif rank == "pickscore":
        resolve_pickscore(scoring.pickscore, scoring.pickscore_processor)
    return replace(scoring, rank=rank)


def _on_load(ctx: JobContext) -> Callable[[str, int | None, int | None], None]:
    def on_load(what: str, done: int | None, total: int | None) -> None:
        ctx.emit(ModelLoading(ctx.job_id, what, done, total))

    return on_load


def clip_for(ctx: JobContext, ref: str, device: str) -> LoadedClip:
    """The CLIP model `ref` on `device`, from the worker's cache or loaded now (with events)."""
    before = ctx.models.loaded_clip
    clip = ctx.models.clip(ref, device, _on_load(ctx))
    if clip is not before:
        ctx.emit(ClipLoaded(ctx.job_id, ref, clip.name, clip.device, clip.dtype, clip.load_seconds))
    return clip


def pickscore_for(ctx: JobContext, scoring: Scoring, device: str) -> LoadedClip:
    """The PickScore model of `scoring` on `device`, cached or loaded now (with events)."""
    source = resolve_pickscore(scoring.pickscore, scoring.pickscore_processor)
    before = ctx.models.loaded_pickscore
    model = ctx.models.pickscore(source, device, _on_load(ctx))
    if model is not before:
        ctx.emit(
            ClipLoaded(
                ctx.job_id, source.name, model.name, model.device, model.dtype, model.load_seconds
            )
        )
    return model


def save_score(
    store: SessionStore, record: ImageRecord, scorer: Scorer, score: float
) -> ImageRecord:
    """`record` with its score by `scorer`, saved (session.json and the PNG)."""
    if scorer.info.name == "clip":
        return store.update_image(record.file, clip_score=score, clip_model=scorer.model)
    return store.update_image(record.file, scores={**record.scores, scorer.info.name: score})


def score_landed(
    ctx: JobContext,
    scoring: Scoring,
    model_ref: str,
    device: str,
    landed: Sequence[tuple[ImageRecord, Image.Image]],
) -> list[ImageRecord]:
    """Score saved images of `model_ref` against their prompt: with CLIP `scoring.clip` (None:
    the default for that model and device), and with PickScore too when `scoring.rank` is
    pickscore (`ranked_for` decided it already). Return their records, scored where it worked,
    and tell the UI with ImagesScored, once per scorer.

    The images are already on disk: any failure here (a model missing, offline, out of memory)
    becomes a JobWarning and the records are returned without that score.
    """
    records = [record for record, _ in landed]
    if not landed:
        return records
    images = [image for _, image in landed]
    ref = scoring.clip or default_clip_ref(model_ref, device)

    def clip() -> Scorer:
        return ClipScorer(clip_for(ctx, ref, device))

    def pickscore() -> Scorer:
        return PickScorer(pickscore_for(ctx, scoring, device))

    records = _score_and_save(ctx, records, images, f"CLIP {ref}", clip, say_cuts=True)
    if scoring.rank == "pickscore":
        # The same 77-token limit as CLIP's: a cut prompt was said once already.
        records = _score_and_save(ctx, records, images, "PickScore", pickscore, say_cuts=False)
    return records


def _score_and_save(
    ctx: JobContext,
    records: list[ImageRecord],
    images: list[Image.Image],
    what: str,
    load: Callable[[], Scorer],
    *,
    say_cuts: bool,
) -> list[ImageRecord]:
    store = ctx.store()
    prompts = [record.prompt for record in records]
    try:
        scorer = load()
        scores = scorer.score(images, prompts)
        updated = [
            save_score(store, record, scorer, score)
            for record, score in zip(records, scores, strict=True)
        ]
    except Exception as exc:
        if is_out_of_memory(exc):
            ctx.models.free_memory()
        _kind, error, hint = describe(exc)
        suffix = f" ({hint})" if hint else ""
        message = f"images saved but not scored with {what}: {error}{suffix}"
        ctx.emit(JobWarning(ctx.job_id, message))
        return records
    if say_cuts:
        for warning in scorer.cut_texts(prompts):
            ctx.emit(JobWarning(ctx.job_id, warning))
    by_file = {record.file: score for record, score in zip(updated, scores, strict=True)}
    ctx.emit(
        ImagesScored(ctx.job_id, tuple(updated), None, by_file, scorer.model, scorer.info.name)
    )
    return updated


def run_score(job: ScoreJob, ctx: JobContext) -> None:
    """Score a session's images (against their prompts, or one text) and report ImagesScored.

    Against their prompts, the scores are written to every record once all are scored, so a
    cancelled job changes nothing. Against a text, no record is changed.
    """
    from genai_tui.engine.models import pick_device

    if job.text is not None and not job.text.strip():
        raise BadInput("the text to rank by is empty", hint="give a text, or none to use prompts")
    if job.batch_size < 1:
        raise BadInput(f"batch size must be at least 1 (got {job.batch_size})")
    session = job.session.session
    records = _chosen(session.images, job.files, job.session.name)
    device = pick_device()
    model_ref = session.model or DEMO_CLIP
    # The images decide whether the demo CLIP stands in (a session's model may be unset).
    made_by = images_model([r.model for r in records] or [session.model or DEMO_CLIP])
    name = ranked_by(job.scorer, made_by, job.pickscore)
    emit = ctx.emit
    if name != job.scorer:
        emit(JobWarning(ctx.job_id, STAND_IN))
    scoring = Scoring(name, job.clip, job.pickscore, job.pickscore_processor)
    ref = job.clip or default_clip_ref(model_ref, device)
    if name == "pickscore":
        resolve_pickscore(job.pickscore, job.pickscore_processor)  # missing: fail, not warn
    if not records:
        emit(ImagesScored(ctx.job_id, (), job.text, {}, ref if name == "clip" else "", name))
        return
    scorer: Scorer = (
        ClipScorer(clip_for(ctx, ref, device))
        if name == "clip"
        else PickScorer(pickscore_for(ctx, scoring, device))
    )
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
            scores = scorer.score(
                [image for _, image in chunk], texts, batch_size=job.batch_size, cancel=ctx.cancel
            )
            scored += [(r, s) for (r, _), s in zip(chunk, scores, strict=True)]
            for warning in scorer.cut_texts(texts):
                if warning not in warned:
                    warned.add(warning)
                    emit(JobWarning(ctx.job_id, warning))
        done = min(start + job.batch_size, len(records))
        emit(Progress(ctx.job_id, done, len(records), time.perf_counter() - started))
    by_file = {record.file: score for record, score in scored}
    if job.text is None:
        out = [save_score(job.session, record, scorer, score) for record, score in scored]
    else:
        out = [record for record, _ in scored]
    emit(ImagesScored(ctx.job_id, tuple(out), job.text, by_file, scorer.model, name))


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
