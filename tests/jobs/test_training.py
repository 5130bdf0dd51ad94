"""Training through the worker: events, session records, LoRA files, then generating with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genai_tui.engine.params import GenerateParams, LoraWeight
from genai_tui.jobs.events import (
    CheckpointSaved,
    FilesSkipped,
    ImageReady,
    ImagesScored,
    JobCancelled,
    JobFailed,
    JobFinished,
    LoraReady,
    TrainingStarted,
    TrainStep,
    ValidationImages,
)
from genai_tui.jobs.loras import session_loras
from genai_tui.jobs.specs import GenerateJob, TrainJob
from genai_tui.jobs.worker import Worker
from genai_tui.session.pngmeta import PARAMETERS_KEY, parse_parameters, read_png_record
from genai_tui.session.store import SessionStore
from tests.fixtures.lora_data import make_lora_data, single_thread, tiny_train_params
from tests.jobs.test_worker import Recorder

one_thread = pytest.fixture(scope="module", autouse=True)(single_thread)


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore.open(tmp_path / "sessions", "lora")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def worker(recorder: Recorder):  # type: ignore[no-untyped-def]
    running = Worker(recorder).start()
    yield running
    running.stop()


def test_training_then_generating_with_the_lora(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path, tmp_path: Path
) -> None:
    model = str(tiny_model_dir)
    data = make_lora_data(tmp_path / "data")
    (data / "notes.png").write_bytes(b"not really a png")
    base_job = GenerateJob(GenerateParams("a red sks circle", steps=3, seed=5), model, store)
    worker.submit(base_job)
    assert isinstance(recorder.wait_end(base_job.id), JobFinished)

    train = TrainJob(
        tiny_train_params(validation_every=2, checkpoint_every=2),
        str(data),
        "circles",
        store,
        model=model,
    )
    worker.submit(train)
    assert isinstance(recorder.wait_end(train.id), JobFinished)

    skipped = recorder.of(train.id, FilesSkipped)
    assert len(skipped) == 1 and skipped[0].files == ("notes.png",)
    (started,) = recorder.of(train.id, TrainingStarted)
    assert started.lora == "circles" and 0 < started.trainable_share < 0.1
    assert TrainStep.replaceable
    assert [e.step for e in recorder.of(train.id, TrainStep)] == [1, 2, 3, 4]
    assert [e.step for e in recorder.of(train.id, CheckpointSaved)] == [2, 4]
    validation = recorder.of(train.id, ValidationImages)
    assert [v.step for v in validation] == [2, 4]
    ready = recorder.of(train.id, ImageReady)
    assert [r.record.train_step for r in ready] == [2, 4]
    assert ready[0].record.loras[0].name == "circles" and ready[0].record.train_run
    sample_text = parse_parameters(Image.open(ready[0].path).text[PARAMETERS_KEY])
    assert (sample_text["Sampler"], sample_text["Schedule type"]) == ("DPM++ 2M", "Karras")
    # Samples are scored against their prompts, so the best step can be picked by its score.
    scored = recorder.of(train.id, ImagesScored)
    assert [len(e.records) for e in scored] == [1, 1]
    for shown in validation:
        assert all(r.clip_score is not None and 0 <= r.clip_score <= 100 for r in shown.records)
    stored = {r.file: r for r in store.session.images}
    assert all(stored[r.file].clip_score == r.clip_score for v in validation for r in v.records)
    (lora_ready,) = recorder.of(train.id, LoraReady)

    session = SessionStore.open(store.path.parent, "lora", create=False).session
    (record,) = session.loras
    assert record == lora_ready.record and record.alpha == 2.0 and record.rank == 4
    folder = store.path / record.folder
    for name in (
        "circles.safetensors",
        "pytorch_lora_weights.safetensors",
        "training.json",
        "loss.jsonl",
        "samples.png",
    ):
        assert (folder / name).is_file(), name
    (run,) = session.runs
    assert run.status == "finished" and run.step == 4 and run.lora == "circles"
    assert run.checkpoints == [f"runs/{run.name}/checkpoint-2", f"runs/{run.name}/checkpoint-4"]
    assert (store.path / run.log).is_file()
    assert session_loras(store) == ["circles"]

    with_lora = GenerateJob(
        GenerateParams("a red sks circle", steps=3, seed=5, loras=(LoraWeight("circles", 0.8),)),
        model,
        store,
    )
    without = GenerateJob(GenerateParams("a red sks circle", steps=3, seed=5), model, store)
    worker.submit(with_lora)
    worker.submit(without)
    assert isinstance(recorder.wait_end(without.id), JobFinished)
    (lora_image,) = recorder.of(with_lora.id, ImageReady)
    used = lora_image.record.loras
    assert [(u.name, u.weight, u.hash) for u in used] == [("circles", 0.8, record.hash[:12])]
    assert lora_image.record.prompt == "a red sks circle"  # as typed
    text = Image.open(lora_image.path).text[PARAMETERS_KEY]
    parsed = parse_parameters(text)
    assert parsed["prompt"] == "a red sks circle <lora:circles:0.8>"
    assert parsed["Lora hashes"] == f"circles: {record.hash[:12]}"
    stored = read_png_record(lora_image.path)
    assert stored is not None and stored.loras[0].name == "circles"

    def image_of(job_id: str) -> np.ndarray:
        (event,) = recorder.of(job_id, ImageReady)
        return np.asarray(Image.open(event.path), dtype=np.int16)

    assert not np.array_equal(image_of(with_lora.id), image_of(base_job.id))
    assert np.array_equal(image_of(without.id), image_of(base_job.id))


def test_cancel_keeps_a_checkpoint_and_marks_the_run(
    recorder: Recorder, store: SessionStore, tiny_model_dir: Path, tmp_path: Path
) -> None:
    holder: dict[str, Worker] = {}

    def listen(event: object) -> None:
        recorder(event)  # type: ignore[arg-type]
        if isinstance(event, TrainStep) and event.step == 2:
            holder["worker"].cancel(event.job_id)

    holder["worker"] = worker = Worker(listen).start()
    try:
        data = make_lora_data(tmp_path / "data")
        job = TrainJob(
            tiny_train_params(steps=100), str(data), "stopped", store, model=str(tiny_model_dir)
        )
        worker.submit(job)
        assert isinstance(recorder.wait_end(job.id), JobCancelled)
    finally:
        worker.stop()
    assert [e.step for e in recorder.of(job.id, CheckpointSaved)] == [2]
    (run,) = SessionStore.open(store.path.parent, "lora", create=False).session.runs
    assert run.status == "cancelled" and run.checkpoints[-1].endswith("checkpoint-2")
    assert (store.path / run.checkpoints[-1] / "state.json").is_file()
    assert not (store.path / "loras" / "stopped").exists()


def test_an_empty_data_folder_fails_as_bad_input(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    job = TrainJob(
        tiny_train_params(), str(tmp_path / "empty"), "x", store, model=str(tiny_model_dir)
    )
    worker.submit(job)
    failed = recorder.wait_end(job.id)
    assert isinstance(failed, JobFailed) and failed.kind == "bad_input"
    assert "no images" in failed.error and failed.hint
    (run,) = SessionStore.open(store.path.parent, "lora", create=False).session.runs
    assert run.status == "failed" and "no images" in run.error


def test_an_unknown_lora_name_is_bad_input(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path
) -> None:
    params = GenerateParams("a circle", steps=2, seed=1, loras=(LoraWeight("nope"),))
    job = GenerateJob(params, str(tiny_model_dir), store)
    worker.submit(job)
    failed = recorder.wait_end(job.id)
    assert isinstance(failed, JobFailed) and failed.kind == "bad_input" and "nope" in failed.error
