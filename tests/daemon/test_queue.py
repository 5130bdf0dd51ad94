"""The daemon's job queue: order, pinning, moves, cancels, recovery after a crash, pruning,
concurrent claims, a second process reading, and files it must refuse and leave as they are."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import genai_tui
from genai_tui.daemon import queue as queue_module
from genai_tui.daemon.queue import QUEUE_FILE, JobQueue, QueueError

PROJECT = str(Path(genai_tui.__file__).resolve().parents[1])


class Clock:
    """Epoch seconds that move only when told, so times and orders are exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(tmp_path: Path, clock: Clock) -> Iterator[JobQueue]:
    opened = JobQueue(tmp_path / "sessions" / QUEUE_FILE, clock=clock)
    yield opened
    opened.close()


def add(queue: JobQueue, job_id: str, device: str | None = None, **spec: Any) -> None:
    queue.add(
        job_id,
        "generate",
        f"generate {job_id}",
        {"prompt": job_id, **spec},
        session_root="sessions",
        session="s",
        device=device,
    )


def claim_all(queue: JobQueue, device: str) -> list[str]:
    claimed = []
    while (job := queue.claim_next(device)) is not None:
        claimed.append(job.id)
    return claimed


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": PROJECT}


# -- order, finishing, history ---------------------------------------------------------------


def test_jobs_run_in_the_order_submitted_and_keep_what_they_made(queue: JobQueue) -> None:
    for job_id in ("a", "b", "c"):
        add(queue, job_id)
    first = queue.claim_next("cuda:0")
    assert first is not None and first.id == "a"
    assert first.state == "running" and first.device == "cuda:0" and first.started is not None
    done = queue.finish("a", "done", summary={"images": ["0001-42.png"]})
    assert (done.state, done.summary, done.error) == ("done", {"images": ["0001-42.png"]}, "")
    assert done.finished is not None and done.finished >= first.started
    assert claim_all(queue, "cuda:0") == ["b", "c"]
    failed = queue.finish("b", "failed", error="CUDA out of memory\n  at step 3")
    assert failed.error == "CUDA out of memory at step 3"
    assert queue.get("a") == done
    assert queue.get("a").spec == {"prompt": "a"}  # type: ignore[union-attr]
    assert queue.get("nope") is None


def test_a_job_ends_once(queue: JobQueue) -> None:
    add(queue, "a")
    queue.claim_next("cuda:0")
    queue.finish("a", "done")
    with pytest.raises(QueueError, match="already ended"):
        queue.finish("a", "failed", error="late")
    assert queue.get("a").state == "done"  # type: ignore[union-attr]
    with pytest.raises(QueueError, match="no job"):
        queue.finish("ghost", "done")


def test_the_same_id_twice_is_refused_and_the_first_kept(queue: JobQueue) -> None:
    add(queue, "a", steps=1)
    with pytest.raises(QueueError, match="already in the queue"):
        add(queue, "a", steps=2)
    assert queue.get("a").spec["steps"] == 1  # type: ignore[union-attr]


def test_list_shows_running_then_queued_in_order_then_ended_newest_first(
    queue: JobQueue,
) -> None:
    for job_id in "abcdef":
        add(queue, job_id)
    for _ in range(3):
        queue.claim_next("cuda:0")
    queue.finish("a", "done")
    queue.finish("b", "failed", error="x")
    queue.move("f", -1)
    assert [job.id for job in queue.list()] == ["c", "d", "f", "e", "b", "a"]
    assert [job.id for job in queue.list(states=["done", "failed"])] == ["b", "a"]
    assert [job.id for job in queue.list(limit=2)] == ["c", "d"]
    assert queue.list(states=[]) == []


# -- pinning to a device ---------------------------------------------------------------------


def test_a_pinned_job_waits_for_its_worker_and_unpinned_ones_go_to_any(queue: JobQueue) -> None:
    add(queue, "for-1", device="cuda:1")
    add(queue, "any-a")
    add(queue, "for-0", device="cuda:0")
    add(queue, "any-b")
    assert claim_all(queue, "cuda:0") == ["any-a", "for-0", "any-b"]
    job = queue.claim_next("cuda:1")
    assert job is not None and (job.id, job.device) == ("for-1", "cuda:1")


def test_a_job_pinned_to_a_device_no_worker_has_goes_to_any_when_workers_are_named(
    queue: JobQueue,
) -> None:
    add(queue, "for-3", device="cuda:3")
    assert queue.claim_next("cuda:0") is None
    assert queue.claim_next("cuda:0", devices=["cuda:0", "cuda:1", "cuda:3"]) is None
    job = queue.claim_next("cuda:0", devices=["cuda:0", "cuda:1"])
    assert job is not None and (job.id, job.device) == ("for-3", "cuda:0")


# -- moving and cancelling -------------------------------------------------------------------


def test_move_up_and_down_among_queued_jobs(queue: JobQueue) -> None:
    for job_id in "abcd":
        add(queue, job_id)

    def order() -> str:
        return "".join(job.id for job in queue.list())

    assert queue.move("c", -1) and order() == "acbd"
    assert queue.move("a", +1) and order() == "cabd"
    assert not queue.move("c", -1)  # already first
    assert not queue.move("d", +1)  # already last
    assert queue.move("c", +10) and order() == "abdc"  # stops at the end
    assert queue.move("b", -1) and order() == "badc"
    assert not queue.move("ghost", -1)
    assert claim_all(queue, "cuda:0") == ["b", "a", "d", "c"]
    assert not queue.move("b", +1)  # running now: not among the queued


def test_a_cancelled_queued_job_never_runs(queue: JobQueue) -> None:
    for job_id in "abc":
        add(queue, job_id)
    queue.claim_next("cuda:0")
    assert queue.cancel_queued("b")
    assert not queue.cancel_queued("b")
    assert not queue.cancel_queued("a")  # running: the worker cancels it, not the queue
    assert not queue.cancel_queued("ghost")
    assert claim_all(queue, "cuda:0") == ["c"]
    cancelled = queue.get("b")
    assert cancelled is not None and cancelled.state == "cancelled" and cancelled.finished


# -- recovery and pruning --------------------------------------------------------------------


def test_the_next_daemon_marks_the_running_job_interrupted_and_keeps_the_queued(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / QUEUE_FILE
    first = JobQueue(path, clock=clock)
    for job_id in "abc":
        add(first, job_id)
    first.claim_next("cuda:0")
    first.close()  # the daemon stops while "a" runs

    second = JobQueue(path, clock=clock)
    interrupted = second.recover()
    assert [(job.id, job.state) for job in interrupted] == [("a", "interrupted")]
    assert interrupted[0].error == "the daemon stopped while it ran"
    assert second.get("a") == interrupted[0]
    assert second.recover() == []
    assert claim_all(second, "cuda:0") == ["b", "c"]  # "a" is never run again silently
    second.close()


def test_prune_forgets_only_jobs_that_ended_long_enough_ago(queue: JobQueue, clock: Clock) -> None:
    for job_id in ("old", "recent", "runs", "waits"):
        add(queue, job_id)
    queue.claim_next("cuda:0")
    queue.finish("old", "done")
    clock.now += 500
    queue.claim_next("cuda:0")
    queue.finish("recent", "failed", error="x")
    queue.claim_next("cuda:0")
    clock.now += 1000  # "runs" and "waits" were submitted long ago, but have not ended
    assert queue.prune(older_than_seconds=1200) == 1
    assert sorted(job.id for job in queue.list()) == ["recent", "runs", "waits"]
    assert queue.prune(older_than_seconds=1200) == 0


# -- concurrency -----------------------------------------------------------------------------


def test_four_workers_claiming_at_once_never_get_the_same_job(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / QUEUE_FILE)
    for number in range(200):
        add(queue, f"job-{number}")
    claimed: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def worker(device: str) -> None:
        start.wait()
        claimed[device] = claim_all(queue, device)

    threads = [threading.Thread(target=worker, args=(f"cuda:{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [job_id for ids in claimed.values() for job_id in ids]
    assert len(everything) == 200 and len(set(everything)) == 200
    for device, ids in claimed.items():
        assert all(queue.get(job_id).device == device for job_id in ids)  # type: ignore[union-attr]
    queue.close()


def test_two_processes_claiming_at_once_wait_for_each_other_and_never_share_a_job(
    tmp_path: Path,
) -> None:
    path = tmp_path / QUEUE_FILE
    queue = JobQueue(path)
    for number in range(200):
        add(queue, f"job-{number}")
    claimer = f"""
        import sys, time
        from pathlib import Path
        from genai_tui.daemon.queue import JobQueue
        queue = JobQueue(Path({str(path)!r}))
        sys.stdin.readline()
        while (job := queue.claim_next(sys.argv[1])) is not None:
            print(job.id, flush=True)
            time.sleep(0.002)  # a worker runs its job between claims
    """
    workers = [
        subprocess.Popen(
            [*python(claimer), f"cuda:{n}"],
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    for worker in workers:  # both have opened the queue; now claim at the same moment
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], [err for _, err in outputs]
    claimed = [line for out, _ in outputs for line in out.split()]
    assert len(claimed) == 200 and len(set(claimed)) == 200
    assert all(out for out, _ in outputs), "one process claimed everything: no contention tested"
    queue.close()


def test_a_second_process_reads_the_queue_while_the_daemon_writes(tmp_path: Path) -> None:
    path = tmp_path / QUEUE_FILE
    writer = subprocess.Popen(
        python(f"""
            import time
            from pathlib import Path
            from genai_tui.daemon.queue import JobQueue
            queue = JobQueue(Path({str(path)!r}))
            for n in range(150):
                queue.add(f"j{{n}}", "generate", "t", {{"n": n}}, session_root="r", session="s")
                job = queue.claim_next("cuda:0")
                time.sleep(0.005)  # a job takes a while: the reader gets to look meanwhile
                queue.finish(job.id, "done", summary={{"images": [n]}})
            queue.close()
        """),
        env=child_env(),
    )
    seen = [0]
    while writer.poll() is None or len(seen) < 3:
        if not path.exists():
            assert writer.poll() is None, "the writer ended without making the queue"
            time.sleep(0.01)
            continue
        reader = JobQueue(path)
        jobs = reader.list(limit=1000)
        reader.close()
        assert all(job.state in ("queued", "running", "done") for job in jobs)
        assert len(jobs) >= seen[-1]
        seen.append(len(jobs))
    assert writer.wait(timeout=60) == 0
    assert len(set(seen)) > 2, "the reader never looked while the writer wrote"
    final = JobQueue(path)
    assert len(final.list(states=["done"], limit=1000)) == 150
    final.close()


def test_kill_9_while_adding_keeps_every_job_whose_add_returned(tmp_path: Path) -> None:
    path = tmp_path / QUEUE_FILE
    adder = subprocess.Popen(
        python(f"""
            import sys
            from pathlib import Path
            from genai_tui.daemon.queue import JobQueue
            queue = JobQueue(Path({str(path)!r}))
            n = 0
            while True:
                queue.add(f"j{{n}}", "train", "t", {{"pad": "x" * 3000}}, session_root="r",
                          session="s")
                print(f"j{{n}}", flush=True)
                n += 1
        """),
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert adder.stdout is not None
    acknowledged = [adder.stdout.readline().strip() for _ in range(40)]
    os.kill(adder.pid, signal.SIGKILL)
    adder.wait(timeout=30)
    acknowledged += [line.strip() for line in adder.stdout.read().splitlines()]

    survivor = JobQueue(path)
    recorded = {job.id for job in survivor.list(limit=100_000)}
    assert set(acknowledged) <= recorded
    assert len(recorded) - len(acknowledged) <= 1  # at most the add the kill cut short
    survivor.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- files it must refuse, faults it must survive --------------------------------------------


def test_a_file_that_is_not_a_queue_is_called_damaged_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / QUEUE_FILE
    garbage = bytes(range(256)) * 64
    path.write_bytes(garbage)
    with pytest.raises(QueueError, match="is damaged") as raised:
        JobQueue(path)
    assert "move queue.sqlite3 aside" in raised.value.hint
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == [QUEUE_FILE]


def test_a_queue_from_a_newer_genai_tui_is_refused_and_never_changed(tmp_path: Path) -> None:
    path = tmp_path / QUEUE_FILE
    with sqlite3.connect(path) as newer:
        newer.execute("CREATE TABLE jobs_v9 (id TEXT)")
        newer.execute("PRAGMA user_version = 9")
    before = path.read_bytes()
    with pytest.raises(QueueError, match="newer genai-tui") as raised:
        JobQueue(path)
    assert "upgrade genai-tui" in raised.value.hint
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [QUEUE_FILE]


class FailingWrites(sqlite3.Connection):
    """A connection whose statements starting with `failing` raise `message` while `armed`."""

    armed = False
    failing = "INSERT"
    message = "database or disk is full"

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        if FailingWrites.armed and sql.lstrip().startswith(FailingWrites.failing):
            raise sqlite3.OperationalError(FailingWrites.message)
        return super().execute(sql, *args)


@pytest.mark.parametrize(
    ("failing", "message", "hint"),
    [
        ("INSERT", "database or disk is full", "disk is full"),
        ("COMMIT", "database or disk is full", "disk is full"),
        ("INSERT", "attempt to write a readonly database", "cannot be written"),
    ],
)
def test_a_write_that_fails_says_why_and_leaves_the_queue_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str, message: str, hint: str
) -> None:
    monkeypatch.setattr(
        queue_module.sqlite3, "connect", functools.partial(sqlite3.connect, factory=FailingWrites)
    )
    monkeypatch.setattr(FailingWrites, "failing", failing)
    monkeypatch.setattr(FailingWrites, "message", message)
    path = tmp_path / QUEUE_FILE
    queue = JobQueue(path)
    add(queue, "kept")
    monkeypatch.setattr(FailingWrites, "armed", True)
    with pytest.raises(QueueError, match=message) as raised:
        add(queue, "lost")
    assert hint in raised.value.hint
    monkeypatch.setattr(FailingWrites, "armed", False)
    add(queue, "after")  # the same queue goes on once there is room
    assert [job.id for job in queue.list()] == ["kept", "after"]
    queue.close()
    reopened = JobQueue(path)
    assert [job.id for job in reopened.list()] == ["kept", "after"]
    reopened.close()


def test_sqlite_itself_running_out_of_room_leaves_the_queue_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SQLITE_FULL: the file may not grow (max_page_count), as on a full disk."""
    opened: list[sqlite3.Connection] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = real_connect(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(queue_module.sqlite3, "connect", connect)
    path = tmp_path / QUEUE_FILE
    queue = JobQueue(path)
    add(queue, "kept")
    pages = opened[0].execute("PRAGMA page_count").fetchone()[0]
    opened[0].execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(QueueError, match="full") as raised:
        add(queue, "too-big", pad="x" * 100_000)
    assert "free some space" in raised.value.hint
    add(queue, "small")  # fits in the room left
    queue.close()
    reopened = JobQueue(path)
    assert [job.id for job in reopened.list()] == ["kept", "small"]
    reopened.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_queue_loads_neither_torch_nor_textual() -> None:
    shown = subprocess.run(
        python("import sys, genai_tui.daemon.queue; print(' '.join(sys.modules))"),
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert not {"torch", "diffusers", "textual", "pydantic"} & set(shown)
