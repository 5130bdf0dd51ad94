"""The daemon as its clients see it: jobs through one interface in both modes, reattaching,
bad messages, failures and disconnects, kill -9, a start race, other users, two workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genai_tui.daemon.client import DaemonClient
from genai_tui.daemon.codec import PROTOCOL_VERSION
from genai_tui.daemon.errors import DaemonError
from genai_tui.daemon.jobs import open_jobs
from genai_tui.daemon.paths import socket_path
from genai_tui.daemon.server import Daemon
from genai_tui.engine.params import GenerateParams
from genai_tui.jobs.events import (
    ImageReady,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    Progress,
)
from genai_tui.jobs.specs import GenerateJob
from genai_tui.session.store import SessionStore
from tests.daemon.conftest import alive, daemon_pid
from tests.fixtures.recorder import Recorder


def generate(root: Path, model: Path, steps: int = 3, **params: object) -> GenerateJob:
    store = SessionStore.open(root, "s")
    return GenerateJob(
        GenerateParams("a red circle", steps=steps, seed=1, **params), str(model), store,
        score=False,
    )  # fmt: skip


def wait_until(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "daemon"])
def test_both_modes_run_a_generation_through_one_interface(
    in_process: bool, root: Path, tiny_model_dir: Path, threaded_daemon: Daemon
) -> None:
    recorder = Recorder()
    jobs = open_jobs(root, recorder, in_process=in_process)
    jobs.start()
    job = generate(root, tiny_model_dir)
    assert jobs.submit(job) == job.id
    assert isinstance(recorder.wait_end(job.id), JobFinished)
    [ready] = recorder.of(job.id, ImageReady)
    assert ready.path.is_file() and recorder.of(job.id, Progress)
    assert not jobs.busy
    listed = {info.id: info for info in jobs.list_jobs()}
    assert listed[job.id].state == "done" and listed[job.id].session == "s"
    jobs.stop()


def test_a_client_that_connects_mid_job_sees_it_from_the_start_and_the_job_goes_on(
    root: Path, tiny_model_dir: Path, threaded_daemon: Daemon
) -> None:
    first = Recorder()
    submitter = DaemonClient(root, first)
    submitter.start()
    job = generate(root, tiny_model_dir, steps=400)
    submitter.submit(job)
    wait_until(lambda: len(first.of(job.id, Progress)) >= 3)
    submitter.stop()  # the terminal went away mid-stream
    later = Recorder()
    watcher = DaemonClient(root, later)
    watcher.start()
    assert isinstance(later.wait_end(job.id), JobFinished)
    kinds = [type(e) for e in later.events if e.job_id == job.id]
    assert kinds[0] is JobStarted  # replayed: it started before this client came
    info = watcher.info(job.id)
    assert info is not None and info.session == "s"
    assert len(later.of(job.id, ImageReady)) == 1
    watcher.stop()


def test_a_failing_job_reaches_every_client_and_the_daemon_lives(
    root: Path, tiny_model_dir: Path, tmp_path: Path, threaded_daemon: Daemon
) -> None:
    one, two = Recorder(), Recorder()
    a, b = DaemonClient(root, one), DaemonClient(root, two)
    a.start()
    b.start()
    bad = generate(root, tmp_path / "no-such-model.safetensors")
    a.submit(bad)
    for recorder in (one, two):
        failed = recorder.wait_end(bad.id)
        assert isinstance(failed, JobFailed) and "no-such-model" in failed.error
    good = generate(root, tiny_model_dir)
    a.submit(good)
    assert isinstance(one.wait_end(good.id), JobFinished)
    a.stop()
    b.stop()


def raw(root: Path) -> tuple[socket.socket, object]:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(str(socket_path(root)))
    return sock, sock.makefile("rb")


def exchange(sock: socket.socket, stream: object, line: bytes) -> dict[str, object]:
    sock.sendall(line)
    reply: dict[str, object] = json.loads(stream.readline())  # type: ignore[attr-defined]
    return reply


def test_malformed_and_unknown_messages_get_an_error_and_the_daemon_lives_on(
    root: Path, threaded_daemon: Daemon
) -> None:
    sock, stream = raw(root)
    for line, words in [
        (b"this is not json\n", "json"),
        (b"[1, 2]\n", "object"),
        (b'{"op": "explode", "ref": 1}\n', "unknown request"),
        (b'{"op": "submit", "job": {"kind": "paint"}, "ref": 2}\n', "paint"),
        (b'{"op": "cancel", "ref": 3}\n', "job id"),
    ]:
        reply = exchange(sock, stream, line)
        assert reply["op"] == "error" and words in str(reply["error"]).lower(), reply
    hello = {"op": "hello", "version": PROTOCOL_VERSION, "ref": 4}
    reply = exchange(sock, stream, json.dumps(hello).encode() + b"\n")
    assert reply["op"] == "welcome" and reply["ref"] == 4
    sock.close()


def test_another_protocol_version_is_told_plainly(root: Path, threaded_daemon: Daemon) -> None:
    sock, stream = raw(root)
    reply = exchange(sock, stream, b'{"op": "hello", "version": 999, "ref": 1}\n')
    assert reply["op"] == "error" and "protocol" in str(reply["error"])
    assert reply["busy"] is False  # an idle daemon: the client may restart it
    sock.close()


def test_disk_full_while_recording_a_job_is_one_clear_error(
    root: Path, tiny_model_dir: Path, threaded_daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genai_tui.daemon.queue import QueueError

    def full(*_args: object, **_kwargs: object) -> None:
        raise QueueError("the job queue cannot be written: database or disk is full", "free space")

    client = DaemonClient(root, Recorder())
    client.start()
    monkeypatch.setattr(threaded_daemon.queue, "add", full)
    with pytest.raises(DaemonError, match="disk is full"):
        client.submit(generate(root, tiny_model_dir))
    monkeypatch.undo()
    job = generate(root, tiny_model_dir)
    client.submit(job)  # the daemon lives on, its queue intact
    wait_until(lambda: client.info(job.id) is not None)
    client.stop()


# -- real daemon processes ------------------------------------------------------------------------


def test_a_killed_daemon_is_replaced_and_its_job_marked_interrupted(
    root: Path, tiny_model_dir: Path
) -> None:
    recorder = Recorder()
    client = DaemonClient(root, recorder)
    client.start()
    first = client.daemon_pid
    assert first is not None and alive(first)
    job = generate(root, tiny_model_dir, steps=1000)
    client.submit(job)
    wait_until(lambda: recorder.of(job.id, Progress) or recorder.end_of(job.id), 120)
    assert recorder.end_of(job.id) is None, recorder.end_of(job.id)
    os.kill(first, signal.SIGKILL)
    failed = recorder.wait_end(job.id, 30)
    assert isinstance(failed, JobFailed) and "daemon stopped" in failed.error
    assert socket_path(root).exists()  # stale: nobody listens there any more
    again = DaemonClient(root, Recorder())
    again.start()  # a new daemon takes over the socket
    assert again.daemon_pid not in (None, first)
    state = {info.id: info.state for info in again.list_jobs()}
    assert state[job.id] == "interrupted"
    again.stop_daemon()
    again.stop()


def test_two_processes_starting_a_daemon_at_once_start_exactly_one(root: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from genai_tui.daemon.client import DaemonClient;"
        "c = DaemonClient(Path(sys.argv[1]), watch_all=False); c.start(); print(c.daemon_pid)"
    )
    starters = [
        subprocess.Popen([sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE)
        for _ in range(4)
    ]
    pids = {int(p.communicate(timeout=120)[0]) for p in starters}
    assert len(pids) == 1 and pids == {daemon_pid(root)}
    DaemonClient(root, watch_all=False).stop_daemon()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
def test_a_client_of_another_user_is_refused(root: Path) -> None:
    client = DaemonClient(root, watch_all=False)
    client.start()
    code = (
        "import os, socket, sys\nos.setgid(65534)\nos.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1])\n"
        "    print('connected')\nexcept OSError as e:\n    print('refused', e)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(socket_path(root))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.startswith("refused"), done.stdout + done.stderr
    client.stop_daemon()
    client.stop()


def test_the_daemon_leaves_when_idle_and_frees_its_socket(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENAI_TUI_DAEMON_IDLE_MINUTES", "0.02")  # 1.2 s
    client = DaemonClient(root, watch_all=False)
    client.start()
    pid = client.daemon_pid
    client.stop()
    assert pid is not None
    wait_until(lambda: not alive(pid), 30)
    assert not socket_path(root).exists()


def test_two_workers_run_two_jobs_at_once_and_a_pinned_job_waits_for_its_own(
    root: Path, tiny_model_dir: Path, two_worker_daemon: Daemon
) -> None:
    from dataclasses import replace

    from genai_tui.engine.params import LoadOptions

    recorder = Recorder()
    client = DaemonClient(root, recorder)
    client.start()
    long_a, long_b = generate(root, tiny_model_dir, 400), generate(root, tiny_model_dir, 400)
    client.submit(long_a)
    client.submit(long_b)
    wait_until(lambda: recorder.of(long_a.id, Progress) and recorder.of(long_b.id, Progress), 120)
    running = {i.id: i.device for i in client.list_jobs() if i.state == "running"}
    assert set(running) == {long_a.id, long_b.id} and set(running.values()) == {"cpu", "cpu#2"}
    pinned = replace(generate(root, tiny_model_dir), load=LoadOptions(device="cpu#2"))
    client.submit(pinned)
    assert isinstance(recorder.wait_end(pinned.id), JobFinished)
    info = {i.id: i for i in client.list_jobs()}
    assert info[pinned.id].device == "cpu#2"
    # It waited for "its" worker: it started after the job that worker ran had ended.
    ran_there = long_a.id if running[long_a.id] == "cpu#2" else long_b.id
    assert info[pinned.id].started >= info[ran_there].finished  # type: ignore[operator]
    client.stop()


def test_queued_jobs_can_be_moved_and_cancelled(
    root: Path, tiny_model_dir: Path, threaded_daemon: Daemon
) -> None:
    recorder = Recorder()
    client = DaemonClient(root, recorder)
    client.start()
    busy = generate(root, tiny_model_dir, 60)
    first, second, third = (generate(root, tiny_model_dir) for _ in range(3))
    for job in (busy, first, second, third):
        client.submit(job)
    wait_until(lambda: recorder.of(busy.id, Progress), 120)
    assert client.move(third.id, -1)  # third before second
    assert client.cancel(first.id)
    assert isinstance(recorder.wait_end(first.id), JobCancelled)
    for job in (busy, second, third):
        assert isinstance(recorder.wait_end(job.id, 300), JobFinished)
    started = [e.job_id for e in recorder.events if isinstance(e, JobStarted)]
    assert started == [busy.id, third.id, second.id]
    client.stop()
