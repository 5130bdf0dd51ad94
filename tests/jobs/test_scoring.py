"""CLIP scoring on the worker: each image scored as it lands, best-of-N, rescoring, rank by text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from genai_tui.engine.clip import load_clip, score_images
from genai_tui.engine.params import GenerateParams
from genai_tui.jobs.best_of import pick_best
from genai_tui.jobs.events import (
    BestOfPicked,
    ClipLoaded,
    ImageReady,
    ImagesScored,
    JobFailed,
    JobFinished,
    JobWarning,
)
from genai_tui.jobs.specs import GenerateJob, ScoreJob
from genai_tui.jobs.worker import Worker
from genai_tui.session.models import ImageRecord
from genai_tui.session.pngmeta import read_png_record
from genai_tui.session.store import SessionStore
from tests.fixtures.recorder import Recorder


def generate_job(store: SessionStore, model: Path, clip: Path | str, **fields: Any) -> GenerateJob:
    params = {"prompt": "a red circle", "steps": 3, "seed": 11}
    params.update(fields.pop("params", {}))
    return GenerateJob(
        params=GenerateParams(**params), model=str(model), session=store, clip=str(clip), **fields
    )


def saved_score(path: Path, text: str, clip_dir: Path) -> float:
    """The score of a PNG on disk, computed afresh (the PNG is lossless: same pixels)."""
    with Image.open(path) as image:
        return score_images(load_clip(str(clip_dir), "cpu"), [image.convert("RGB")], text).scores[0]


def test_each_image_is_scored_as_it_lands_and_the_score_saved(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    spec = generate_job(store, tiny_model_dir, tiny_clip_dir, params={"batch_size": 2})
    assert isinstance(recorder.run(worker, spec), JobFinished)
    kinds = [type(e) for e in recorder.events if e.job_id == spec.id]
    assert kinds.index(ImageReady) < kinds.index(ClipLoaded) < kinds.index(ImagesScored)
    [scored] = recorder.of(spec.id, ImagesScored)
    assert scored.text is None and scored.clip_model == str(tiny_clip_dir)
    assert [r.seed for r in scored.records] == [11, 12]
    reopened = SessionStore.open(store.path.parent, "work", create=False).session
    for record in reopened.images:
        assert record.clip_score is not None and record.clip_model == str(tiny_clip_dir)
        assert scored.scores[record.file] == record.clip_score
        on_disk = read_png_record(store.path / record.file)
        assert on_disk is not None and on_disk.clip_score == record.clip_score
        assert on_disk.clip_model == str(tiny_clip_dir)
        expected = saved_score(store.path / record.file, "a red circle", tiny_clip_dir)
        assert record.clip_score == pytest.approx(expected, abs=1e-4)


def test_the_clip_model_stays_loaded_between_jobs(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    first = generate_job(store, tiny_model_dir, tiny_clip_dir)
    second = generate_job(store, tiny_model_dir, tiny_clip_dir, params={"seed": 12})
    recorder.run(worker, first)
    recorder.run(worker, second)
    assert len(recorder.of(first.id, ClipLoaded)) == 1
    assert recorder.of(second.id, ClipLoaded) == []
    assert len(recorder.of(second.id, ImagesScored)) == 1


def test_with_clip_loaded_each_image_is_written_once_already_scored(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sweep's cells after the first: no second write of each PNG and of session.json to
    add the score (the first images of a worker land before CLIP loads, as tested above)."""
    from genai_tui.session import store as store_module

    recorder.run(worker, generate_job(store, tiny_model_dir, tiny_clip_dir))  # CLIP loads
    rewrites: list[str] = []
    rewrite = store_module.replace_png_record
    monkeypatch.setattr(
        store_module,
        "replace_png_record",
        lambda png, r: (rewrites.append(r.file), rewrite(png, r)),
    )
    spec = generate_job(store, tiny_model_dir, tiny_clip_dir, params={"batch_size": 2, "seed": 5})
    assert isinstance(recorder.run(worker, spec), JobFinished)
    assert rewrites == []
    ready = recorder.of(spec.id, ImageReady)
    [scored] = recorder.of(spec.id, ImagesScored)
    assert [e.record.clip_score for e in ready] == [scored.scores[e.record.file] for e in ready]
    for event in ready:
        on_disk = read_png_record(event.path)
        assert on_disk is not None and on_disk.clip_score == event.record.clip_score
        assert on_disk.clip_model == str(tiny_clip_dir)
        expected = saved_score(event.path, "a red circle", tiny_clip_dir)
        assert on_disk.clip_score == pytest.approx(expected, abs=1e-4)
    reopened = SessionStore.open(store.path.parent, store.name, create=False).session
    assert {r.file: r.clip_score for r in reopened.images[-2:]} == scored.scores


def test_scoring_can_be_switched_off(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    spec = generate_job(store, tiny_model_dir, tiny_clip_dir, score=False)
    assert isinstance(recorder.run(worker, spec), JobFinished)
    assert recorder.of(spec.id, ImagesScored) == []
    assert store.session.images[0].clip_score is None


def test_a_missing_clip_model_keeps_the_images_and_warns(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path, tmp_path: Path
) -> None:
    spec = generate_job(store, tiny_model_dir, tmp_path / "no-clip-here", params={"batch_size": 2})
    assert isinstance(recorder.run(worker, spec), JobFinished)
    [warning] = recorder.of(spec.id, JobWarning)
    assert "not scored" in warning.message and "no-clip-here" in warning.message
    ready = recorder.of(spec.id, ImageReady)
    assert len(ready) == 2 and all(event.path.is_file() for event in ready)
    assert [r.clip_score for r in store.session.images] == [None, None]


def test_best_of_keeps_the_top_k_visible_and_hides_the_rest_on_disk(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    spec = generate_job(
        store, tiny_model_dir, tiny_clip_dir, params={"batch_size": 2}, best_of=5, keep=2
    )
    assert isinstance(recorder.run(worker, spec), JobFinished)
    images = store.session.images
    assert [r.seed for r in images] == [11, 12, 13, 14, 15]
    assert all((store.path / r.file).is_file() for r in images)
    visible = [r for r in images if not r.hidden]
    assert len(visible) == 2
    scores = sorted((r.clip_score or 0.0 for r in images), reverse=True)
    assert sorted((r.clip_score or 0.0 for r in visible), reverse=True) == scores[:2]
    [picked] = recorder.of(spec.id, BestOfPicked)
    assert [r.file for r in picked.kept] == [
        r.file for r in sorted(visible, key=lambda r: -(r.clip_score or 0.0))
    ]
    assert {r.file for r in picked.hidden} == {r.file for r in images if r.hidden}
    for record in images:
        on_disk = read_png_record(store.path / record.file)
        assert on_disk is not None and on_disk.hidden == record.hidden
    saved = json.loads((store.path / "session.json").read_text())
    assert sum(image["hidden"] for image in saved["images"]) == 3


def test_best_of_without_scores_keeps_everything_visible(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path, tmp_path: Path
) -> None:
    spec = generate_job(store, tiny_model_dir, tmp_path / "no-clip", best_of=3, keep=1)
    assert isinstance(recorder.run(worker, spec), JobFinished)
    assert len(store.session.images) == 3
    assert not any(r.hidden for r in store.session.images)
    assert any("stay visible" in w.message for w in recorder.of(spec.id, JobWarning))
    assert recorder.of(spec.id, BestOfPicked) == []


def test_best_of_refuses_to_keep_more_than_it_makes(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    spec = generate_job(store, tiny_model_dir, tiny_clip_dir, best_of=2, keep=3)
    failed = recorder.run(worker, spec)
    assert isinstance(failed, JobFailed) and failed.kind == "bad_input"
    assert store.session.images == []


def test_pick_best_ranks_unscored_last_and_keeps_ties_in_order() -> None:
    def record(seed: int, score: float | None) -> ImageRecord:
        return ImageRecord(
            file=f"images/{seed}.png",
            prompt="p",
            steps=1,
            cfg_scale=1,
            seed=seed,
            width=8,
            height=8,
            scheduler="Euler",
            model="demo",
            clip_score=score,
        )

    records = [record(1, None), record(2, 20.0), record(3, 30.0), record(4, 20.0)]
    kept, rest = pick_best(records, 2)
    assert [r.seed for r in kept] == [3, 2]
    assert [r.seed for r in rest] == [1, 4]


@pytest.fixture
def scored_session(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> SessionStore:
    spec = generate_job(store, tiny_model_dir, tiny_clip_dir, params={"batch_size": 3})
    assert isinstance(recorder.run(worker, spec), JobFinished)
    return store


def test_rescoring_against_prompts_updates_the_records(
    worker: Worker, recorder: Recorder, scored_session: SessionStore, tiny_clip_dir: Path
) -> None:
    store = scored_session
    before = store.session.images
    store.update_image(before[0].file, clip_score=None, clip_model=None)
    spec = ScoreJob(store, None, str(tiny_clip_dir))
    assert isinstance(recorder.run(worker, spec), JobFinished)
    [scored] = recorder.of(spec.id, ImagesScored)
    after = store.session.images
    assert after[0].clip_score == pytest.approx(before[0].clip_score, abs=1e-5)
    assert scored.scores == {r.file: r.clip_score for r in after}
    on_disk = read_png_record(store.path / after[0].file)
    assert on_disk is not None and on_disk.clip_score == after[0].clip_score


def test_rank_by_text_reports_scores_without_touching_the_records(
    worker: Worker, recorder: Recorder, scored_session: SessionStore, tiny_clip_dir: Path
) -> None:
    store = scored_session
    before = store.session.images
    text = "a blue square on a white background"
    spec = ScoreJob(store, text, str(tiny_clip_dir))
    assert isinstance(recorder.run(worker, spec), JobFinished)
    [scored] = recorder.of(spec.id, ImagesScored)
    assert scored.text == text
    assert store.session.images == before  # the per-prompt scores are untouched
    for record in before:
        expected = saved_score(store.path / record.file, text, tiny_clip_dir)
        assert scored.scores[record.file] == pytest.approx(expected, abs=1e-4)


def test_score_job_takes_a_subset_and_refuses_unknown_files(
    worker: Worker, recorder: Recorder, scored_session: SessionStore, tiny_clip_dir: Path
) -> None:
    store = scored_session
    first = store.session.images[0].file
    subset = ScoreJob(store, "a red circle", str(tiny_clip_dir), files=(first,))
    assert isinstance(recorder.run(worker, subset), JobFinished)
    [scored] = recorder.of(subset.id, ImagesScored)
    assert list(scored.scores) == [first]
    unknown = ScoreJob(store, None, str(tiny_clip_dir), files=("images/9999-1.png",))
    failed = recorder.run(worker, unknown)
    assert isinstance(failed, JobFailed) and failed.kind == "bad_input"


def test_a_missing_png_is_skipped_with_a_warning(
    worker: Worker, recorder: Recorder, scored_session: SessionStore, tiny_clip_dir: Path
) -> None:
    store = scored_session
    gone = store.session.images[1].file
    (store.path / gone).unlink()
    spec = ScoreJob(store, "a red circle", str(tiny_clip_dir))
    assert isinstance(recorder.run(worker, spec), JobFinished)
    [scored] = recorder.of(spec.id, ImagesScored)
    assert gone not in scored.scores and len(scored.scores) == 2
    assert any(gone in w.message for w in recorder.of(spec.id, JobWarning))


def test_a_record_pointing_outside_the_session_costs_only_its_own_score(
    worker: Worker, recorder: Recorder, scored_session: SessionStore, tiny_clip_dir: Path
) -> None:
    """session.json is user-editable: a record whose path leaves the session folder is never
    read, and the other images are scored all the same."""
    store = scored_session
    data = json.loads((store.path / "session.json").read_text())
    bad = data["images"][0]["file"]
    data["images"][0]["file"] = "../../outside.png"
    (store.path / "session.json").write_text(json.dumps(data))
    store = SessionStore.open(store.path.parent, store.name, create=False)
    spec = ScoreJob(store, None, str(tiny_clip_dir))
    assert isinstance(recorder.run(worker, spec), JobFinished)
    [scored] = recorder.of(spec.id, ImagesScored)
    assert len(scored.scores) == 2 and "../../outside.png" not in scored.scores
    assert any("outside the session" in w.message for w in recorder.of(spec.id, JobWarning))
    assert bad not in scored.scores
