"""Read an image of the demo world from its pixels: the background, the shape's colour.

The demo CLIP reads images the way the model learned to draw them, so it can forgive what a
person would not (coloured noise with the right average hue). This judge asks only what anyone
sees: is the background one plain colour, is there one blob of one colour on it, and which named
colours are they. It cannot tell shapes apart; the CLIP judge does that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from genai_tui.demo import world

FAR = 60.0
"""RGB distance from the background above which a pixel belongs to the shape (anti-aliased
edges sit between; the world's closest colour pair, gray and purple, is 85 apart)."""

NOISY = 24.0
"""Spread (RGB distance, median) of the background pixels above which it is not plain."""


@dataclass(frozen=True)
class PixelReading:
    """What the pixels say: the nearest named colours, and whether the picture is clean."""

    colour: str
    background: str
    plain_background: bool
    shape_share: float
    """Share of the image's pixels that belong to the shape."""


def _nearest(rgb: NDArray[np.float32], names: dict[str, tuple[int, int, int]]) -> str:
    return min(names, key=lambda name: float(np.linalg.norm(rgb - np.array(names[name]))))


def read_pixels(image: Image.Image) -> PixelReading:
    """Background from the border (shapes keep a margin there), the shape from what differs."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background_rgb = np.median(border, axis=0)
    spread = float(np.median(np.linalg.norm(border - background_rgb, axis=1)))
    distance = np.linalg.norm(pixels - background_rgb, axis=2)
    shape = pixels[distance > FAR]
    colour_rgb = np.median(shape, axis=0) if len(shape) else background_rgb
    return PixelReading(
        colour=_nearest(colour_rgb, world.COLOURS),
        background=_nearest(background_rgb, world.BACKGROUNDS),
        plain_background=spread <= NOISY,
        shape_share=len(shape) / distance.size,
    )


def follows(image: Image.Image, colour: str, background: str) -> bool:
    """True when the pixels show a plain `background` with a `colour` shape on it."""
    reading = read_pixels(image)
    return (
        reading.plain_background
        and reading.background == background
        and reading.colour == colour
        and reading.shape_share >= 0.05
    )


@dataclass(frozen=True)
class ShapeCleanness:
    """How crisp a generated shape is, from its pixels (finding 16 of issue 11)."""

    fill: float
    """Share of the shape's bounding box the shape covers (a drawn square: about 1)."""
    smudge: float
    """Share of the image's pixels that are neither background nor shape colour."""
    cast: float
    """Largest spread between the background's channels (a clean white: under 10)."""


def _split(image: Image.Image) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[Any]]:
    """(pixels, the background colour (the border's median), each pixel's distance from it)."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    return pixels, background, np.linalg.norm(pixels - background, axis=2)


def shape_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the pixels far from the background; None: no shape."""
    _pixels, _background, from_background = _split(image)
    rows, columns = np.nonzero(from_background > FAR)
    if not rows.size:
        return None
    return int(columns.min()), int(rows.min()), int(columns.max()) + 1, int(rows.max()) + 1


def cleanness(image: Image.Image) -> ShapeCleanness:
    """Fill of the bounding box, stray pixels and the background's colour cast."""
    pixels, background, from_background = _split(image)
    shape = from_background > FAR
    if not shape.any():
        return ShapeCleanness(0.0, 0.0, float(background.max() - background.min()))
    rows, columns = np.nonzero(shape)
    box = (rows.max() - rows.min() + 1) * (columns.max() - columns.min() + 1)
    colour = np.median(pixels[shape], axis=0)
    from_colour = np.linalg.norm(pixels - colour, axis=2)
    # Anti-aliased edges lie between the two colours; a smudge is far from both and from the
    # line between them.
    stray = (
        (from_background > FAR)
        & (from_colour > FAR)
        & (from_background + from_colour > np.linalg.norm(colour - background) + FAR)
    )
    return ShapeCleanness(
        fill=float(shape.sum() / box),
        smudge=float(stray.mean()),
        cast=float(background.max() - background.min()),
    )
