"""A tiny trained run's checkpoints: the checkpoint:RUN axis, its cells, and exporting one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from genai_tui.engine.errors import BadInput
from genai_tui.engine.params import GenerateParams, LoraWeight
from genai_tui.jobs.checkpoints import checkpoint_lookup, compare_job, rank_checkpoints
from genai_tui.jobs.events import GridReady, ImageReady, JobFailed, JobFinished, LoraReady
from genai_tui.jobs.loras import session_loras
from genai_tui.jobs.specs import ExportCheckpointJob, GenerateJob, SweepJob, TrainJob
from genai_tui.jobs.sweep import plan_for
from genai_tui.jobs.sweep_axes import plan_sweep
from genai_tui.jobs.worker import Worker
from genai_tui.session.store import SessionStore
from tests.fixtures.lora_data import make_lora_data, single_thread, tiny_train_params
from tests.fixtures.recorder import Recorder

one_thread = pytest.fixture(scope="module", autouse=True)(single_thread)

BASE = GenerateParams("a red sks circle", steps=2, seed=5, width=32, height=32)


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def worker(recorder: Recorder) -> Iterator[Worker]:
    running = Worker(recorder).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def trained(
    worker: Worker,
    recorder: Recorder,
    tiny_model_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> SessionStore:
    """A session with LoRA "circles" trained 4 steps, checkpoints at steps 2 and 4."""
    root = tmp_path_factory.mktemp("sessions")
    store = SessionStore.open(root, "ckpt")
    data = make_lora_data(tmp_path_factory.mktemp("data"))
    job = TrainJob(
        tiny_train_params(checkpoint_every=2),
        str(data),
        "circles",
        store,
        model=str(tiny_model_dir),
    )
    assert isinstance(recorder.run(worker, job), JobFinished)
    return store


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_the_checkpoint_axis_takes_all_steps_ranges_and_the_run_name(trained: SessionStore) -> None:
    lookup = checkpoint_lookup(trained)
    plan = plan_sweep(BASE, ["checkpoint:circles=all", "seed=1,2"], checkpoints=lookup)
    assert plan.shape == (2, 2, 1)
    assert [cell.axes for cell in plan.cells[:2]] == [
        {"Checkpoint circles": "2", "Seed": "1"},
        {"Checkpoint circles": "4", "Seed": "1"},
    ]
    (lora,) = plan.cells[1].params.loras
    assert lora.weight == 1.0 and lora.name_or_path.endswith(
        "checkpoint-4/lora/circles-step4.safetensors"
    )
    (run,) = trained.session.runs
    by_run = plan_sweep(BASE, [f"checkpoint:{run.name}=2-4 (+2)"], checkpoints=lookup)
    assert [value.label for value in by_run.axes[0].values] == ["2", "4"]


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("checkpoint:circles=3", "run circles-"),
        ("checkpoint:squares=all", "has no training run 'squares'"),
        ("checkpoint:=all", "names no training run"),
    ],
)
def test_a_bad_checkpoint_axis_is_one_line(trained: SessionStore, spec: str, said: str) -> None:
    with pytest.raises(BadInput) as caught:
        plan_sweep(BASE, [spec], checkpoints=checkpoint_lookup(trained))
    message = str(caught.value)
    assert said in message and "\n" not in message
    if spec.endswith("=3"):
        assert message.endswith("has no checkpoint at step 3: it has checkpoints at steps 2, 4")


def test_a_sweep_job_checks_the_checkpoint_axis_against_its_session(trained: SessionStore) -> None:
    job = SweepJob(BASE, ("checkpoint:circles=6",), None, trained, sweep="bad")
    with pytest.raises(BadInput, match="checkpoints at steps 2, 4"):
        plan_for(job)
    assert not (trained.path / "grids").exists()


def test_a_checkpoint_cell_is_the_image_its_exported_lora_makes(
    worker: Worker,
    recorder: Recorder,
    trained: SessionStore,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
) -> None:
    model, clip = str(tiny_model_dir), str(tiny_clip_dir)
    sweep = SweepJob(BASE, ("checkpoint:circles=all",), model, trained, sweep="c1", clip=clip)
    assert isinstance(recorder.run(worker, sweep), JobFinished)
    (run,) = trained.session.runs
    cache = trained.path / run.checkpoints[0] / "lora" / "circles-step2.safetensors"
    assert cache.is_file()  # made once, beside the checkpoint
    cells = [r for r in trained.session.images if r.sweep == "c1"]
    assert [c.axes for c in cells] == [{"Checkpoint circles": "2"}, {"Checkpoint circles": "4"}]
    assert [u.name for u in cells[0].loras] == ["circles-step2"]
    assert not np.array_equal(
        pixels(trained.path / cells[0].file), pixels(trained.path / cells[1].file)
    )
    (grid,) = recorder.of(sweep.id, GridReady)
    assert grid.paths[0].is_file()

    export = ExportCheckpointJob(run.name, 2, trained, load=sweep.load)
    assert isinstance(recorder.run(worker, export), JobFinished)
    (ready,) = recorder.of(export.id, LoraReady)
    assert ready.record.name == "circles-step2" and ready.record.steps == 2
    made = GenerateJob(replace_loras(BASE, "circles-step2"), model, trained, score=False)
    assert isinstance(recorder.run(worker, made), JobFinished)
    (image,) = recorder.of(made.id, ImageReady)
    difference = np.abs(pixels(image.path) - pixels(trained.path / cells[0].file))
    assert difference.max() == 0


def replace_loras(params: GenerateParams, name: str) -> GenerateParams:
    from dataclasses import replace

    return replace(params, loras=(LoraWeight(name, 1.0),))


def test_an_exported_checkpoint_is_a_session_lora_in_both_formats(
    worker: Worker, recorder: Recorder, trained: SessionStore, tiny_model: Any
) -> None:
    from safetensors import safe_open
    from safetensors.torch import load_file

    (run,) = trained.session.runs
    job = ExportCheckpointJob("circles", 4, trained, name="circles-final")
    assert isinstance(recorder.run(worker, job), JobFinished)
    record = trained.lora("circles-final")
    assert (
        record is not None and record.run == run.name and "circles-final" in session_loras(trained)
    )
    folder = trained.path / record.folder
    for name in ("circles-final.safetensors", "pytorch_lora_weights.safetensors", "training.json",
                 "loss.jsonl", "samples.png"):  # fmt: skip
        assert (folder / name).is_file(), name
    own = trained.lora("circles")
    assert own is not None
    # The last checkpoint exported is what the finished training exported: same tensors, same
    # peft config for load_lora_weights, same file modes.
    for ours, theirs in (
        (record.webui_file, own.webui_file),
        (record.diffusers_file, own.diffusers_file),
    ):
        mine, trained_files = load_file(trained.path / ours), load_file(trained.path / theirs)
        assert mine.keys() == trained_files.keys()
        assert all(np.array_equal(mine[k].numpy(), trained_files[k].numpy()) for k in mine)
        assert (trained.path / ours).stat().st_mode == (trained.path / theirs).stat().st_mode
    with (
        safe_open(trained.path / record.diffusers_file, "pt") as a,
        safe_open(trained.path / own.diffusers_file, "pt") as b,
    ):
        assert a.metadata() == b.metadata()
    assert record.hash == own.hash
    pipe = tiny_model.pipe
    for path in (record.webui_file, record.diffusers_file):
        pipe.load_lora_weights(str(trained.path / path), adapter_name="check")
        try:
            config = pipe.unet.peft_config["check"]
            assert config.r == 4 and config.lora_alpha == 2
        finally:
            pipe.unload_lora_weights()


def test_exporting_over_another_lora_is_refused(
    worker: Worker, recorder: Recorder, trained: SessionStore
) -> None:
    job = ExportCheckpointJob("circles", 2, trained, name="circles")
    failed = recorder.run(worker, job)
    assert isinstance(failed, JobFailed) and failed.kind == "bad_input"
    assert "already has a LoRA named 'circles'" in failed.error


def test_the_comparison_sweeps_every_checkpoint_over_prompts_and_seeds(
    trained: SessionStore,
) -> None:
    (run,) = trained.session.runs
    job = compare_job(trained, run, model=None)
    assert job.axes == ("checkpoint:circles=all", "seed=0,1")
    assert job.params.prompt == "a red sks circle" and job.model == run.model
    assert plan_for(job).shape == (2, 2, 1)
    with_prompts = run.model_copy(
        update={"params": {**run.params, "validation_prompts": ["a, red", "a blue"]}}
    )
    assert compare_job(trained, with_prompts, model=None).axes[1] == 'prompt="a, red",a blue'


def test_the_ranking_is_the_mean_score_per_checkpoint_best_first(trained: SessionStore) -> None:
    from tests.unit.test_session_store import make_record

    def cell(step: str, seed: int, score: float | None) -> Any:
        axes = {"Checkpoint r": step, "Seed": str(seed)}
        return make_record(sweep="s", axes=axes, clip_score=score, seed=seed)

    images = [cell("2", 1, 20.0), cell("2", 2, 24.0), cell("4", 1, 25.0), cell("4", 2, 26.0),
              cell("6", 1, None)]  # fmt: skip
    ranked = rank_checkpoints(images, "s")
    assert [(c.step, c.score, c.cells) for c in ranked] == [
        (4, 25.5, 2),
        (2, 22.0, 2),
        (6, None, 0),
    ]
