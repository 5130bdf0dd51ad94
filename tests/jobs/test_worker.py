"""The worker: events in order, models cached, failures become events, cancel, prompt exit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genai_tui.engine.params import GenerateParams
from genai_tui.jobs import runners
from genai_tui.jobs.events import (
    Event,
    ImageReady,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    ModelLoaded,
    Progress,
)
from genai_tui.jobs.specs import GenerateJob
from genai_tui.jobs.worker import Worker
from genai_tui.session.pngmeta import read_png_record
from genai_tui.session.store import SessionStore
from tests.fixtures.recorder import Recorder


def job(store: SessionStore, model: str, **params: Any) -> GenerateJob:
    values: dict[str, Any] = {"prompt": "a red circle", "steps": 4, "seed": 11, **params}
    return GenerateJob(params=GenerateParams(**values), model=model, session=store)


def test_a_generation_streams_events_and_saves_each_image(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path
) -> None:
    spec = job(store, str(tiny_model_dir), batch_size=2)
    worker.submit(spec)
    assert isinstance(recorder.wait_end(spec.id), JobFinished)
    kinds = [type(e) for e in recorder.events if e.job_id == spec.id]
    assert kinds[0] is JobStarted
    assert kinds.index(ModelLoaded) < kinds.index(Progress) < kinds.index(ImageReady)
    assert [p.step for p in recorder.of(spec.id, Progress)] == [1, 2, 3, 4]
    ready = recorder.of(spec.id, ImageReady)
    assert [r.record.seed for r in ready] == [11, 12]
    for event in ready:
        assert event.path.is_file()
        on_disk = read_png_record(event.path)
        assert on_disk is not None and on_disk.seed == event.record.seed
    reopened = SessionStore.open(store.path.parent, "work", create=False).session
    assert [r.file for r in reopened.images] == ["images/0001-11.png", "images/0002-12.png"]
    assert reopened.images[0].device == "cpu" and reopened.images[0].model_hash
    assert reopened.prompt_history == ["a red circle"]


def test_the_model_stays_loaded_between_jobs(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path
) -> None:
    first, second = job(store, str(tiny_model_dir)), job(store, str(tiny_model_dir), seed=12)
    worker.submit(first)
    worker.submit(second)
    recorder.wait_end(second.id)
    assert len(recorder.of(first.id, ModelLoaded)) == 1
    assert recorder.of(second.id, ModelLoaded) == []


def test_a_missing_model_fails_with_a_hint_and_the_next_job_runs(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path, tmp_path: Path
) -> None:
    bad = job(store, str(tmp_path / "nowhere.safetensors"))
    good = job(store, str(tiny_model_dir))
    worker.submit(bad)
    worker.submit(good)
    failed = recorder.wait_end(bad.id)
    assert isinstance(failed, JobFailed)
    assert failed.kind == "model" and "nowhere.safetensors" in failed.error
    assert isinstance(recorder.wait_end(good.id), JobFinished)


def test_bad_input_inside_a_job_is_reported_as_such(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path
) -> None:
    spec = job(store, str(tiny_model_dir), scheduler="Euler z")
    worker.submit(spec)
    failed = recorder.wait_end(spec.id)
    assert isinstance(failed, JobFailed) and failed.kind == "bad_input"
    assert "Euler a" in failed.hint


def test_out_of_memory_gets_its_hint(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    def exhausted(*_args: Any) -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(runners, "run_generate", exhausted)
    spec = job(store, str(tiny_model_dir))
    worker.submit(spec)
    failed = recorder.wait_end(spec.id)
    assert isinstance(failed, JobFailed) and failed.kind == "out_of_memory"
    assert "attention slicing" in failed.hint and "CPU offload" in failed.hint


def test_an_unexpected_error_keeps_its_traceback_for_the_log(
    worker: Worker,
    recorder: Recorder,
    store: SessionStore,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: Any) -> None:
        raise KeyError("latents")

    monkeypatch.setattr(runners, "run_generate", broken)
    spec = job(store, str(tiny_model_dir))
    worker.submit(spec)
    failed = recorder.wait_end(spec.id)
    assert isinstance(failed, JobFailed) and failed.kind == "bug"
    assert "KeyError" in failed.error and "Traceback" in failed.detail


def test_cancel_discards_the_running_generation(
    recorder: Recorder, store: SessionStore, tiny_model_dir: Path
) -> None:
    spec = job(store, str(tiny_model_dir), steps=200)
    holder: dict[str, Worker] = {}

    def listen(event: Event) -> None:
        recorder(event)
        if isinstance(event, Progress) and event.step == 2:
            holder["worker"].cancel(event.job_id)

    holder["worker"] = worker = Worker(listen).start()
    try:
        worker.submit(spec)
        assert isinstance(recorder.wait_end(spec.id), JobCancelled)
    finally:
        worker.stop()
    assert max(p.step for p in recorder.of(spec.id, Progress)) == 2
    assert recorder.of(spec.id, ImageReady) == []
    assert not (store.path / "images").exists() or not any((store.path / "images").iterdir())


def test_a_queued_job_cancelled_before_it_starts_never_runs(
    worker: Worker, recorder: Recorder, store: SessionStore, tiny_model_dir: Path
) -> None:
    first, second = job(store, str(tiny_model_dir)), job(store, str(tiny_model_dir))
    worker.submit(first)
    worker.submit(second)
    worker.cancel(second.id)
    assert isinstance(recorder.wait_end(second.id), JobCancelled)
    assert recorder.of(second.id, JobStarted) == []


def test_a_broken_listener_does_not_kill_the_worker(
    store: SessionStore, tiny_model_dir: Path
) -> None:
    recorder = Recorder()

    def listen(event: Event) -> None:
        recorder(event)
        if isinstance(event, Progress):
            raise RuntimeError("the UI went away")

    worker = Worker(listen).start()
    try:
        spec = job(store, str(tiny_model_dir))
        worker.submit(spec)
        assert isinstance(recorder.wait_end(spec.id), JobFinished)
    finally:
        worker.stop()


def test_stop_ends_an_idle_worker_promptly(recorder: Recorder) -> None:
    worker = Worker(recorder).start()
    worker.stop(timeout=2)
    assert not worker._thread.is_alive()


def test_when_a_job_ends_the_worker_already_says_it_is_free(
    store: SessionStore, tiny_model_dir: Path
) -> None:
    """The UI shows "idle" on a job's end only when nothing else runs: asked at that moment,
    the worker must not still count the job that just ended (the header stayed "ready")."""
    busy_at_end: list[bool] = []
    recorder = Recorder()

    def listener(event: Any) -> None:
        if isinstance(event, JobFinished | JobFailed | JobCancelled):
            busy_at_end.append(running.busy)
        recorder(event)

    running = Worker(listener).start()
    try:
        good, bad = job(store, str(tiny_model_dir)), job(store, str(tiny_model_dir), steps=0)
        assert isinstance(recorder.run(running, good), JobFinished)
        assert isinstance(recorder.run(running, bad), JobFailed)
    finally:
        running.stop()
    assert busy_at_end == [False, False]
