"""Image file names in a session: `images/NNNN-<seed>.png`, numbered on, never reused.

A number stays taken by an image in images/, one in trash/ and any record that names it, so a
number never points at two images (a trashed one put back keeps its own).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from genai_tui.session.names import IMAGES_DIR, TRASH_DIR

_NUMBERED = re.compile(r"^(\d{4,})-")


def image_name(number: int, seed: int) -> str:
    """The session-relative name of image `number` made at `seed`."""
    return f"{IMAGES_DIR}/{number:04d}-{seed}.png"


def next_number(session: Path, recorded: Iterable[str]) -> int:
    """One past the highest number in the session's images/, trash/ and `recorded` files.
    Images being written are seen by the names they claimed in images/."""
    names = [Path(file).name for file in recorded]
    for folder in (session / IMAGES_DIR, session / TRASH_DIR):
        try:
            names += os.listdir(folder)
        except OSError:
            continue
    return max((_number_of(name) for name in names), default=0) + 1


def free_trash_path(trash: Path, name: str) -> Path:
    """Where an image called `name` goes in `trash`: a file of that name already there (put
    back by hand, say) is kept, and this one gets `.1`, `.2`, … before its suffix."""
    target = trash / name
    count = 1
    while target.exists():
        target = trash / f"{Path(name).stem}.{count}{Path(name).suffix}"
        count += 1
    return target


def _number_of(file_name: str) -> int:
    match = _NUMBERED.match(file_name)
    return int(match.group(1)) if match else 0
