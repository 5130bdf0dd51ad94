"""Where the daemon of a sessions root lives: its socket, its queue, its log, its start lock.

One daemon per user and sessions root. The socket is in a folder only its user can enter (the
runtime folder, else /tmp/genai-tui-<uid>), named after the root, because Unix socket paths are
short (108 bytes) and sessions roots need not be; everything else is under the sessions root.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

STATE_DIR = ".genai-tui"
"""The daemon's folder under the sessions root (not a session: it holds no session.json)."""


def state_dir(root: Path) -> Path:
    """`<root>/.genai-tui`, made private to its user on first use."""
    folder = Path(root) / STATE_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def queue_file(root: Path) -> Path:
    """The durable queue of the root's daemon."""
    from genai_tui.daemon.queue import QUEUE_FILE

    return state_dir(root) / QUEUE_FILE


def log_file(root: Path) -> Path:
    """What the detached daemon prints (it has no terminal)."""
    return state_dir(root) / "daemon.log"


def start_lock(root: Path) -> Path:
    """Held while a process looks for the daemon and starts one, so only one ever starts."""
    return state_dir(root) / "daemon.lock"


def socket_path(root: Path) -> Path:
    """The Unix socket of the daemon for `root` (its folder made, mode 0700)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "genai-tui" if runtime else Path(f"/tmp/genai-tui-{os.getuid()}")
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    if base.stat().st_uid != os.getuid():  # someone else made it first: not ours to trust
        raise PermissionError(f"{base} belongs to another user: set XDG_RUNTIME_DIR")
    os.chmod(base, 0o700)  # an older folder made with a looser umask is tightened
    digest = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:16]
    return base / f"{digest}.sock"
