"""Model references: what the user types (`demo`, a hub id, a folder, a file) and where it is.

Resolving a reference touches only the filesystem (for a single file, its safetensors header),
never torch or the network, so a typo or a damaged file is reported at once, before anything
heavy loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from genai_tui.engine.errors import ModelError
from genai_tui.engine.safetensors_check import check_safetensors

DEMO = "demo"
SD15_REPO = "stable-diffusion-v1-5/stable-diffusion-v1-5"
"""Default model on CUDA machines."""

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

SourceKind = Literal["demo", "folder", "single_file", "hub"]


def is_demo(ref: str | None) -> bool:
    """Whether a model reference names the embedded demo model."""
    return ref is not None and ref.strip() == DEMO


def assets_dir() -> Path:
    """The shipped assets: inside the package for a wheel, the project's `assets/` otherwise."""
    packaged = Path(__file__).resolve().parents[1] / "assets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "assets"


def demo_model_dir() -> Path:
    """Where the embedded demo model lives."""
    return assets_dir() / "demo-model"


@dataclass(frozen=True)
class ModelSource:
    """A resolved model reference."""

    ref: str
    kind: SourceKind
    location: str
    """A filesystem path, or the repository id for the hub."""

    @property
    def name(self) -> str:
        """A short name for the A1111 "Model:" field and the header."""
        if self.kind == "demo":
            return DEMO
        if self.kind == "hub":
            return self.location.split("/")[-1]
        path = Path(self.location)
        return path.stem if self.kind == "single_file" else path.name

    @property
    def path(self) -> Path:
        """The local path; only for demo, folder and single-file sources."""
        if self.kind == "hub":
            raise ValueError("a hub model has no local path until it is fetched")
        return Path(self.location)


def resolve_source(ref: str) -> ModelSource:
    """Turn what the user typed into a ModelSource, or raise ModelError saying what is wrong."""
    ref = ref.strip()
    if not ref:
        raise ModelError("no model given", hint="use --model demo, a hub id, a folder or a file")
    if ref == DEMO:
        folder = demo_model_dir()
        if not (folder / "model_index.json").is_file():
            raise ModelError(
                f"the demo model is missing at {folder}",
                hint="rebuild it with `python -m genai_tui.demo.train --out assets`",
            )
        return ModelSource(ref, "demo", str(folder))
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ModelError(
                f"{path} is a folder but not a diffusers model (no model_index.json)",
                hint="point to a folder saved with save_pretrained, or a .safetensors file",
            )
        return ModelSource(ref, "folder", str(path.resolve()))
    if path.suffix.lower() in {".ckpt", ".pt", ".pth", ".bin"}:
        raise ModelError(
            f"{path.name}: pickle checkpoints are not loaded (they can run code)",
            hint="use the .safetensors version of this model",
        )
    if path.suffix.lower() == ".safetensors":
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        # The header is checked now: a damaged file is one line, and no loader falls back to a
        # pickle reader on it.
        return ModelSource(ref, "single_file", str(check_safetensors(path, "model").path))
    if _REPO_ID.match(ref) and not path.exists() and not ref.startswith((".", "~")):
        return ModelSource(ref, "hub", ref)
    raise ModelError(
        f"model not found: {ref}",
        hint="use demo, a hub id like owner/name, a diffusers folder or a .safetensors file",
    )
