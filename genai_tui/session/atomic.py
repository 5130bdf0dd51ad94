"""Files written so that a crash, even kill -9, leaves the old file or the new one, never half,
and so that what a killed writer leaves behind can be told from what a live one is writing.

A writer holds an exclusive flock on each file it has made and not yet finished (a temporary, an
image name it claimed) until the file is in place. The kernel drops the lock when the process
dies, however it dies, so "no one holds it" means "its writer is gone" (see leftovers.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")
"""A temporary made here: `.<target name>.<writer pid>-<8 hex>.tmp`, in the target's folder."""

OLD_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[0-9a-f]{8}\.tmp$")
"""A temporary of versions before writers locked theirs (no pid): `.session.json.1a2b3c4d.tmp`."""

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_PROBE_BYTES = 4096  # one block: an empty file can often still be made on a full disk


def lock(fd: int) -> None:
    """Hold an exclusive flock on `fd` (blocking) until it is closed; a no-op without flock."""
    try:
        import fcntl
    except ImportError:  # Windows: leftovers are then told by age alone
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


def remove_if_abandoned(path: Path, empty_only: bool = False) -> bool | None:
    """Remove `path` if no live writer holds its lock (and, with `empty_only`, it is empty).

    Returns whether it was removed; None where flock does not exist (cannot tell). The lock is
    held while removing, so a writer that has just made the file and is about to lock it finds
    it gone (and makes another); a file we may not open is not ours to judge.
    """
    try:
        import fcntl
    except ImportError:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        mine = os.fstat(fd)
        if empty_only and mine.st_size != 0:
            return False
        # Still the file we locked (not one finished over its name since we opened it).
        if os.stat(path).st_ino != mine.st_ino:
            return False
        path.unlink()
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _create_locked(path: Path) -> int | None:
    """Create `path` exclusively and lock it; None when it exists already."""
    while True:
        try:
            fd = os.open(path, _CREATE, 0o666)  # the umask decides, as for a plain open()
        except FileExistsError:
            return None
        lock(fd)
        # Between create and lock, a cleanup may have found it unlocked and removed it.
        if os.fstat(fd).st_nlink > 0:
            return fd
        os.close(fd)


def _temp_for(folder: Path, target: str) -> tuple[int, Path]:
    while True:
        tmp = folder / f".{target}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        fd = _create_locked(tmp)
        if fd is not None:
            return fd, tmp


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a file so that a crash leaves either the old file or the new one, never half.

    The bytes go to a locked temporary file in the same folder, are flushed to disk, then
    replace `path`; the folder is synced too where the platform allows it. Creates the folder.
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temp_for(folder, path.name)
    try:
        with os.fdopen(fd, "wb", closefd=False) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # Renamed while still locked: an unlocked temporary is always a dead writer's.
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    finally:
        os.close(fd)
    _fsync_folder(folder)


def claim(path: Path) -> int | None:
    """Take the name `path` for a file about to be written over it (write_atomically): an empty,
    locked placeholder made with O_EXCL. Returns the descriptor to pass to `release`, or None
    when the name is taken already."""
    return _create_locked(path)


def release(fd: int, path: Path, *, written: bool) -> None:
    """Let go of a claim; when nothing was `written`, remove the placeholder (if still ours)."""
    try:
        if not written:
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    path.unlink()
    finally:
        os.close(fd)


def probe(folder: Path) -> None:
    """Prove that files can be written, synced and removed in `folder`; raises OSError."""
    fd, tmp = _temp_for(folder, "write-check")
    try:
        os.write(fd, bytes(_PROBE_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
        tmp.unlink()


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a folder, which is fine.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
