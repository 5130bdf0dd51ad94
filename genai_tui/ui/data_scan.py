"""A quick look at a training data folder while the user types its path: images, captions, junk.

engine.lora.data reads folders for training but imports torch, which the UI must not; this
reads only file headers with Pillow and says what training will find.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

IGNORED_SUFFIXES = frozenset({".txt", ".md", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".csv"})
"""Files that are not images and not worth a warning; the same set as engine.lora.data's."""

_LISTED = 5


def listing(names: tuple[str, ...] | list[str]) -> str:
    """A few names and how many more."""
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


@dataclass(frozen=True)
class DataScan:
    """What a data folder holds, as training would see it."""

    folder: Path
    images: tuple[str, ...] = ()
    uncaptioned: tuple[str, ...] = ()
    """Images without a .txt caption beside them."""
    unreadable: tuple[str, ...] = ()
    """Files that are not readable images (training skips them)."""
    error: str | None = None
    """Why the folder cannot be used at all (missing, not a folder, no images)."""

    @property
    def captions(self) -> int:
        """Images with a caption file."""
        return len(self.images) - len(self.uncaptioned)

    def problem(self, instance_prompt: str) -> str | None:
        """Why training would refuse this folder with these captions, or None."""
        if self.error:
            return self.error
        if self.uncaptioned and not instance_prompt.strip():
            return (
                f"{len(self.uncaptioned)} image(s) have no .txt caption: "
                f"{listing(self.uncaptioned)}; add captions or use one instance prompt"
            )
        return None

    def summary(self, instance_prompt: str) -> str:
        """One or two lines for the form."""
        problem = self.problem(instance_prompt)
        if self.error:
            return problem or ""
        text = f"{len(self.images)} images, {self.captions} captions"
        if instance_prompt.strip():
            text += " (not used: one instance prompt for all)"
        if self.unreadable:
            text += f"\nskipped, not readable images: {listing(self.unreadable)}"
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
    images: list[str] = []
    uncaptioned: list[str] = []
    unreadable: list[str] = []
    try:
        paths = sorted(folder.iterdir())
    except OSError as error:
        return DataScan(folder, error=f"cannot read {folder}: {error.strerror or error}")
    for path in paths:
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() in IGNORED_SUFFIXES:
            continue
        try:
            with Image.open(path) as opened:
                opened.verify()
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
            unreadable.append(path.name)
            continue
        images.append(path.name)
        if not path.with_suffix(".txt").is_file():
            uncaptioned.append(path.name)
    if not images:
        hint = "put 5-50 PNG or JPEG images of your concept there"
        what = f"no readable images in {folder}" if unreadable else f"no images in {folder}"
        return DataScan(folder, unreadable=tuple(unreadable), error=f"{what}: {hint}")
    return DataScan(folder, tuple(images), tuple(uncaptioned), tuple(unreadable))
