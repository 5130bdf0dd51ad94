"""What a session holds, as typed models that validate `session.json` when it is read.

Every field is written out, so the file reads on its own; unknown keys are kept so a file touched
by a newer minor version loses nothing when an older one saves it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
)

from genai_tui.knobs import BATCH, BEST_OF, HEIGHT, KEEP, SCORE, SEED, WIDTH, ImageKnobs

SCHEMA_VERSION = 1
"""Bumped on a change an older reader would misread; a newer file is never overwritten."""


def now_iso() -> str:
    """The current time, UTC, as ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Model(BaseModel):
    # No NaN or infinity anywhere: JSON has no such numbers, so they would be written as null
    # and the file could not be read back (`--cfg nan` made a session unreadable).
    model_config = ConfigDict(extra="allow", validate_assignment=True, allow_inf_nan=False)


def _finite_or_none(value: Any) -> Any:
    # A loss that went NaN or infinite (training diverged) is recorded as unknown rather than
    # refused: refusing it would fail the run's record, or the LoRA's, after the work is done.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


Loss = Annotated[float | None, BeforeValidator(_finite_or_none)]
"""A training loss; None when unknown (not reported yet, or not a finite number)."""


class EditorState(_Model, ImageKnobs):
    """The values in the prompt editor and parameter panel, restored when a session reopens.

    The knobs images keep come from ImageKnobs; here are those the editor holds in a shape of its
    own, and what only the editor has.
    """

    seed: int | None = Field(SEED.default, description="The next seed; None draws one each run.")
    seed_locked: bool = Field(False, description="Keep the seed between generations.")
    width: int | None = Field(WIDTH.default, description="None is the model's native size.")
    height: int | None = Field(HEIGHT.default, description="None is the model's native size.")
    batch_size: int = Field(BATCH.default, description=BATCH.help)
    loras: dict[str, float] = Field(
        default_factory=dict,
        description="LoRA weights by session LoRA name or .safetensors path; 0 is off (an "
        "added file is kept at 0 so its slider stays).",
    )
    score_images: bool = Field(SCORE.default, description=SCORE.help)
    best_of: int = Field(BEST_OF.default, description="Best-of-N: make this many; 0 is off.")
    keep: int = Field(KEEP.default, description=KEEP.help)

    @field_validator("seed", mode="before")
    @classmethod
    def _random_seed(cls, value: Any) -> Any:
        # Schema 1 spells "random" as -1 on disk; in memory it is None, as everywhere else.
        return None if isinstance(value, int) and value < 0 else value

    @field_serializer("seed")
    def _seed_on_disk(self, value: int | None) -> int:
        return -1 if value is None else value


class LoraUse(_Model):
    """A LoRA an image was made with."""

    name: str = Field(description="The session LoRA's name, or the file's stem for a path.")
    weight: float = Field(1.0, description="Strength it was applied at.")
    hash: str = Field("", description="A1111's LoRA hash, first 12 hex digits ('' unknown).")
    path: str = Field("", description="The file used (a path given by the user), else ''.")


class ImageRecord(_Model, ImageKnobs):
    """One generated image and everything needed to make it again.

    The knobs it was made with come from ImageKnobs (prompt, steps, guidance, sampler, ...);
    the seed and size are the ones it was made at.
    """

    file: str = Field(description="Path relative to the session folder, e.g. images/0001-42.png.")
    seed: int
    width: int
    height: int
    model: str = Field(description="The model reference as the user gave it.")
    model_name: str = ""
    model_hash: str = Field("", description="A1111-style: first 10 hex digits of a sha256.")
    time_taken: float = Field(0.0, description="Seconds spent generating the batch, per image.")
    device: str = ""
    dtype: str = ""
    versions: dict[str, str] = Field(default_factory=dict)
    created: str = Field(default_factory=now_iso)
    clip_score: float | None = None
    clip_model: str | None = None
    hidden: bool = Field(
        False,
        description="Left out of the gallery unless asked (e.g. not among the best of a "
        "best-of-N run); the PNG stays in images/.",
    )
    loras: list[LoraUse] = Field(
        default_factory=list,
        description="LoRAs applied, with weights. `prompt` stays as typed; the PNG's A1111 "
        "text adds <lora:name:weight> to the prompt, as A1111 users expect in PNG Info.",
    )
    train_run: str | None = Field(None, description="The training run a sample image came from.")
    train_step: int | None = Field(None, description="The training step of a sample image.")
    sweep: str | None = Field(None, description="The sweep (its id) a grid cell image belongs to.")
    axes: dict[str, str] = Field(
        default_factory=dict,
        description="A sweep cell's place in its grid: axis label -> value label, e.g. "
        '{"CFG scale": "5", "Seed": "2"}.',
    )
    scores: dict[str, float] = Field(
        default_factory=dict,
        description="Scores by scorer name beyond clip_score (e.g. pickscore), each as that "
        "scorer defines it.",
    )

    def score_by(self, scorer: str) -> float | None:
        """The image's score by `scorer` (clip: clip_score; others: scores), None if unscored."""
        return self.clip_score if scorer == "clip" else self.scores.get(scorer)


class LoraRecord(_Model):
    """A LoRA trained in this session, in `loras/<name>/`."""

    name: str
    folder: str = Field(description="Relative to the session folder: loras/<name>.")
    webui_file: str = Field(description="Kohya-format file for A1111/ComfyUI (and for us).")
    diffusers_file: str = Field(description="diffusers-format file (load_lora_weights).")
    hash: str = Field("", description="A1111's LoRA hash of the webui file (full sha256).")
    base_model: str = Field(description="The model reference it was trained on.")
    base_model_hash: str = ""
    rank: int
    alpha: float
    steps: int = Field(description="Optimizer steps trained.")
    trigger: str = Field("", description="Instance prompt, or the first caption.")
    images: int = Field(0, description="Training images used.")
    run: str = Field("", description="The training run (runs/<run>) that made it.")
    final_loss: Loss = None
    created: str = Field(default_factory=now_iso)


class TrainRun(_Model):
    """A LoRA training run in `runs/<name>/`: progress, checkpoints, outcome."""

    name: str
    lora: str = Field(description="The name of the LoRA it makes.")
    status: str = Field(
        "running",
        description="running, finished, cancelled, failed, or interrupted (its process ended "
        "without saying how: killed or crashed; it can resume from its last checkpoint).",
    )
    step: int = 0
    total_steps: int = 0
    last_loss: Loss = None
    model: str = ""
    data: str = Field("", description="The data folder.")
    params: dict[str, Any] = Field(default_factory=dict, description="TrainParams as JSON.")
    checkpoints: list[str] = Field(
        default_factory=list, description="Checkpoint folders, relative to the session."
    )
    log: str = Field("", description="log.jsonl, relative to the session folder.")
    error: str = ""
    created: str = Field(default_factory=now_iso)
    updated: str = Field(default_factory=now_iso)
    pid: int | None = Field(
        None, description="The process training it, while running (None in older files)."
    )
    host: str = Field("", description="The machine that process runs on.")
    pid_started: int | None = Field(
        None,
        description="That process's start time (Linux clock ticks after boot), which tells a "
        "later process given the same pid apart; None where unknown.",
    )


class Session(_Model):
    """A session folder's `session.json`."""

    schema_version: int = SCHEMA_VERSION
    name: str
    created: str = Field(default_factory=now_iso)
    updated: str = Field(default_factory=now_iso)
    model: str | None = Field(None, description="Model reference last used in this session.")
    editor: EditorState = Field(default_factory=EditorState)
    prompt_history: list[str] = Field(default_factory=list)
    images: list[ImageRecord] = Field(default_factory=list)
    loras: list[LoraRecord] = Field(default_factory=list)
    runs: list[TrainRun] = Field(default_factory=list)
