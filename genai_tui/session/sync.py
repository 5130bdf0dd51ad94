"""Several processes on one session: the TUI, and `genai-tui train` or `generate` under nohup.

Each process holds the session in memory and replaces session.json whole. Without care the last
writer wins and drops what the others recorded (a LoRA trained headless vanishes from the list
when the TUI saves its editor state). So every change is made under an exclusive lock on
`<session>/.lock`, on top of the file as it is on disk at that moment (re-read when another
process changed it since we last read or wrote it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from genai_tui.session.models import Session

LOCK_FILE = ".lock"

Stamp = tuple[int, int, int]
"""What identifies one version of a file: inode, size, modification time in ns."""


def stamp(file: Path) -> Stamp | None:
    """The version of `file` on disk; None when there is no file."""
    try:
        info = file.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


@contextlib.contextmanager
def locked(folder: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the session's inter-process lock; a no-op where flock does not exist.

    Yields whether it is held: always True when waiting for it; with `wait=False`, False when
    another process holds it (for work that can be left to a later time).
    """
    try:
        import fcntl
    except ImportError:  # Windows: one process per session is assumed there
        yield True
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def merge(ours: Session, theirs: Session, local_changes: bool) -> Session:
    """The session as on disk (`theirs`), keeping this process's unsaved editor state.

    Images, LoRAs and runs are written to disk the moment they change, so the disk holds
    every process's; the editor, prompt history and model are only in memory until save().
    """
    if not local_changes:
        return theirs
    history = [p for p in theirs.prompt_history if p not in ours.prompt_history]
    return theirs.model_copy(
        update={
            "editor": ours.editor,
            "model": ours.model,
            "prompt_history": [*history, *ours.prompt_history],
        }
    )
