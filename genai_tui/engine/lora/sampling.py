"""Validation samples during training: fixed prompts and seeds through the training pipeline.

Samples go through `engine.generate`, the very path a user's generation takes, so a sample is
what the user will get from the LoRA at weight 1 (same sampler, same seeds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from genai_tui.engine.generate import generate
from genai_tui.engine.models import LoadedModel
from genai_tui.engine.params import GenerateParams


@dataclass(frozen=True)
class Sample:
    """One validation image."""

    prompt: str
    seed: int
    image: Image.Image
    params: GenerateParams


def make_samples(
    model: LoadedModel, prompts: Sequence[str], seeds: Sequence[int], steps: int, side: int
) -> list[Sample]:
    """One image per prompt and seed, prompt-major."""
    samples = []
    for prompt in prompts:
        for seed in seeds:
            params = GenerateParams(prompt, steps=steps, seed=seed, width=side, height=side)
            made = generate(model, params)
            samples.append(Sample(prompt, seed, made.images[0].image, made.params))
    return samples


def sample_grid(
    rows: Sequence[tuple[int, Sequence[Image.Image]]], label_height: int = 12
) -> Image.Image:
    """One image of all samples: a row per sampling step, labelled with the step."""
    if not rows or not rows[0][1]:
        raise ValueError("no samples to put in a grid")
    width, height = rows[0][1][0].size
    columns = max(len(images) for _, images in rows)
    grid = Image.new("RGB", (columns * width, len(rows) * (height + label_height)), "white")
    draw = ImageDraw.Draw(grid)
    for row, (step, images) in enumerate(rows):
        top = row * (height + label_height)
        draw.text((2, top), f"step {step}", fill="black")
        for column, image in enumerate(images):
            grid.paste(
                image.convert("RGB").resize((width, height)), (column * width, top + label_height)
            )
    return grid
