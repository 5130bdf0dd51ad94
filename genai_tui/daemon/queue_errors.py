"""QueueError: one line for the user about the job queue file, and a hint that fits the cause.

A failed change leaves the file as it was (SQLite rolls the transaction back), so the hints for
a full or read-only disk say the queue is intact; a file that cannot be understood is never
written, and the hint is to move it aside.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from genai_tui.session.errors import OTHER_FOLDER


class QueueError(Exception):
    """The job queue cannot be opened, read or changed; str() is one line for the user."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(" ".join(message.split()))
        self.hint = " ".join(hint.split())
        """What the user can do about it; '' when the message says it all."""


def damaged(path: Path, reason: str) -> QueueError:
    """A queue file that is there but is not a (sound) queue: refused, and left as it is."""
    return QueueError(
        f"the job queue {path} is damaged: {reason}",
        f"it was left as it was: move {path.name} aside (an empty queue is then made) "
        "or restore it from a backup",
    )


def refused_newer(path: Path, version: int, supported: int) -> QueueError:
    """A queue written by a newer genai-tui: never changed by this one."""
    return QueueError(
        f"the job queue {path} was written by a newer genai-tui "
        f"(schema {version}; this one knows up to {supported})",
        f"it was left as it was: upgrade genai-tui, or move {path.name} aside to start "
        "an empty queue",
    )


def _cause(error: sqlite3.Error | OSError) -> str:
    """What kind of failure this is: full, read-only, busy, damaged, cannot-open, disk or ''."""
    if isinstance(error, OSError):
        if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return "full"
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "read-only"
        return ""
    # sqlite_errorname is set on errors SQLite raised; the text covers any other (and tests).
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return "full"
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return "read-only"
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or (
        "not a database" in text or "malformed" in text
    ):
        return "damaged"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return "busy"
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return "cannot-open"
    if name.startswith("SQLITE_IOERR") or "disk i/o" in text:
        return "disk"
    return ""


_HINTS = {
    "full": "the disk is full: free some space and try again (the queue file is intact; "
    "jobs already recorded are safe)",
    "read-only": f"the sessions folder cannot be written: fix its permissions or {OTHER_FOLDER}",
    "busy": "another genai-tui process is holding the queue: try again in a moment",
    "cannot-open": f"check that the sessions folder exists and can be written, or {OTHER_FOLDER}",
    "disk": "the disk reported an error: check it (the queue file was not changed)",
}


def sqlite_failed(path: Path, what: str, error: sqlite3.Error | OSError) -> QueueError:
    """The QueueError for `what` (a verb phrase: "record job 1a2b") failing with `error`."""
    reason = (error.strerror or str(error)) if isinstance(error, OSError) else str(error)
    cause = _cause(error)
    if cause == "damaged":
        return damaged(path, reason)
    return QueueError(
        f"the job queue {path}: could not {what}: {reason}",
        _HINTS.get(cause, f"check that the sessions folder can be written, or {OTHER_FOLDER}"),
    )
