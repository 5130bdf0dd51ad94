"""Finding the daemon of a sessions root, and starting one (detached) when there is none.

The first genai-tui process that needs a daemon starts it; two starting at the same moment are
serialised by a lock, and the second finds the first's. A socket file whose daemon is gone (it
was killed) is noticed by the refused connection and replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from genai_tui.daemon.errors import DaemonUnavailable
from genai_tui.daemon.paths import log_file, socket_path, start_lock

START_SECONDS = 60.0
"""How long a starting daemon may take to listen (it imports no torch before it does)."""


def try_connect(path: Path) -> socket.socket | None:
    """A connected socket to the daemon at `path`, or None when nobody listens there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.contextmanager
def _locked(file: Path) -> Iterator[None]:
    fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def daemon_command(root: Path) -> list[str]:
    """How a daemon for `root` is started (options from the environment: see __main__)."""
    return [sys.executable, "-m", "genai_tui.daemon", "--sessions-dir", str(root)]


def connect(root: Path, *, start: bool = True) -> socket.socket:
    """A connection to the daemon of `root`, starting one first when `start` and none runs."""
    path = socket_path(root)
    sock = try_connect(path)
    if sock is not None:
        return sock
    if not start:
        raise DaemonUnavailable(f"no genai-tui daemon runs for {root}")
    with _locked(start_lock(root)):
        sock = try_connect(path)  # another process started one while we waited for the lock
        if sock is not None:
            return sock
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # nobody listens: a killed daemon's socket
        return _start(root, path)


def _start(root: Path, path: Path) -> socket.socket:
    log = log_file(root)
    with open(log, "ab") as out:
        out.write(f"\n--- started by pid {os.getpid()} at {time.ctime()}\n".encode())
        out.flush()
        process = subprocess.Popen(
            daemon_command(root),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not in this terminal's session: a hang-up leaves it be
            close_fds=True,
        )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        sock = try_connect(path)
        if sock is not None:
            return sock
        if process.poll() is not None:
            raise DaemonUnavailable(
                f"the genai-tui daemon stopped as it started (exit {process.returncode})",
                hint=f"its log says why: {log}",
            )
        time.sleep(0.02)
    process.terminate()
    raise DaemonUnavailable("the genai-tui daemon did not start in time", hint=f"see {log}")
