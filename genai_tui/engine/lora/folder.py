"""A training data folder as training sees it: which files are images, how an image and its
caption are read, and which files are skipped and why.

No torch here: the trainer (engine.lora.data) and the UI's scan while the user types a folder
path (ui.data_scan) both read folders through this module, so the form shows exactly the images
and the skipped files that training will have.
"""

from __future__ import annotations

import codecs
import struct
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError

from genai_tui.engine.errors import BadInput

IGNORED_SUFFIXES = frozenset({".txt", ".md", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".csv"})
"""Files beside the images that are not images and not worth a warning (captions, notes)."""

BACKGROUND = (255, 255, 255)
"""What transparent pixels are laid on: white, as image viewers and web pages show a cut-out,
and as AUTOMATIC1111 flattens transparency (its background colour is white by default).
Dropping the alpha channel instead would train on whatever colour hides under it (often black)."""

NOT_UTF8 = "caption is not UTF-8 text"

_LISTED = 5

# Pillow's decoders raise any of these for a damaged file; each means "this file cannot be used".
_DAMAGED = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)

_MARKS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

Picture = TypeVar("Picture")


class Unusable(Exception):
    """A file that training cannot use; `reason` says why, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SkippedFile:
    """A file of the data folder that training leaves out, and why."""

    name: str
    reason: str


def listing(names: tuple[str, ...] | list[str]) -> str:
    """A few names and how many more."""
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def candidate_files(folder: Path) -> list[Path]:
    """The files of `folder` (not recursive) that training tries as images, in name order.

    Hidden files, folders and captions or notes (IGNORED_SUFFIXES) are passed over silently.
    """
    try:
        paths = sorted(folder.iterdir())
    except OSError as error:
        raise BadInput(
            f"cannot read {folder}: {error.strerror or error}",
            hint="check the folder's permissions",
        ) from error
    return [
        path
        for path in paths
        if not path.name.startswith(".")
        and path.suffix.lower() not in IGNORED_SUFFIXES
        and _is_file(path)
    ]


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a file we may not even stat is no image we can train on, nor worth a word
        return False


def read_rgb(path: Path, *, small: bool = False) -> Image.Image:
    """The image in `path`, upright (EXIF orientation applied), as 8-bit RGB; else Unusable.

    `small` decodes a JPEG at an eighth of its size, for a look rather than for training: every
    check is the same (the whole file is still decoded, so damage still shows), in about a
    quarter of the time.
    """
    try:
        with Image.open(path) as opened:
            if small:
                opened.draft(None, (1, 1))  # the smallest scale the decoder offers
            opened.load()  # decode fully now: a truncated file fails here, not mid-training
            ImageOps.exif_transpose(opened, in_place=True)
            return to_rgb(opened)
    except Image.DecompressionBombError as error:
        raise Unusable("too many pixels (refused as a possible decompression bomb)") from error
    except UnidentifiedImageError as error:
        raise Unusable("not an image") from error
    except OSError as error:
        if error.errno is not None:  # the file system said no (permissions, a vanished file)
            raise Unusable(f"cannot be read: {error.strerror}") from error
        raise Unusable("truncated or damaged image") from error
    except _DAMAGED as error:
        raise Unusable("damaged image") from error


def to_rgb(picture: Image.Image) -> Image.Image:
    """8-bit RGB as the picture looks: deep pixels scaled to 0..255, transparency on BACKGROUND.

    16-bit grey (modes I;16*, and I, which Pillow uses for 16-bit PGM and PNG) maps 0..65535
    to 0..255; floating point (F) maps 0.0..1.0. Values outside those ranges have no agreed
    brightness, so such an image is Unusable rather than guessed.
    """
    mode = picture.mode
    if mode.startswith("I") or mode == "F":
        return _deep_to_rgb(picture)
    try:
        if mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in picture.info:
            ground = Image.new("RGBA", picture.size, (*BACKGROUND, 255))
            return Image.alpha_composite(ground, picture.convert("RGBA")).convert("RGB")
        return picture.convert("RGB")  # L, 1, P, CMYK, YCbCr, ...: Pillow's own conversions
    except ValueError as error:
        raise Unusable(f"pixel format {mode} is not supported") from error


def _deep_to_rgb(picture: Image.Image) -> Image.Image:
    import numpy as np  # only deep images need it; the UI's first frame stays free of numpy

    values = np.asarray(picture)
    if picture.mode == "F":
        finite = np.isfinite(values).all()
        if values.size and not (finite and 0 <= values.min() <= values.max() <= 1):
            raise Unusable("floating-point pixels outside 0..1: brightness unknown")
        grey = np.rint(values * 255)
    else:
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise Unusable("pixel values outside 16 bits: brightness unknown")
        # round(v * 255 / 65535) in integers: 65535 -> 255, 257 * k -> k, nothing clipped.
        grey = (values.astype(np.int64) * 255 + 32767) // 65535
    return Image.fromarray(grey.astype(np.uint8)).convert("RGB")


def read_caption(image: Path) -> str | None:
    """The caption of `image` (the .txt of the same name), whitespace folded; None if none.

    UTF-8, with or without a byte-order mark, or UTF-16 with its byte-order mark. Anything else
    is Unusable, never guessed: a wrong guess would train on garbled words without a sign.
    """
    text_file = image.with_suffix(".txt")
    if not _is_file(text_file):
        return None
    try:
        raw = text_file.read_bytes()
    except OSError as error:
        raise Unusable(f"caption cannot be read: {error.strerror or error}") from error
    return " ".join(_decode(raw).split())


def _decode(raw: bytes) -> str:
    body, encoding = raw, "utf-8"
    for mark, marked in _MARKS:
        if raw.startswith(mark):
            body, encoding = raw[len(mark) :], marked
            break
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        raise Unusable(NOT_UTF8 if encoding == "utf-8" else "caption is broken UTF-16") from error
    # UTF-16 without a mark decodes as "UTF-8" full of NUL bytes; no caption holds control codes.
    if any(unicodedata.category(char) == "Cc" and not char.isspace() for char in text):
        raise Unusable(f"{NOT_UTF8} (control bytes: UTF-16 without a byte-order mark?)")
    return text


@dataclass(frozen=True)
class FolderImage(Generic[Picture]):
    """A readable image of the folder, with its caption file's text or why it cannot be used."""

    path: Path
    picture: Picture = field(compare=False, repr=False)
    caption: str | None = None
    """The caption file's text; None when there is no caption file or it is unusable."""
    caption_problem: str | None = None
    """Why the caption file cannot be used; None when it can, or when there is none."""


@dataclass(frozen=True)
class TrainingSelection(Generic[Picture]):
    """What training takes from a folder given an instance prompt (empty: the captions)."""

    folder: Path
    used: tuple[tuple[FolderImage[Picture], str], ...]
    """Each image trained on, with the caption it trains with."""
    skipped: tuple[SkippedFile, ...]
    uncaptioned: tuple[str, ...]
    """Images without a caption file; training refuses them unless an instance prompt is given."""

    def refusal(self) -> BadInput | None:
        """Why training would refuse this selection, or None when it can start."""
        if self.uncaptioned:
            return BadInput(
                f"{len(self.uncaptioned)} image(s) have no .txt caption: "
                f"{listing(self.uncaptioned)}",
                hint="put a .txt with the same name beside each image, or give one instance "
                "prompt for all (e.g. 'a photo of sks dog')",
            )
        if self.used:
            return None
        if self.skipped:
            why = ", ".join(f"{s.name} ({s.reason})" for s in self.skipped[:_LISTED])
            more = len(self.skipped) - _LISTED
            return BadInput(
                f"no usable image in {self.folder}; skipped {why}"
                + (f" and {more} more" if more > 0 else ""),
                hint="use PNG, JPEG or WebP files with UTF-8 captions",
            )
        return BadInput(
            f"no images in {self.folder}", hint="put 5-50 PNG or JPEG images of your concept there"
        )


@dataclass(frozen=True)
class FolderContents(Generic[Picture]):
    """Every candidate file of a folder, read: the images, and the files that are not images."""

    folder: Path
    images: tuple[FolderImage[Picture], ...]
    unreadable: tuple[SkippedFile, ...]

    def for_training(self, instance_prompt: str) -> TrainingSelection[Picture]:
        """The images and captions training uses.

        An instance prompt replaces every caption, so caption files (and their encodings) do
        not matter then; without one, an image whose caption cannot be read is skipped.
        """
        prompt = instance_prompt.strip()
        used: list[tuple[FolderImage[Picture], str]] = []
        skipped = list(self.unreadable)
        uncaptioned: list[str] = []
        for item in self.images:
            if prompt:
                used.append((item, prompt))
            elif item.caption_problem is not None:
                skipped.append(SkippedFile(item.path.name, item.caption_problem))
            elif item.caption is None:
                uncaptioned.append(item.path.name)
            else:
                used.append((item, item.caption))
        skipped.sort(key=lambda s: s.name)
        return TrainingSelection(self.folder, tuple(used), tuple(skipped), tuple(uncaptioned))


def read_folder(folder: Path, read_picture: Callable[[Path], Picture]) -> FolderContents[Picture]:
    """Read every candidate file of `folder` with `read_picture` (read_rgb, or a wrapper of it
    that raises Unusable the same way) and every caption file beside them."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise BadInput(
            f"data folder not found: {folder}", hint="give a folder of images (--data DIR)"
        )
    images: list[FolderImage[Picture]] = []
    unreadable: list[SkippedFile] = []
    for path in candidate_files(folder):
        try:
            picture = read_picture(path)
        except Unusable as why:
            unreadable.append(SkippedFile(path.name, why.reason))
            continue
        try:
            images.append(FolderImage(path, picture, read_caption(path)))
        except Unusable as why:
            images.append(FolderImage(path, picture, caption_problem=why.reason))
    return FolderContents(folder, tuple(images), tuple(unreadable))
