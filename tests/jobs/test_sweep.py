"""Sweeps on the tiny model: cells as records, grids, generate's pixels, resume, cancel."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from genai_tui.engine.generate import generate
from genai_tui.engine.params import GenerateParams
from genai_tui.jobs.events import (
    GridReady,
    ImageReady,
    JobCancelled,
    JobFinished,
    Progress,
    SweepCell,
)
from genai_tui.jobs.specs import GenerateJob, SweepJob
from genai_tui.jobs.worker import Worker
from genai_tui.session.pngmeta import read_parameters, read_png_record
from genai_tui.session.store import SessionStore
from tests.fixtures.recorder import Recorder

BASE = GenerateParams("a red circle", steps=2, seed=7, width=32, height=32)


def sweep(store: SessionStore, model: Path, clip: Path, *axes: str, **fields: Any) -> SweepJob:
    return SweepJob(BASE, axes, str(model), store, sweep="s1", clip=str(clip), **fields)


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_a_2x2_sweep_saves_4_cells_and_a_labelled_grid(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    job = sweep(store, tiny_model_dir, tiny_clip_dir, "cfg=3,9", "steps=1,2")
    assert isinstance(recorder.run(worker, job), JobFinished)
    cells = recorder.of(job.id, SweepCell)
    assert [(c.index, c.total) for c in cells] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    records = store.session.images
    assert [r.axes for r in records] == [
        {"CFG scale": "3", "Steps": "1"},
        {"CFG scale": "9", "Steps": "1"},
        {"CFG scale": "3", "Steps": "2"},
        {"CFG scale": "9", "Steps": "2"},
    ]
    assert {r.sweep for r in records} == {"s1"}
    assert all(r.clip_score is not None for r in records)
    assert [(r.cfg_scale, r.steps) for r in records] == [(3, 1), (9, 1), (3, 2), (9, 2)]
    on_disk = read_png_record(store.path / records[0].file)
    assert on_disk is not None and on_disk.axes == records[0].axes
    assert "cell 1 of 4 (CFG scale 3, Steps 1)" in cells[0].sentence()

    (ready,) = recorder.of(job.id, GridReady)
    (grid_path,) = ready.paths
    assert grid_path == store.path / "grids" / "s1.png"
    layout = json.loads(ready.layout.read_text())
    left, top = layout["origin"]
    assert left > 0 and top > 0  # room for the row and column labels
    with Image.open(grid_path) as grid:
        # 32-px cells are drawn 4 times larger (each pixel a 4x4 block): labels fit over them.
        assert grid.size == (left + 2 * 128, top + 2 * 128)
        labels = np.asarray(grid.convert("L"))[:top, left:]
        assert labels.min() < 128  # something is written above the columns
        corner = np.asarray(grid.convert("RGB"))[top : top + 128 : 4, left : left + 128 : 4]
    assert np.array_equal(corner.astype(np.int16), pixels(store.path / records[0].file))
    text = read_parameters(grid_path)
    assert text is not None and "X Type: CFG scale" in text and 'Y Values: "1,2"' in text
    assert [c["file"] for c in layout["cells"]] == [r.file for r in records]
    best = max(records, key=lambda r: r.clip_score or 0.0)
    x, y = layout["grids"][0]["best"]
    assert layout["cells"][x + 2 * y]["file"] == best.file


def test_a_cell_is_pixel_equal_to_generate_with_its_values(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    job = sweep(store, tiny_model_dir, tiny_clip_dir, "cfg=4,8", "sampler=Euler a,DDIM")
    assert isinstance(recorder.run(worker, job), JobFinished)
    cell = next(r for r in store.session.images if r.axes == {"CFG scale": "8", "Sampler": "DDIM"})
    single = GenerateParams(
        "a red circle", steps=2, seed=7, width=32, height=32, cfg_scale=8, scheduler="DDIM"
    )
    alone = GenerateJob(single, str(tiny_model_dir), store, score=False)
    assert isinstance(recorder.run(worker, alone), JobFinished)
    (made,) = recorder.of(alone.id, ImageReady)
    assert np.abs(pixels(made.path) - pixels(store.path / cell.file)).max() == 0


def test_seed_cells_run_as_one_batch_and_match_single_images(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
    tiny_model: Any,
) -> None:
    job = sweep(store, tiny_model_dir, tiny_clip_dir, "seed=5,90,1234")
    assert isinstance(recorder.run(worker, job), JobFinished)
    # One batch: the model ran its 2 steps once, not once per cell.
    assert [p.step for p in recorder.of(job.id, Progress)] == [1, 2]
    for record in store.session.images:
        alone = generate(tiny_model, GenerateParams("a red circle", steps=2, seed=record.seed,
                                                    width=32, height=32))  # fmt: skip
        single = np.asarray(alone.images[0].image, dtype=np.int16)
        # Batched and single UNet calls may round differently in the last bit (as for -n).
        assert np.abs(single - pixels(store.path / record.file)).max() <= 1
    assert [r.seed for r in store.session.images] == [5, 90, 1234]


def test_running_the_same_sweep_again_makes_only_the_missing_cells(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    first = sweep(store, tiny_model_dir, tiny_clip_dir, "cfg=3,9")
    assert isinstance(recorder.run(worker, first), JobFinished)
    again = sweep(store, tiny_model_dir, tiny_clip_dir, "cfg=3,9,12")
    assert isinstance(recorder.run(worker, again), JobFinished)
    assert len(store.session.images) == 3
    assert [c.skipped for c in recorder.of(again.id, SweepCell)] == [True, True, False]
    assert len(recorder.of(again.id, ImageReady)) == 1


def test_a_cancelled_sweep_keeps_the_cells_made_and_resumes(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    job = sweep(store, tiny_model_dir, tiny_clip_dir, "cfg=2,4,6,8")
    first_cell = threading.Event()

    def cancel_after_first(event: Any) -> None:
        recorder(event)
        if isinstance(event, SweepCell) and not first_cell.is_set():
            first_cell.set()
            worker.cancel(job.id)

    worker._listener = cancel_after_first  # the worker's one listener, for this test
    worker.submit(job)
    assert isinstance(recorder.wait_end(job.id), JobCancelled)
    kept = len(store.session.images)
    assert 1 <= kept < 4
    assert recorder.of(job.id, GridReady) == []
    worker._listener = recorder
    again = sweep(store, tiny_model_dir, tiny_clip_dir, "cfg=2,4,6,8")
    assert isinstance(recorder.run(worker, again), JobFinished)
    assert len(store.session.images) == 4
    assert sum(c.skipped for c in recorder.of(again.id, SweepCell)) == kept


def test_a_sweep_id_reused_with_other_settings_is_refused(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    assert isinstance(recorder.run(worker, sweep(store, tiny_model_dir, tiny_clip_dir, "cfg=3")),
                      JobFinished)  # fmt: skip
    other = SweepJob(
        GenerateParams("a blue square", steps=2, seed=7, width=32, height=32),
        ("cfg=3",),
        str(tiny_model_dir),
        store,
        sweep="s1",
    )
    failed = recorder.run(worker, other)
    assert failed.kind == "bad_input" and "other settings" in failed.error  # type: ignore[attr-defined]


@pytest.mark.usefixtures("empty_hub_cache")
@pytest.mark.parametrize(("rank", "kind"), [("pickscore", "model"), ("aesthetic", "bad_input")])
def test_an_unknown_scorer_or_a_missing_pickscore_fails_before_any_cell(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    rank: str,
    kind: str,
) -> None:
    job = SweepJob(BASE, ("cfg=3",), str(tiny_model_dir), store, rank=rank)  # type: ignore[arg-type]
    failed = recorder.run(worker, job)
    assert failed.kind == kind  # type: ignore[attr-defined]
    assert store.session.images == []
