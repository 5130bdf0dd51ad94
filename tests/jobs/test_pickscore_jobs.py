"""Generation ranked by PickScore: both scores saved, best-of keeps the best by PickScore."""

from __future__ import annotations

from pathlib import Path

from genai_tui.engine.params import GenerateParams
from genai_tui.jobs.best_of import pick_best
from genai_tui.jobs.events import BestOfPicked, ImagesScored, JobFinished
from genai_tui.jobs.specs import GenerateJob
from genai_tui.jobs.worker import Worker
from genai_tui.session.pngmeta import read_png_record
from genai_tui.session.store import SessionStore
from tests.fixtures.recorder import Recorder
from tests.unit.test_session_store import make_record

PARAMS = GenerateParams("a red circle", steps=2, seed=3, width=32, height=32, batch_size=2)


def test_ranked_by_pickscore_each_image_gets_both_scores(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
    tiny_pickscore_dir: Path,
) -> None:
    job = GenerateJob(
        PARAMS,
        str(tiny_model_dir),
        store,
        clip=str(tiny_clip_dir),
        rank="pickscore",
        pickscore=str(tiny_pickscore_dir),
    )
    assert isinstance(recorder.run(worker, job), JobFinished)
    clip, pick = recorder.of(job.id, ImagesScored)
    assert (clip.scorer, pick.scorer) == ("clip", "pickscore")
    assert pick.sentence() == "scored 2 images against their prompts (PickScore)"
    for record in store.session.images:
        assert record.clip_score is not None and record.clip_model == str(tiny_clip_dir)
        assert pick.scores[record.file] == record.scores["pickscore"]
        on_disk = read_png_record(store.path / record.file)
        assert on_disk is not None and on_disk.scores == record.scores


def test_best_of_by_pickscore_keeps_the_best_by_pickscore(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
    tiny_pickscore_dir: Path,
) -> None:
    job = GenerateJob(
        PARAMS,
        str(tiny_model_dir),
        store,
        clip=str(tiny_clip_dir),
        best_of=4,
        keep=1,
        rank="pickscore",
        pickscore=str(tiny_pickscore_dir),
    )
    assert isinstance(recorder.run(worker, job), JobFinished)
    (picked,) = recorder.of(job.id, BestOfPicked)
    records = store.session.images
    best = max(records, key=lambda r: r.scores["pickscore"])
    assert [r.file for r in picked.kept] == [best.file]
    assert [r.file for r in records if not r.hidden] == [best.file]


def test_pick_best_ranks_negative_pickscores_and_puts_the_unscored_last() -> None:
    made = [
        make_record(file="a", seed=1, scores={"pickscore": -2.0}, clip_score=40.0),
        make_record(file="b", seed=2, scores={"pickscore": -1.0}, clip_score=10.0),
        make_record(file="c", seed=3),
    ]
    kept, rest = pick_best(made, 2, "pickscore")
    assert [r.file for r in kept] == ["b", "a"] and [r.file for r in rest] == ["c"]
    assert [r.file for r in pick_best(made, 1)[0]] == ["a"]  # by CLIP, as before
