"""Daemons for tests: one in a thread of the test process (fast), or real detached processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from genai_tui.daemon.paths import socket_path, state_dir
from genai_tui.daemon.server import Daemon
from genai_tui.daemon.spawn import try_connect
from tests.fixtures.lora_data import single_thread

one_thread = pytest.fixture(scope="module", autouse=True)(single_thread)


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private runtime folder for sockets (short: Unix socket paths stop at 108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="gt-run-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.setenv("GENAI_TUI_DAEMON_IDLE_MINUTES", "2")  # a forgotten one leaves soon
    # A spawned daemon and this test process share two cores: one torch thread each.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def root(tmp_path: Path, runtime: Path) -> Iterator[Path]:
    """A sessions root whose spawned daemons are stopped when the test ends."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    yield folder
    kill_daemon(folder)


def daemon_pid(root: Path) -> int | None:
    """The pid the root's daemon wrote (None when none ever ran)."""
    try:
        text = (state_dir(root) / "daemon.pid").read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # a zombie child of this test process
    return True


def kill_daemon(root: Path) -> None:
    pid = daemon_pid(root)
    if pid is not None and alive(pid):
        os.kill(pid, signal.SIGKILL)


def serve_in_thread(root: Path, devices: list[str]) -> Iterator[Daemon]:
    """A daemon serving `root` from a thread of this process (no torch import to wait for)."""
    daemon = Daemon(root, socket_path(root), devices, idle_seconds=600)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(daemon.run(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while (sock := try_connect(socket_path(root))) is None:
        assert time.monotonic() < deadline, "the daemon did not listen"
        time.sleep(0.02)
    sock.close()
    yield daemon
    loop.call_soon_threadsafe(daemon.stop)
    thread.join(30)


@pytest.fixture
def threaded_daemon(root: Path) -> Iterator[Daemon]:
    """One worker, on the machine's best device."""
    yield from serve_in_thread(root, ["auto"])


@pytest.fixture
def two_worker_daemon(root: Path) -> Iterator[Daemon]:
    """Two workers on the CPU, as a server with two GPUs would have."""
    yield from serve_in_thread(root, ["cpu", "cpu#2"])
