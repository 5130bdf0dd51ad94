"""The demo world: coloured shapes on plain backgrounds, with captions.

Everything the demo models learn comes from here. A sample is drawn at 4x its native size and
downsampled with a box filter, so edges are anti-aliased the way a photo's would be. The world is
fully determined by a seed: the same seed gives the same images and captions on any machine.

One shape, the star, is held out: the diffusion model never sees it (so a LoRA can teach it), but
the demo CLIP does (so it can judge whether the LoRA worked).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

SIZE = 32
"""Native image size in pixels (square)."""

SUPERSAMPLE = 4
"""Shapes are drawn at SIZE * SUPERSAMPLE and box-downsampled, for anti-aliased edges."""

SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
"""Shapes the diffusion model is trained on."""

HELD_OUT_SHAPE = "star"
"""The shape only CLIP and the LoRA sample set see."""

ALL_SHAPES: tuple[str, ...] = (*SHAPES, HELD_OUT_SHAPE)

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 230),
    "yellow": (245, 215, 40),
    "purple": (150, 60, 190),
    "orange": (245, 140, 30),
}

BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (245, 245, 245),
    "black": (15, 15, 15),
    "gray": (128, 128, 128),
}

TRIGGER_WORD = "zst"
"""Rare token that names the held-out concept in the LoRA sample captions."""

# Several phrasings so the text encoder learns the words, not one sentence template.
TEMPLATES: tuple[str, ...] = (
    "a {colour} {shape} on a {background} background",
    "{colour} {shape}, {background} background",
    "a {colour} {shape} against a {background} background",
    "a picture of a {colour} {shape} on {background}",
)

# The radius range (in native pixels) keeps every shape large enough to tell apart at 32 px.
MIN_RADIUS = 7.0
MAX_RADIUS = 12.5


@dataclass(frozen=True)
class Sample:
    """One image of the world with its caption and the facts the caption states."""

    image: Image.Image
    caption: str
    shape: str
    colour: str
    background: str


def vocabulary() -> list[str]:
    """Every word a caption of the world (or of the LoRA sample set) can use."""
    words: set[str] = {TRIGGER_WORD, *ALL_SHAPES, *COLOURS, *BACKGROUNDS}
    for template in TEMPLATES:
        text = template.format(colour="", shape="", background="").replace(",", " ")
        words.update(text.split())
    return sorted(words)


def caption(shape: str, colour: str, background: str, template: int = 0) -> str:
    """The caption for a shape, colour and background in phrasing number `template`."""
    return TEMPLATES[template % len(TEMPLATES)].format(
        shape=shape, colour=colour, background=background
    )


def _polygon(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """Corner points of a polygonal shape of 'radius' r centred at (cx, cy)."""
    if shape == "square":
        # A square of side 1.6 r has about the area of a circle of radius r.
        h = 0.8 * r
        return [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
    if shape == "triangle":
        # Upright equilateral triangle; its centroid sits a little low so it looks centred.
        cy += 0.15 * r
        return [
            (cx + 1.1 * r * math.cos(math.radians(a)), cy + 1.1 * r * math.sin(math.radians(a)))
            for a in (-90, 30, 150)
        ]
    if shape == "star":
        points = []
        for k in range(10):
            radius = 1.1 * r if k % 2 == 0 else 0.45 * r
            angle = math.radians(-90 + 36 * k)
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        return points
    raise ValueError(f"unknown shape {shape!r}")


def draw(
    shape: str,
    colour: str,
    background: str,
    cx: float,
    cy: float,
    radius: float,
    size: int = SIZE,
) -> Image.Image:
    """Draw one shape; centre and radius are in native pixels of a `size` x `size` image."""
    s = SUPERSAMPLE
    big = Image.new("RGB", (size * s, size * s), BACKGROUNDS[background])
    pen = ImageDraw.Draw(big)
    fill = COLOURS[colour]
    if shape == "circle":
        pen.ellipse(
            [(cx - radius) * s, (cy - radius) * s, (cx + radius) * s, (cy + radius) * s], fill=fill
        )
    else:
        pen.polygon([(x * s, y * s) for x, y in _polygon(shape, cx, cy, radius)], fill=fill)
    return big.resize((size, size), Image.Resampling.BOX)


def random_sample(
    rng: random.Random,
    shapes: Sequence[str] = SHAPES,
    *,
    shape: str | None = None,
    colour: str | None = None,
    background: str | None = None,
) -> Sample:
    """Draw one random sample; fixed `shape`, `colour` or `background` override the draw."""
    # Always consume the same random numbers, fixed or not, so streams stay aligned.
    picked_shape = rng.choice(list(shapes))
    picked_colour = rng.choice(list(COLOURS))
    picked_background = rng.choice(list(BACKGROUNDS))
    radius = rng.uniform(MIN_RADIUS, MAX_RADIUS)
    margin = radius * 1.1 + 1.0
    cx = rng.uniform(margin, SIZE - margin)
    cy = rng.uniform(margin, SIZE - margin)
    template = rng.randrange(len(TEMPLATES))
    shape = shape or picked_shape
    colour = colour or picked_colour
    background = background or picked_background
    image = draw(shape, colour, background, cx, cy, radius)
    return Sample(image, caption(shape, colour, background, template), shape, colour, background)


def samples(seed: int, count: int, shapes: Sequence[str] = SHAPES) -> list[Sample]:
    """`count` samples drawn from the world with `seed`; the same seed gives the same list."""
    rng = random.Random(seed)
    return [random_sample(rng, shapes) for _ in range(count)]


def to_array(images: Sequence[Image.Image]) -> NDArray[np.float32]:
    """Images as one float array (N, 3, H, W) scaled to [-1, 1], as the VAE expects."""
    stack = np.stack([np.asarray(im.convert("RGB"), dtype=np.float32) for im in images])
    return (stack.transpose(0, 3, 1, 2) / 127.5 - 1.0).astype(np.float32)
