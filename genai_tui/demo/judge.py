"""Read images of the world with the demo CLIP: which shape, colour and background.

Zero-shot, the CLIP way: embed one caption per (shape, colour, background) combination, compare
each image with all of them, and read each attribute by summing the caption probabilities over
the other two. Prompts are averaged over the world's phrasings (prompt ensembling).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from genai_tui.demo import world


@dataclass(frozen=True)
class Reading:
    """What the judge sees in one image."""

    shape: str
    colour: str
    background: str


class WorldJudge:
    """The demo CLIP as a zero-shot classifier of the world's attributes."""

    def __init__(
        self, model: Any, processor: Any, shapes: Sequence[str] = world.ALL_SHAPES
    ) -> None:
        self.model = model.eval()
        self.processor = processor
        self.combos = list(itertools.product(shapes, world.COLOURS, world.BACKGROUNDS))
        self._text = self._embed_prompts()

    @classmethod
    def load(cls, folder: Path, shapes: Sequence[str] = world.ALL_SHAPES) -> WorldJudge:
        """Load the demo CLIP (model and processor) from `folder`, offline."""
        from transformers import CLIPModel, CLIPProcessor

        model = CLIPModel.from_pretrained(folder, local_files_only=True)
        processor = CLIPProcessor.from_pretrained(folder, local_files_only=True)
        return cls(model, processor, shapes)

    @torch.no_grad()
    def _embed_prompts(self) -> torch.Tensor:
        embeddings = []
        for template in range(len(world.TEMPLATES)):
            prompts = [world.caption(s, c, b, template) for s, c, b in self.combos]
            tokens = self.processor.tokenizer(prompts, padding=True, return_tensors="pt")
            feats = self.model.get_text_features(**tokens).pooler_output
            embeddings.append(torch.nn.functional.normalize(feats, dim=-1))
        mean = torch.stack(embeddings).mean(0)
        text: torch.Tensor = torch.nn.functional.normalize(mean, dim=-1)
        return text

    @torch.no_grad()
    def probabilities(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Probability of each combination (images x combos)."""
        pixels = self.processor(images=list(images), return_tensors="pt")["pixel_values"]
        feats = self.model.get_image_features(pixel_values=pixels).pooler_output
        feats = torch.nn.functional.normalize(feats, dim=-1)
        scale = self.model.logit_scale.exp()
        probs: torch.Tensor = (scale * feats @ self._text.T).softmax(-1)
        return probs

    def read(self, images: Sequence[Image.Image]) -> list[Reading]:
        """The most probable shape, colour and background of each image, read separately."""
        probs = self.probabilities(images)
        readings = []
        for row in probs:
            shape: dict[str, float] = {}
            colour: dict[str, float] = {}
            background: dict[str, float] = {}
            for (s, c, b), p in zip(self.combos, row.tolist(), strict=True):
                shape[s] = shape.get(s, 0.0) + p
                colour[c] = colour.get(c, 0.0) + p
                background[b] = background.get(b, 0.0) + p
            readings.append(
                Reading(
                    max(shape, key=shape.__getitem__),
                    max(colour, key=colour.__getitem__),
                    max(background, key=background.__getitem__),
                )
            )
        return readings


def accuracy(
    readings: Sequence[Reading], truths: Sequence[tuple[str, str, str]]
) -> dict[str, float]:
    """Share of readings that agree with the truth, per attribute (shape, colour, background)."""
    n = max(len(truths), 1)
    return {
        "shape": sum(r.shape == t[0] for r, t in zip(readings, truths, strict=True)) / n,
        "colour": sum(r.colour == t[1] for r, t in zip(readings, truths, strict=True)) / n,
        "background": sum(r.background == t[2] for r, t in zip(readings, truths, strict=True)) / n,
    }
