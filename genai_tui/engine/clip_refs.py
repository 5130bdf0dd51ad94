"""CLIP model references and what a CLIP score means. Imports no torch.

The UI and the command line read these (defaults, help text, early checks of `--clip`) before
any ML library is loaded; `engine.clip` does the loading and scoring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from genai_tui.engine.errors import ModelError
from genai_tui.engine.sources import DEMO, assets_dir, is_demo

DEMO_CLIP = DEMO
"""The demo CLIP, shipped in assets/demo-model/clip; it knows only the demo world."""

DEFAULT_CUDA_CLIP = "openai/clip-vit-large-patch14"
"""The text encoder family of SD 1.5, and the usual CLIP for scoring its images."""

CLIP_SCORE_HELP = (
    "CLIP score = 100 × the cosine similarity of CLIP's image and text embeddings, floored at 0 "
    "(the definition torchmetrics' CLIPScore uses). Higher means the image agrees better with "
    "the text. It measures prompt agreement, not beauty or technical quality. Use it to rank: "
    "scores are comparable only when made by the same CLIP model (the demo CLIP has its own "
    "scale), and best between images of the same prompt. Real image/text pairs score far below "
    "100: the diffusers evaluation guide reports about 35 for Stable Diffusion 1.4 images of its "
    "sample prompts with CLIP ViT-B/16."
)
"""Shown by the UI's help screen and `genai-tui score --help`."""

DEFAULT_CLIP_RULE = (
    "demo when the diffusion model is demo or runs on the CPU; "
    f"{DEFAULT_CUDA_CLIP} when it runs on a GPU (cuda or mps)"
)
"""How the CLIP model is chosen when none is given, in words (for --help and the UI)."""

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

ClipKind = Literal["demo", "folder", "hub"]


def demo_clip_dir() -> Path:
    """Where the demo CLIP lives."""
    return assets_dir() / "demo-model" / "clip"


def default_clip_ref(model_ref: str, device: str) -> str:
    """The CLIP that scores images of `model_ref` generated on `device` (see DEFAULT_CLIP_RULE).

    The demo world's pictures are only readable by the demo CLIP, and on a CPU-only machine the
    demo CLIP is the one we can count on being there (ViT-L/14 is 1.7 GB from the hub).
    """
    if is_demo(model_ref) or device == "cpu":
        return DEMO_CLIP
    return DEFAULT_CUDA_CLIP


@dataclass(frozen=True)
class ClipSource:
    """A resolved CLIP reference: `location` is a folder, or the repository id for the hub."""

    ref: str
    kind: ClipKind
    location: str


def resolve_clip(ref: str) -> ClipSource:
    """Turn a CLIP reference into a ClipSource, or raise ModelError saying what is wrong.

    Touches only the filesystem: a typo is reported before anything heavy loads.
    """
    ref = ref.strip()
    if not ref:
        raise ModelError("no CLIP model given", hint="use --clip demo, a hub id or a folder")
    if ref == DEMO_CLIP:
        folder = demo_clip_dir()
        if not (folder / "config.json").is_file():
            raise ModelError(
                f"the demo CLIP model is missing at {folder}",
                hint="rebuild it with `python -m genai_tui.demo.train --out assets`",
            )
        return ClipSource(ref, "demo", str(folder))
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(
                f"{path} is a folder but not a CLIP model (no config.json)",
                hint="point to a folder saved with CLIPModel.save_pretrained and its processor",
            )
        return ClipSource(ref, "folder", str(path.resolve()))
    if path.suffix.lower() in {".ckpt", ".pt", ".pth", ".bin", ".safetensors"}:
        raise ModelError(
            f"{path.name}: a CLIP model is loaded from a folder or a hub id, not a single file",
            hint=f"use demo, {DEFAULT_CUDA_CLIP}, or a folder with config.json",
        )
    if _REPO_ID.match(ref) and not path.exists() and not ref.startswith((".", "~")):
        return ClipSource(ref, "hub", ref)
    raise ModelError(
        f"CLIP model not found: {ref}",
        hint=f"use demo, a hub id like {DEFAULT_CUDA_CLIP}, or a folder with config.json",
    )
