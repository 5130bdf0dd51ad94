"""What a session holds, as typed models that validate `session.json` when it is read.

Every field is written out, so the file reads on its own; unknown keys are kept so a file touched
by a newer minor version loses nothing when an older one saves it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
"""Bumped on a change an older reader would misread; a newer file is never overwritten."""


def now_iso() -> str:
    """The current time, UTC, as ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", validate_assignment=True)


class EditorState(_Model):
    """The values in the prompt editor and parameter panel, restored when a session reopens."""

    prompt: str = ""
    negative_prompt: str = ""
    steps: int = Field(25, description="Denoising steps.")
    cfg_scale: float = Field(7.0, description="Classifier-free guidance scale.")
    seed: int = Field(-1, description="Seed of the next generation; -1 draws a random one.")
    seed_locked: bool = Field(False, description="Keep the seed between generations.")
    width: int | None = Field(None, description="Image width; None is the model's native size.")
    height: int | None = Field(None, description="Image height; None is the model's native size.")
    batch_size: int = Field(1, description="Images per prompt.")
    scheduler: str = Field("DPM++ 2M Karras", description="Sampler name as A1111 shows it.")
    clip_skip: int = Field(1, description="A1111 clip skip: 1 uses the last CLIP layer.")


class ImageRecord(_Model):
    """One generated image and everything needed to make it again."""

    file: str = Field(description="Path relative to the session folder, e.g. images/0001-42.png.")
    prompt: str
    negative_prompt: str = ""
    steps: int
    cfg_scale: float
    seed: int
    width: int
    height: int
    scheduler: str
    clip_skip: int = 1
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
