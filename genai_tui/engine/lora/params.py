"""What a LoRA training run needs, checked before any model is touched. Imports no torch."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from genai_tui.engine.errors import BadInput

LR_SCHEDULES = (
    "constant",
    "constant_with_warmup",
    "cosine",
    "cosine_with_restarts",
    "linear",
    "polynomial",
)
"""Learning-rate schedules, as diffusers.optimization.get_scheduler names them."""

MIXED_PRECISIONS = ("no", "fp16", "bf16")
"""Mixed precision as accelerate names it; fp16 and bf16 need a GPU (bf16 also runs on CPU)."""

TARGET_MODULES = ("to_k", "to_q", "to_v", "to_out.0")
"""The UNet attention projections the diffusers LoRA recipe trains."""

LORA_LAYERS: dict[str, tuple[str, ...]] = {
    "attention": TARGET_MODULES,
    # kohya's networks.lora puts LoRA on every Linear and 1x1 conv of each Transformer2DModel.
    "transformer": (*TARGET_MODULES, "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2"),
}
"""Which UNet layers get a LoRA, by preset name: the module names peft targets."""


@dataclass(frozen=True)
class TrainParams:
    """The knobs of one LoRA training run (data, model and output name are the job's)."""

    rank: int = field(
        default=4, metadata={"help": "LoRA rank: size of the low-rank update (4-32 typical)."}
    )
    alpha: float = field(
        default=4.0,
        metadata={"help": "LoRA alpha: the update is scaled by alpha/rank (= rank: scale 1)."},
    )
    lora_layers: str = field(
        default="attention",
        metadata={
            "help": "UNet layers with a LoRA: attention (q, k, v, out: the diffusers recipe) or "
            "transformer (also proj in/out and feed-forward: kohya's default; learns more)."
        },
    )
    learning_rate: float = field(
        default=1e-4, metadata={"help": "AdamW learning rate (1e-4 for SD 1.5 LoRAs)."}
    )
    lr_schedule: str = field(
        default="constant",
        metadata={"help": f"Learning-rate schedule: {', '.join(LR_SCHEDULES)}."},
    )
    warmup_steps: int = field(
        default=0, metadata={"help": "Steps over which the learning rate ramps up from 0."}
    )
    steps: int = field(default=500, metadata={"help": "Optimizer steps to train."})
    batch_size: int = field(
        default=1, metadata={"help": "Images per step on each device (GPU or process)."}
    )
    gradient_accumulation: int = field(
        default=1,
        metadata={"help": "Batches whose gradients add up before one optimizer step."},
    )
    resolution: int | None = field(
        default=None,
        metadata={"help": "Training side in pixels, a multiple of 8; None: the model's own."},
    )
    center_crop: bool = field(
        default=True, metadata={"help": "Crop the centre after resizing; off: a random crop."}
    )
    random_flip: bool = field(
        default=False, metadata={"help": "Mirror images left-right at random (not for text)."}
    )
    repeats: int = field(
        default=1, metadata={"help": "Times each image appears per pass over the data."}
    )
    instance_prompt: str = field(
        default="",
        metadata={
            "help": "One caption for every image, e.g. 'a photo of sks dog'; empty: each "
            "image's .txt beside it."
        },
    )
    mixed_precision: str = field(
        default="no",
        metadata={"help": "no, fp16 or bf16: frozen weights in half precision (GPU)."},
    )
    gradient_checkpointing: bool = field(
        default=False,
        metadata={"help": "Recompute activations in the backward pass: less memory, slower."},
    )
    snr_gamma: float | None = field(
        default=None,
        metadata={"help": "Min-SNR loss weighting gamma (5.0 recommended); None: plain MSE."},
    )
    noise_offset: float = field(
        default=0.0,
        metadata={"help": "Extra per-channel noise (0.05-0.1) for darker darks, brighter lights."},
    )
    max_grad_norm: float = field(
        default=1.0, metadata={"help": "Gradients are clipped to this norm."}
    )
    weight_decay: float = field(default=1e-2, metadata={"help": "AdamW weight decay."})
    seed: int = field(
        default=0, metadata={"help": "Seed of the LoRA init, data order, noise and timesteps."}
    )
    validation_prompts: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "Prompts sampled during training; empty: the instance prompt or first caption."
        },
    )
    validation_seeds: tuple[int, ...] = field(
        default=(0, 1), metadata={"help": "Seeds of the samples: one image per prompt and seed."}
    )
    validation_every: int = field(
        default=0, metadata={"help": "Sample every N steps (and at the end); 0: only at the end."}
    )
    validation_steps: int = field(
        default=20, metadata={"help": "Denoising steps of each sample image."}
    )
    checkpoint_every: int = field(
        default=0,
        metadata={"help": "Save a resumable checkpoint every N steps; 0: only at cancel or end."},
    )

    def validate(self) -> TrainParams:
        """Raise BadInput for the first unusable value; return self so calls can chain."""
        positive = {
            "rank": self.rank,
            "steps": self.steps,
            "batch size": self.batch_size,
            "gradient accumulation": self.gradient_accumulation,
            "repeats": self.repeats,
            "validation steps": self.validation_steps,
        }
        for label, value in positive.items():
            if value < 1:
                raise BadInput(f"{label} must be at least 1 (got {value})")
        if self.rank > 1024:
            raise BadInput(f"rank must be at most 1024 (got {self.rank})")
        if self.alpha <= 0:
            raise BadInput(f"alpha must be above 0 (got {self.alpha:g})", hint="try alpha = rank")
        if not 0 < self.learning_rate < 1:
            raise BadInput(f"learning rate must be between 0 and 1 (got {self.learning_rate:g})")
        if self.lora_layers not in LORA_LAYERS:
            raise BadInput(
                f"unknown LoRA layers {self.lora_layers!r}",
                hint=f"use one of {', '.join(LORA_LAYERS)}",
            )
        if self.lr_schedule not in LR_SCHEDULES:
            raise BadInput(
                f"unknown learning-rate schedule {self.lr_schedule!r}",
                hint=f"use one of {', '.join(LR_SCHEDULES)}",
            )
        if not 0 <= self.warmup_steps <= self.steps:
            raise BadInput(f"warmup steps must be 0 to {self.steps} (got {self.warmup_steps})")
        if self.mixed_precision not in MIXED_PRECISIONS:
            raise BadInput(
                f"unknown mixed precision {self.mixed_precision!r}", hint="use no, fp16 or bf16"
            )
        if self.resolution is not None and (self.resolution < 8 or self.resolution % 8):
            raise BadInput(
                f"resolution must be a positive multiple of 8 (got {self.resolution})",
                hint=f"try {max(8, round(self.resolution / 8) * 8)}",
            )
        if self.snr_gamma is not None and self.snr_gamma <= 0:
            raise BadInput(f"SNR gamma must be above 0 (got {self.snr_gamma:g})")
        checks: tuple[tuple[str, float], ...] = (
            ("noise offset", self.noise_offset),
            ("max grad norm", self.max_grad_norm),
            ("weight decay", self.weight_decay),
            ("validation every", self.validation_every),
            ("checkpoint every", self.checkpoint_every),
            ("seed", self.seed),
        )
        for label, amount in checks:
            if amount < 0:
                raise BadInput(f"{label} must be 0 or more (got {amount:g})")
        if not self.validation_seeds:
            raise BadInput("give at least one validation seed")
        return self

    @property
    def target_modules(self) -> tuple[str, ...]:
        """The UNet module names that get a LoRA."""
        return LORA_LAYERS[self.lora_layers]

    @property
    def scale(self) -> float:
        """How strongly the update is applied at weight 1: alpha / rank."""
        return self.alpha / self.rank

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (tuples become lists)."""
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainParams:
        """The inverse of to_json; unknown keys (from a newer version) are ignored."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
        }
        return cls(**values)


def help_of(name: str) -> str:
    """The help text of a TrainParams field, for --help and the UI."""
    for item in fields(TrainParams):
        if item.name == name:
            return str(item.metadata.get("help", ""))
    raise KeyError(name)


def checkpoint_params(folder: Path) -> TrainParams:
    """The parameters a checkpoint folder was trained with (resume starts from these)."""
    state_file = Path(folder).expanduser() / "state.json"
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        return TrainParams.from_json(state["params"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(
            f"{folder} is not a training checkpoint (no readable state.json)",
            hint="give a runs/<run>/checkpoint-<step> folder",
        ) from exc
