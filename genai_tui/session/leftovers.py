"""What a killed writer leaves in a session folder, found and removed when the session opens.

Two kinds, both ours by name and both told from a live writer's by its lock (atomic.py):
temporaries (`.session.json.<pid>-<hex>.tmp`, `images/.0008-42.png.<pid>-<hex>.tmp`) and image
names claimed for a PNG that was never written (an empty `images/0008-42.png` with no record).
Nothing else is ever removed: not a PNG with bytes in it, not a file of another name.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Collection
from pathlib import Path

from genai_tui.session.atomic import OLD_TEMP_NAME, TEMP_NAME, remove_if_abandoned
from genai_tui.session.names import IMAGES_DIR, SESSION_FILE

STALE_AFTER = 600.0
"""Seconds after its last change that a temporary no lock can vouch for counts as abandoned: one
of an older version (which did not lock), or on a platform without flock. A write takes seconds."""


def remove_leftovers(folder: Path, recorded: Collection[str]) -> list[Path]:
    """Remove a killed writer's leftovers from session `folder`; returns what was removed.

    `recorded` holds the session's image records' `file` values ("images/0008-42.png"): an empty
    PNG with a record is a damaged image, reported elsewhere, never removed here. Call it under
    the session's lock, so that no image name is being claimed meanwhile. Never raises for a
    file it cannot remove (a read-only folder keeps its leftovers).
    """
    removed: list[Path] = []
    images = folder / IMAGES_DIR
    for where, targets in ((folder, (SESSION_FILE,)), (images, (".png",))):
        for path in _entries(where):
            if _remove_temp(path, targets):
                removed.append(path)
    for path in _entries(images):
        if f"{IMAGES_DIR}/{path.name}" not in recorded and _remove_unwritten_claim(path):
            removed.append(path)
    return removed


def _entries(folder: Path) -> list[Path]:
    try:
        return [folder / name for name in sorted(os.listdir(folder))]
    except OSError:
        return []


def _old(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime > STALE_AFTER
    except OSError:
        return False


def _remove_temp(path: Path, targets: tuple[str, ...]) -> bool:
    if TEMP_NAME.match(path.name) is None:
        old = OLD_TEMP_NAME.match(path.name)
        # An older version's temporary: no lock to ask, so only an old one goes.
        if old is None or not old.group("target").endswith(targets) or not _old(path):
            return False
    removed = remove_if_abandoned(path)
    return removed if removed is not None else _old(path) and _unlink(path)


def _remove_unwritten_claim(path: Path) -> bool:
    if path.name.startswith(".") or path.suffix != ".png":
        return False
    try:
        if path.stat().st_size != 0:
            return False
    except OSError:
        return False
    removed = remove_if_abandoned(path, empty_only=True)
    return removed if removed is not None else _old(path) and _unlink(path)


def _unlink(path: Path) -> bool:
    with contextlib.suppress(OSError):
        path.unlink()
        return True
    return False
