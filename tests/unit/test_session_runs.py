"""A training run whose process was killed says so on the next open, with where to resume from,
instead of "running" forever; a run still training is left alone."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from genai_tui.session import runs
from genai_tui.session.models import TrainRun
from genai_tui.session.store import SessionStore
from tests.unit.test_session_leftovers import python, wait_for

TRAINER = """
import sys, time
from pathlib import Path
from genai_tui.session.models import TrainRun
from genai_tui.session.store import SessionStore
store = SessionStore.open(Path(sys.argv[1]), "s", create=False)
store.save_run(TrainRun(name="stars-1", lora="stars", step=3, total_steps=10,
                        checkpoints=["runs/stars-1/checkpoint-2"]))
Path(sys.argv[2]).touch()
time.sleep(600)  # training, until killed
"""


def run_on_disk(root: Path, name: str = "stars-1") -> TrainRun:
    run = SessionStore.open(root, "s", create=False).run(name)
    assert run is not None
    return run


def test_a_killed_train_is_marked_interrupted_with_its_checkpoint(tmp_path: Path) -> None:
    SessionStore.open(tmp_path, "s").save()
    checkpoint = tmp_path / "s" / "runs" / "stars-1" / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    ready = tmp_path / "ready"
    trainer = python(TRAINER, str(tmp_path), str(ready))
    try:
        wait_for(ready, trainer)
        alive = run_on_disk(tmp_path)
        assert (alive.status, alive.pid) == ("running", trainer.pid)
    finally:
        trainer.kill()
        trainer.wait(timeout=30)

    store = SessionStore.open(tmp_path, "s", create=False)
    run = store.run("stars-1")
    assert run is not None and run.status == "interrupted"
    assert f"process {trainer.pid} is gone" in run.error
    assert "at step 3; resume from checkpoint 2" in run.error
    offers = store.resume_offers()
    assert [(o.run, o.checkpoint, o.step) for o in offers] == [("stars-1", checkpoint, 2)]
    assert offers[0].text == 'training run "stars-1" was interrupted: resume from checkpoint 2'
    assert run_on_disk(tmp_path).status == "interrupted"  # written, for every other reader


def write_runs(root: Path, *records: dict[str, object]) -> None:
    """Session "s" with these runs, written as given (as another version or machine did)."""
    store = SessionStore.open(root, "s")
    store.save()
    raw = store.session.model_dump(exclude={"runs"})
    raw["runs"] = [{"name": "stars-1", "lora": "stars", **record} for record in records]
    (root / "s" / "session.json").write_text(json.dumps(raw))


def test_a_run_still_training_stays_running(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    saved = store.save_run(TrainRun(name="stars-1", lora="stars"))  # this very process trains
    assert (saved.pid, saved.host) == (os.getpid(), socket.gethostname())
    assert run_on_disk(tmp_path).status == "running"


def test_a_run_on_another_machine_is_left_to_that_machine(tmp_path: Path) -> None:
    write_runs(tmp_path, {"status": "running", "pid": 999999, "host": "elsewhere", "step": 1})
    assert run_on_disk(tmp_path).status == "running"


def test_a_pid_taken_by_a_later_process_is_not_the_trainer(tmp_path: Path) -> None:
    me = runs.this_process()
    assert isinstance(me["pid_started"], int)  # Linux: known from /proc
    # The pid of a live process (this one), which started at another time than the trainer.
    write_runs(tmp_path, {"status": "running", **me, "pid_started": me["pid_started"] - 1})
    run = run_on_disk(tmp_path)
    assert run.status == "interrupted" and "no checkpoint was saved" in run.error
    assert SessionStore.open(tmp_path, "s").resume_offers() == []


def write_old_run(root: Path, updated: datetime) -> None:
    """A running run as versions before this one wrote it: no process recorded."""
    when = updated.isoformat(timespec="seconds")
    checkpoint = "runs/stars-1/checkpoint-5"
    write_runs(root, {"status": "running", "step": 7, "checkpoints": [checkpoint], "updated": when})
    (root / "s" / checkpoint).mkdir(parents=True)


def test_an_old_running_run_without_a_process_is_interrupted_after_a_while(
    tmp_path: Path,
) -> None:
    write_old_run(tmp_path, datetime.now(UTC) - timedelta(hours=1))
    run = run_on_disk(tmp_path)
    assert run.status == "interrupted" and "at step 7; resume from checkpoint 5" in run.error


def test_a_recent_running_run_without_a_process_is_left_running(tmp_path: Path) -> None:
    write_old_run(tmp_path, datetime.now(UTC) - timedelta(seconds=runs.UNOWNED_STALE_AFTER / 2))
    assert run_on_disk(tmp_path).status == "running"


def test_finished_runs_are_never_touched(tmp_path: Path) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    write_runs(tmp_path, {"status": "finished", "pid": 999999, "updated": long_ago})
    before = (tmp_path / "s" / "session.json").read_bytes()
    assert run_on_disk(tmp_path).status == "finished"
    assert (tmp_path / "s" / "session.json").read_bytes() == before  # opening wrote nothing


def test_resuming_an_interrupted_run_makes_it_running_again(tmp_path: Path) -> None:
    write_old_run(tmp_path, datetime.now(UTC) - timedelta(hours=1))
    store = SessionStore.open(tmp_path, "s")
    run = store.run("stars-1")
    assert run is not None and run.status == "interrupted"
    store.save_run(run.model_copy(update={"status": "running", "error": ""}))
    again = run_on_disk(tmp_path)
    assert (again.status, again.pid) == ("running", os.getpid())
