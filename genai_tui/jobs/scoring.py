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
from typing import TYPE_CHECKING, Any

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


def _score_fields(record: ImageRecord, scorer: Scorer, score: float) -> dict[str, Any]:
    """The record fields that hold a score by `scorer` (clip: clip_score; others: scores)."""
    if scorer.info.name == "clip":
        return {"clip_score": score, "clip_model": scorer.model}
    return {"scores": {**record.scores, scorer.info.name: score}}


def save_score(
    store: SessionStore, record: ImageRecord, scorer: Scorer, score: float
) -> ImageRecord:
    """`record` with its score by `scorer`, saved (session.json and the PNG)."""
    return store.update_image(record.file, **_score_fields(record, scorer, score))


Save = Callable[[ImageRecord, Image.Image], ImageRecord]
"""Saves a new image with its record into the session (and says so); returns the saved record."""


def save_scored(
    ctx: JobContext,
    scoring: Scoring,
    model_ref: str,
    device: str,
    made: Sequence[tuple[ImageRecord, Image.Image]],
    save: Save,
) -> list[ImageRecord]:
    """Save new images of `model_ref` with `save`, scored against their prompt: with CLIP
    `scoring.clip` (None: the default for that model and device), and with PickScore too when
    `scoring.rank` is pickscore (`ranked_for` decided it already). Returns the saved records and
    tells the UI with ImagesScored, once per scorer.

    When the scorers are in memory the images are scored first and each is written once, with
    its scores (a sweep's cells: no second write of every PNG and of session.json). Otherwise
    they land first, so a scorer's loading does not hold them back, and get their scores after.
    A scoring failure (a model missing, offline, out of memory) is a JobWarning: the images are
    kept without that score.
    """
    if not made:
        return []
    clip_ref = scoring.clip or default_clip_ref(model_ref, device)
    scorers = [_Scorer(f"CLIP {clip_ref}", lambda: ClipScorer(clip_for(ctx, clip_ref, device)))]
    if scoring.rank == "pickscore":
        # The same 77-token limit as CLIP's: a cut prompt is said once, by CLIP.
        scorers.append(
            _Scorer("PickScore", lambda: PickScorer(pickscore_for(ctx, scoring, device)))
        )
    images = [image for _, image in made]
    prompts = [record.prompt for record, _ in made]
    if not _in_memory(ctx, scoring, clip_ref, device):
        records = [save(record, image) for record, image in made]
        store = ctx.store()
        for index, one in enumerate(scorers):
            if result := one.run(ctx, images, prompts, say_cuts=index == 0):
                with store.together():  # session.json grows with the session: written once
                    records = [
                        save_score(store, record, result.scorer, score)
                        for record, score in zip(records, result.scores, strict=True)
                    ]
                result.report(ctx, records)
        return records
    results = [r for i, one in enumerate(scorers) if (r := one.run(ctx, images, prompts, i == 0))]
    records = [record for record, _ in made]
    for result in results:
        records = [
            ImageRecord.model_validate(
                {**record.model_dump(), **_score_fields(record, result.scorer, score)}
            )
            for record, score in zip(records, result.scores, strict=True)
        ]
    records = [save(record, image) for record, image in zip(records, images, strict=True)]
    for result in results:
        result.report(ctx, records)
    return records


def _in_memory(ctx: JobContext, scoring: Scoring, clip_ref: str, device: str) -> bool:
    """Whether the scorers of `scoring` are loaded on `device` (scoring costs no loading)."""
    if not ctx.models.has_clip(clip_ref, device):
        return False
    if scoring.rank != "pickscore":
        return True
    source = resolve_pickscore(scoring.pickscore, scoring.pickscore_processor)
    return ctx.models.has_pickscore(source, device)


@dataclass(frozen=True)
class _Scores:
    """One scorer's scores of a batch of images, in order."""

    scorer: Scorer
    scores: list[float]

    def report(self, ctx: JobContext, records: Sequence[ImageRecord]) -> None:
        """ImagesScored for the saved `records` these scores are of."""
        by_file = {record.file: s for record, s in zip(records, self.scores, strict=True)}
        name = self.scorer.info.name
        ctx.emit(ImagesScored(ctx.job_id, tuple(records), None, by_file, self.scorer.model, name))


@dataclass(frozen=True)
class _Scorer:
    """A scorer to load (from the cache, or now) and run, named for its failure message."""

    what: str
    load: Callable[[], Scorer]

    def run(
        self, ctx: JobContext, images: list[Image.Image], prompts: list[str], say_cuts: bool
    ) -> _Scores | None:
        """The scores, or None after a JobWarning saying why there are none."""
        try:
            scorer = self.load()
            scores = scorer.score(images, prompts)
        except Exception as exc:
            if is_out_of_memory(exc):
                ctx.models.free_memory()
            _kind, error, hint = describe(exc)
            suffix = f" ({hint})" if hint else ""
            message = f"images saved but not scored with {self.what}: {error}{suffix}"
            ctx.emit(JobWarning(ctx.job_id, message))
            return None
        if say_cuts:
            for warning in scorer.cut_texts(prompts):
                ctx.emit(JobWarning(ctx.job_id, warning))
        return _Scores(scorer, list(scores))


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
        with job.session.together():  # one write of session.json, not one per image
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
