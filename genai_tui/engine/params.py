"""What a generation needs, checked before any model is touched. Imports no torch."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from genai_tui.engine.errors import BadInput
from genai_tui.engine.schedulers import DEFAULT_SAMPLER, find_sampler

MAX_SEED = 2**32 - 1
"""Seeds are 32-bit, as in AUTOMATIC1111, so any seed it shows can be typed here."""


@dataclass(frozen=True)
class LoraWeight:
    """A LoRA to generate with, and how strongly (A1111's `<lora:name:weight>`)."""

    name_or_path: str = field(
        metadata={"help": "A LoRA of the session by name, or a .safetensors file (any format)."}
    )
    weight: float = field(
        default=1.0, metadata={"help": "Strength: 0 off, 1 as trained, negative inverts it."}
    )


@dataclass(frozen=True)
class GenerateParams:
    """The knobs of one text-to-image generation."""

    prompt: str = field(metadata={"help": "What to draw."})
    negative_prompt: str = field(default="", metadata={"help": "What to steer away from."})
    steps: int = field(default=25, metadata={"help": "Denoising steps; DPM++ needs 20-30."})
    cfg_scale: float = field(
        default=7.0,
        metadata={"help": "Guidance: how strongly the prompt pulls the image (1 = ignore it)."},
    )
    seed: int | None = field(
        default=None, metadata={"help": "Starting noise; None draws one. Image i gets seed+i."}
    )
    width: int | None = field(default=None, metadata={"help": "Width in pixels, a multiple of 8."})
    height: int | None = field(
        default=None, metadata={"help": "Height in pixels, a multiple of 8."}
    )
    batch_size: int = field(default=1, metadata={"help": "Images made together from one prompt."})
    scheduler: str = field(
        default=DEFAULT_SAMPLER, metadata={"help": "Sampler, as A1111 names it."}
    )
    clip_skip: int = field(
        default=1, metadata={"help": "1 uses CLIP's last layer; 2 the one before (anime models)."}
    )
    loras: tuple[LoraWeight, ...] = field(
        default=(), metadata={"help": "LoRAs applied together, each at its weight; () none."}
    )

    def validate(self) -> GenerateParams:
        """Raise BadInput for the first unusable value; return self so calls can chain."""
        if self.steps < 1:
            raise BadInput(f"steps must be at least 1 (got {self.steps})")
        if self.steps > 1000:
            raise BadInput(f"steps must be at most 1000 (got {self.steps})")
        if self.cfg_scale < 0:
            raise BadInput(f"guidance scale must be 0 or more (got {self.cfg_scale:g})")
        for label, size in (("width", self.width), ("height", self.height)):
            if size is not None and (size < 8 or size % 8):
                raise BadInput(
                    f"{label} must be a positive multiple of 8 (got {size})",
                    hint=f"try {max(8, round(size / 8) * 8)}",
                )
        if not 1 <= self.batch_size <= 64:
            raise BadInput(f"images per prompt must be 1 to 64 (got {self.batch_size})")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise BadInput(f"seed must be 0 to {MAX_SEED} (got {self.seed})")
        if not 1 <= self.clip_skip <= 12:
            raise BadInput(f"clip skip must be 1 to 12 (got {self.clip_skip})")
        find_sampler(self.scheduler)
        for lora in self.loras:
            if not lora.name_or_path.strip():
                raise BadInput("a LoRA needs a name or a path")
            if not -10 <= lora.weight <= 10:
                raise BadInput(f"LoRA weight must be -10 to 10 (got {lora.weight:g})")
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
