"""A look at a training data folder while the user types its path: what training will use.

The rules (which files are images, how images and captions are read, what is skipped and why)
are engine.lora.folder's, the trainer's own, so the form and training agree; that module loads
no torch. This adds the form's wording, and remembers the files it has checked: the form checks
again after every pause in the typing and once more on Start, and decoding every photo each time
would stall it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from genai_tui.engine.errors import BadInput
from genai_tui.engine.lora.folder import (
    IGNORED_SUFFIXES,
    FolderContents,
    Unusable,
    listing,
    read_folder,
    read_rgb,
)

__all__ = ["IGNORED_SUFFIXES", "SCAN_AFTER_TYPING", "DataScan", "listing", "scan_folder"]

SCAN_AFTER_TYPING = 0.3
"""Seconds without an edit before the form looks at the folder: not at every key, since a path
on its way to the one meant (/data/photos on the way to /data/photos/dog) may hold thousands."""

_REMEMBERED = 4096

_checked: dict[tuple[str, int, int], str] = {}
"""Why a file (by path, size and modification time) cannot be used; "" when it can."""


@dataclass(frozen=True)
class DataScan:
    """What a data folder holds, as training would see it."""

    folder: Path
    contents: FolderContents[None] | None = None
    """Every image and skipped file, read by training's own rules; None when `error`."""
    error: str | None = None
    """Why the folder cannot be used at all (missing, not a folder, no images)."""

    @property
    def images(self) -> tuple[str, ...]:
        """The readable images."""
        return tuple(item.path.name for item in self.contents.images) if self.contents else ()

    @property
    def uncaptioned(self) -> tuple[str, ...]:
        """Readable images without a .txt caption beside them."""
        return self.contents.for_training("").uncaptioned if self.contents else ()

    @property
    def unreadable(self) -> tuple[str, ...]:
        """Files that are not usable images (training skips them)."""
        return tuple(s.name for s in self.contents.unreadable) if self.contents else ()

    @property
    def captions(self) -> int:
        """Readable images with a usable caption."""
        return len(self.contents.for_training("").used) if self.contents else 0

    def problem(self, instance_prompt: str) -> str | None:
        """Why training would refuse this folder with these captions, or None."""
        if self.error or self.contents is None:
            return self.error
        refusal = self.contents.for_training(instance_prompt).refusal()
        return None if refusal is None else _sentence(refusal)

    def summary(self, instance_prompt: str) -> str:
        """One or a few lines for the form."""
        problem = self.problem(instance_prompt)
        if self.error or self.contents is None:
            return problem or ""
        text = f"{len(self.images)} images, {self.captions} captions"
        if instance_prompt.strip():
            text += " (not used: one instance prompt for all)"
        selection = self.contents.for_training(instance_prompt)
        if selection.skipped and (selection.used or selection.uncaptioned):  # else: the problem
            text += "\nskipped: " + listing([f"{s.name} ({s.reason})" for s in selection.skipped])
        if problem:
            text += f"\n{problem}"
        return text


def scan_folder(folder: Path) -> DataScan:
    """Look at every file of `folder` (not recursive); slow folders belong in a thread."""
    folder = Path(folder).expanduser()
    if not str(folder).strip() or str(folder) == ".":
        return DataScan(folder, error="type the path of a folder of training images")
    if not folder.exists():
        return DataScan(folder, error=f"no such folder: {folder}")
    if not folder.is_dir():
        return DataScan(folder, error=f"not a folder: {folder}")
    try:
        contents = read_folder(folder, _check_image)
    except BadInput as error:
        return DataScan(folder, error=_sentence(error))
    if not contents.images:
        refusal = contents.for_training("").refusal()
        return DataScan(folder, contents, _sentence(refusal) if refusal else None)
    return DataScan(folder, contents)


def _sentence(error: BadInput) -> str:
    return f"{error}; {error.hint}" if error.hint else str(error)


def _check_image(path: Path) -> None:
    """Read `path` as training would (raising Unusable the same way), once per file version;
    JPEGs at an eighth of their size, which finds the same faults."""
    try:
        stat = path.stat()
    except OSError as error:
        raise Unusable(f"cannot be read: {error.strerror or error}") from error
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    reason = _checked.get(key)
    if reason is None:
        try:
            read_rgb(path, small=True)
            reason = ""
        except Unusable as why:
            reason = why.reason
        if len(_checked) >= _REMEMBERED:
            _checked.clear()
        _checked[key] = reason
    if reason:
        raise Unusable(reason)
