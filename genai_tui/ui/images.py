"""Images in the terminal: which textual-image widget to use, and small thumbnails to feed it.

textual-image would ask the terminal about graphics when it is imported; here it is told what
ui/graphics.py learned (or what `--images` names) and asks nothing, so it can be imported at any
time. Thumbnails are pre-scaled and cached: over SSH every render resends pixels, so they must
be small.

textual-image stretches a picture to its widget's box, so the box is sized here from the
picture's aspect ratio and a cell's size in pixels (widgets/picture.py does it for every image
the app draws).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_tui.ui.graphics import TerminalFacts

if TYPE_CHECKING:
    from PIL import Image

IMAGE_MODES = ("auto", "tgp", "sixel", "halfcell", "unicode")

THUMB_PIXELS = 96
"""Longest side of a gallery thumbnail, in pixels."""

FALLBACK_CELL = (10, 20)
"""A cell's pixels when the terminal does not say (textual-image's own assumption, VT340)."""


class _NotATerminal:
    """sys.__stdout__ as textual-image's import sees it: no terminal to ask."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def image_widget_class(mode: str = "auto", facts: TerminalFacts | None = None) -> Any:
    """The textual-image widget class for `mode` (one of IMAGE_MODES), imported without letting
    textual-image query the terminal: `facts` (ui.graphics.ask) decide "auto"."""
    if mode not in IMAGE_MODES:
        raise ValueError(f"unknown image mode {mode!r}: use one of {', '.join(IMAGE_MODES)}")
    facts = facts or TerminalFacts()
    import textual_image._terminal as terminal

    # get_cell_size() caches its answer in this attribute: with it set, nothing is asked.
    terminal.get_cell_size._result = terminal.CellSize(*(facts.cell or FALLBACK_CELL))  # type: ignore[attr-defined]
    real = sys.__stdout__
    setattr(sys, "__stdout__", _NotATerminal(real))  # noqa: B010 - sys.__stdout__ is typed Final
    try:
        import textual_image.widget as widgets
    finally:
        setattr(sys, "__stdout__", real)  # noqa: B010
    if mode == "auto":
        if not facts.tty:
            return widgets.UnicodeImage
        mode = facts.graphics or "halfcell"
    classes = {
        "tgp": widgets.TGPImage,
        "sixel": widgets.SixelImage,
        "halfcell": widgets.HalfcellImage,
        "unicode": widgets.UnicodeImage,
    }
    return classes[mode]


class ImageDrawing:
    """How this terminal draws images: textual-image's widget class for the mode, imported
    after the first frame (with numpy for Sixel it costs more than the rest of the UI). Until
    then pictures hold their image and draw it once `load` has run."""

    def __init__(self, mode: str = "auto", facts: TerminalFacts | None = None) -> None:
        if mode not in IMAGE_MODES:
            raise ValueError(f"unknown image mode {mode!r}: use one of {', '.join(IMAGE_MODES)}")
        self.mode = mode
        self.facts = facts or TerminalFacts()
        self.widget_class: Any | None = None
        """textual-image's widget class, once loaded."""

    def load(self) -> Any:
        """Import textual-image (asking the terminal nothing) and keep the widget class."""
        if self.widget_class is None:
            self.widget_class = image_widget_class(self.mode, self.facts)
        return self.widget_class


def show_picture(widget: Any, picture: Image.Image | None) -> None:
    """Put a picture (or nothing) in a Picture (or a bare textual-image widget)."""
    widget.image = picture


def cell_pixels() -> tuple[int, int]:
    """A terminal cell's (width, height) in pixels, as textual-image measured it at import."""
    try:
        # Not public in textual-image 0.12; asked once, before the app took over the terminal.
        from textual_image._terminal import get_cell_size

        size = get_cell_size()
    except Exception:  # moved in a later release, or stdout closed: the usual cell then
        return FALLBACK_CELL
    return (size.width, size.height) if size.width > 0 and size.height > 0 else FALLBACK_CELL


def fit_cells(
    picture: tuple[int, int], box: tuple[int, int], cell: tuple[int, int] = FALLBACK_CELL
) -> tuple[int, int]:
    """The largest (columns, rows) within `box` that shows a `picture` of (width, height) pixels
    at its own aspect ratio on cells of `cell` pixels; (0, 0) when nothing fits."""
    width, height = picture
    columns, rows = box
    cell_width, cell_height = cell
    if min(width, height, columns, rows, cell_width, cell_height) <= 0:
        return 0, 0
    scale = min(columns * cell_width / width, rows * cell_height / height)
    fitted_columns = min(columns, max(1, round(width * scale / cell_width)))
    fitted_rows = min(rows, max(1, round(height * scale / cell_height)))
    return fitted_columns, fitted_rows


class ThumbnailCache:
    """Pre-scaled thumbnails by path, least recently used dropped first."""

    def __init__(self, size: int = THUMB_PIXELS, capacity: int = 400) -> None:
        self._size = size
        self._capacity = capacity
        self._items: OrderedDict[Path, Image.Image] = OrderedDict()

    def get(self, path: Path) -> Image.Image | None:
        """The thumbnail of `path`, or None when the file is gone or unreadable."""
        cached = self._items.get(path)
        if cached is not None:
            self._items.move_to_end(path)
            return cached
        try:
            from PIL import Image

            with Image.open(path) as source:
                thumb = source.convert("RGB")
        except (OSError, ValueError):
            return None
        thumb.thumbnail((self._size, self._size), Image.Resampling.LANCZOS)
        if thumb.width < self._size // 2:
            # Tiny images (the demo model draws 32 px) are blown up with hard edges, not blur.
            scale = self._size // max(thumb.width, thumb.height)
            thumb = thumb.resize(
                (thumb.width * scale, thumb.height * scale), Image.Resampling.NEAREST
            )
        self._items[path] = thumb
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return thumb

    def forget(self, path: Path) -> None:
        """Drop a thumbnail (the image was deleted)."""
        self._items.pop(path, None)
