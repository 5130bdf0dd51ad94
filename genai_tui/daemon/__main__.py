"""`python -m genai_tui.daemon --sessions-dir ROOT`: run the daemon in the foreground.

Started detached by the first genai-tui that needs it (daemon/spawn.py), or by hand with
`genai-tui daemon run`. Options come from the command line, else the environment:
GENAI_TUI_DAEMON_IDLE_MINUTES (default 15) and GENAI_TUI_DAEMON_DEVICES (default: every CUDA
device, else one worker on the machine's best device).
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import sys

from genai_tui.daemon.paths import socket_path, state_dir

IDLE_MINUTES = 15.0
"""Minutes with no jobs and no clients after which the daemon leaves (and frees the GPU)."""


def default_devices() -> list[str]:
    """One worker per visible CUDA device; else one on the machine's best ("auto")."""
    import shutil

    if shutil.which("nvidia-smi") is None:
        return ["auto"]  # no NVIDIA driver: no torch import before the daemon listens
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return ["auto"]
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return [f"cuda:{index}" for index in range(count)] or ["auto"]


def main(argv: list[str] | None = None) -> int:
    """Run until stopped or idle; exit 1 when another daemon already serves the root."""
    parser = argparse.ArgumentParser(prog="genai-tui daemon run", description=__doc__)
    parser.add_argument("--sessions-dir", required=True)
    parser.add_argument("--devices", default=os.environ.get("GENAI_TUI_DAEMON_DEVICES"))
    parser.add_argument(
        "--idle-minutes",
        type=float,
        default=float(os.environ.get("GENAI_TUI_DAEMON_IDLE_MINUTES", IDLE_MINUTES)),
    )
    args = parser.parse_args(argv)
    from genai_tui.session.names import sessions_root

    root = sessions_root(args.sessions_dir)
    # One daemon per root, even when started by hand twice: the second finds this lock held.
    lock = os.open(state_dir(root) / "daemon.pid", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"a genai-tui daemon already runs for {root}", file=sys.stderr)
        return 1
    os.ftruncate(lock, 0)
    os.write(lock, f"{os.getpid()}\n".encode())
    devices = [d.strip() for d in args.devices.split(",")] if args.devices else None
    from genai_tui.daemon.server import Daemon

    daemon = Daemon(root, socket_path(root), devices or default_devices(), args.idle_minutes * 60)
    asyncio.run(daemon.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
