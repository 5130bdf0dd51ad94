"""What a generation needs, checked before any model is touched. Imports no torch.

`GenerateParams` is the one model of a generation's knobs (their definitions are in
genai_tui.knobs); the job carries it, the editor state and the image record are built from it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, fields, replace
from typing import Any

from genai_tui.engine.errors import BadInput
from genai_tui.engine.schedulers import find_sampler
from genai_tui.knobs import (
    BATCH,
    HEIGHT,
    LORAS,
    MAX_SEED,
    SEED,
    WIDTH,
    ImageKnobs,
    Knob,
    knob,
)

__all__ = ["MAX_SEED", "GenerateParams", "LoadOptions", "LoraWeight"]


@dataclass(frozen=True)
class LoraWeight:
    """A LoRA to generate with, and how strongly (A1111's `<lora:name:weight>`)."""

    name_or_path: str = field(
        metadata={"help": "A LoRA of the session by name, or a .safetensors file (any format)."}
    )
    weight: float = field(default=1.0, metadata={"help": LORAS.help})

    @classmethod
    def parse(cls, text: str) -> LoraWeight:
        """'style:0.8' -> ('style', 0.8); 'style' -> weight 1. A part after the last ':' that
        is no number belongs to the name (e.g. a Windows path)."""
        name, sep, weight = text.rpartition(":")
        if sep and name:
            try:
                return cls(name, float(weight))
            except ValueError:
                pass
        return cls(text)


@dataclass(frozen=True)
class GenerateParams(ImageKnobs):
    """The knobs of one text-to-image generation."""

    seed: int | None = knob(SEED)
    """None: drawn when the job runs (`with_seed`)."""
    width: int | None = knob(WIDTH)
    """None: the model's native size."""
    height: int | None = knob(HEIGHT)
    batch_size: int = knob(BATCH)
    loras: tuple[LoraWeight, ...] = knob(LORAS)

    def validate(self) -> GenerateParams:
        """Raise BadInput for the first unusable value; return self so calls can chain."""
        if not self.prompt.strip():
            raise BadInput("the prompt is empty", hint="write what to draw")
        for label, size in (("width", self.width), ("height", self.height)):
            if size is not None and (size < 8 or size % 8):
                raise BadInput(
                    f"{label} must be a positive multiple of 8 (got {size})",
                    hint=f"try {max(8, round(size / 8) * 8)}",
                )
        for item in fields(self):
            spec: Knob | None = item.metadata.get("knob")
            value = getattr(self, item.name)
            if spec is not None and isinstance(value, int | float):
                check_number(spec, value)
        find_sampler(self.scheduler)
        for lora in self.loras:
            if not lora.name_or_path.strip():
                raise BadInput("a LoRA needs a name or a path")
            check_number(LORAS, lora.weight)
        return self

    def with_seed(self) -> GenerateParams:
        """The same parameters with a concrete seed, drawn now when none was given."""
        if self.seed is not None:
            return self
        return replace(self, seed=random.randint(0, MAX_SEED - 64))

    def seeds(self) -> list[int]:
        """One seed per image: seed, seed+1, ... so each can be made again alone."""
        if self.seed is None:
            raise ValueError("call with_seed() first")
        return [(self.seed + i) % (MAX_SEED + 1) for i in range(self.batch_size)]

    def active_loras(self) -> tuple[LoraWeight, ...]:
        """The LoRAs this generation applies: those with a weight other than 0."""
        return tuple(lora for lora in self.loras if lora.weight)


def check_number(spec: Knob, value: Any) -> None:
    """Raise BadInput unless `value` is a finite number within the knob's bounds."""
    if isinstance(value, bool):
        return
    name = spec.name_in_messages
    if isinstance(value, float) and not math.isfinite(value):
        raise BadInput(f"{name} must be a number (got {value})", hint=f"use {spec.bounds_text()}")
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    if spec.minimum is not None and value < spec.minimum:
        raise BadInput(f"{name} must be at least {spec.minimum:g} (got {shown})")
    if spec.maximum is not None and value > spec.maximum:
        raise BadInput(f"{name} must be at most {spec.maximum:g} (got {shown})")


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model: device, precision and memory savers."""

    device: str = field(default="auto", metadata={"help": "auto (cuda, mps, cpu), or one of them."})
    dtype: str = field(default="auto", metadata={"help": "auto (fp16 on CUDA), fp16, bf16, fp32."})
    attention_slicing: bool = field(
        default=False, metadata={"help": "Compute attention in slices: less memory, a bit slower."}
    )
    vae_tiling: bool = field(
        default=False, metadata={"help": "Decode the image in tiles: large sizes in less memory."}
    )
    cpu_offload: bool = field(
        default=False, metadata={"help": "Keep idle parts in RAM: least GPU memory, slower (CUDA)."}
    )
    single_file_config: str | None = field(
        default=None, metadata={"help": "A diffusers folder giving the configs of a .safetensors."}
    )
    taesd: str | None = field(
        default=None,
        metadata={"help": "A TAESD folder for previews; None: madebyollin/taesd if cached."},
    )
