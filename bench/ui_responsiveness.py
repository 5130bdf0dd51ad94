"""Start-up time and key-to-screen latency of the real app, driven through a pseudo-terminal.

    python bench/ui_responsiveness.py [--model REF] [--runs 5] [--keys 40]

1. Time from process start to first frame (the header drawn), median of --runs starts.
2. While the worker generates (150 steps on the model), type --keys characters into the prompt
   one at a time and time each until the terminal output carries it back: p50 and p95.
Reads the bytes the app writes, as a terminal would; nothing is mocked.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spawn(args: list[str], sessions: Path) -> tuple[int, int, float]:
    """Start genai-tui on a pty; returns (pid, master fd, start time)."""
    command = [sys.executable, "-m", "genai_tui.cli", *args, "--sessions-dir", str(sessions)]
    return spawn_command([*command, "--images", "halfcell"])


def spawn_command(command: list[str], size: tuple[int, int] = (42, 140)) -> tuple[int, int, float]:
    """Start any command on a pty of `size` (rows, columns); returns (pid, master fd, start)."""
    rows, columns = size
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TERM="xterm-256color", COLUMNS=str(columns), LINES=str(rows))
        os.execv(command[0], command)
    # A real terminal size, as a terminal emulator would set it.
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    os.set_blocking(fd, False)
    return pid, fd, started


def read_until(fd: int, needle: bytes, timeout: float) -> tuple[float, bytes]:
    """Read output until `needle` appears; returns (time it appeared, output)."""
    deadline = time.perf_counter() + timeout
    seen = b""
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.01)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            if needle in seen:
                return time.perf_counter(), seen
    raise TimeoutError(f"{needle!r} not seen within {timeout} s")


def stop(pid: int, fd: int) -> float:
    """SIGTERM the app, as a closing terminal would, reading its output until it exits."""
    started = time.perf_counter()
    os.kill(pid, signal.SIGTERM)
    try:
        while os.waitpid(pid, os.WNOHANG)[0] == 0:
            drain(fd, 0.05)  # an app blocked writing to an unread terminal could not exit
            if time.perf_counter() - started > 60:
                os.kill(pid, signal.SIGKILL)
    finally:
        os.close(fd)
    return time.perf_counter() - started


def drain(fd: int, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if select.select([fd], [], [], 0.01)[0]:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    os.chdir(ROOT)
    sessions = Path(tempfile.mkdtemp())
    firsts: list[float] = []
    exits: list[float] = []
    for run in range(args.runs):
        pid, fd, started = spawn(["--model", args.model, "--session", f"start{run}"], sessions)
        seen_at, _ = read_until(fd, b"session:", 60)
        firsts.append(seen_at - started)
        read_until(fd, b"ready", 120)
        exits.append(stop(pid, fd))
    print(
        f"first frame after process start: median {statistics.median(firsts):.3f} s "
        f"(runs: {', '.join(f'{t:.3f}' for t in firsts)})"
    )
    print(f"exit after SIGTERM (model loaded): median {statistics.median(exits):.2f} s")

    pid, fd, _ = spawn(["--model", args.model, "--session", "typing"], sessions)
    read_until(fd, b"ready", 120)  # the model is loaded
    drain(fd, 0.5)
    for key in b"a red circle":
        os.write(fd, bytes([key]))
    drain(fd, 0.3)
    os.write(fd, b"\x07")  # ctrl+g: generate with the default 25 steps ...
    read_until(fd, b"step", 60)
    latencies = []
    for _ in range(args.keys):
        sent = time.perf_counter()
        os.write(fd, b"z")
        seen_at, _ = read_until(fd, b"z", 10)
        latencies.append(seen_at - sent)
        drain(fd, 0.05)
    stop(pid, fd)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(
        f"key-to-screen while generating: p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms over {len(latencies)} keys"
    )


if __name__ == "__main__":
    main()
