"""Save the trained parts as a standard SD-1.5-style diffusers folder, plus the demo CLIP.

The UNet and VAE weights are stored in float16 to keep the whole asset folder small; diffusers
loads them into float32 models unless asked otherwise, so inference on CPU is unaffected. The
text encoder stays float32 (it is tiny, and transformers 5 would otherwise load it as float16).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from genai_tui.demo import world
from genai_tui.demo.tokenizer import write_tokenizer_files
from genai_tui.demo.unet_train import scheduler_config


def _to_float16(path: Path) -> None:
    """Rewrite a safetensors file with its floating-point tensors in float16."""
    tensors = load_file(path)
    half = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    save_file(half, path, metadata={"format": "pt"})


def stored_precision(model: Any) -> Any:
    """A float32 copy of `model` with its weights rounded to float16, as the saved folder has
    them: later stages then see exactly the model that ships."""
    import copy

    rounded = copy.deepcopy(model)
    for param in rounded.parameters():
        param.data = param.data.half().float()
    return rounded.eval()


def saved_scheduler() -> Any:
    """The scheduler plain `from_pretrained` gives: DPM++ 2M Karras on SD 1.5's noise schedule.

    SD 1.5 ships PNDM, whose four-step extrapolation draws the wrong colours on this small model
    at 25 steps (9 of 12 prompts; right at 50). The config keeps PNDM's keys (leading spacing,
    steps offset, skipped Runge-Kutta steps), so genai-tui's samplers, built from the noise
    schedule alone, are the same as before.
    """
    from diffusers import DPMSolverMultistepScheduler

    config = {**scheduler_config(), "timestep_spacing": "leading"}
    return DPMSolverMultistepScheduler.from_config(config, use_karras_sigmas=True)  # type: ignore[no-untyped-call]


def save_pipeline(out: Path, vae: Any, unet: Any, text_encoder: Any, tokenizer: Any) -> None:
    """Write model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/ into `out`."""
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline(  # type: ignore[no-untyped-call]
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=saved_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(out, safe_serialization=True)  # type: ignore[attr-defined]
    for part in ("unet", "vae"):
        _to_float16(out / part / "diffusion_pytorch_model.safetensors")
    # transformers 5 saves only tokenizer.json; SD tools built on older releases read these two.
    write_tokenizer_files(world.vocabulary(), out / "tokenizer")


def save_vae(vae: Any, folder: Path) -> None:
    """Write a VAE alone into `folder` as save_pipeline writes it: float16, no local path."""
    import json

    vae.save_pretrained(folder, safe_serialization=True)
    _to_float16(folder / "diffusion_pytorch_model.safetensors")
    config = folder / "config.json"
    values = json.loads(config.read_text())
    values.pop("_name_or_path", None)  # where this machine loaded it from: nobody else's path
    config.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")


def folder_size(folder: Path) -> int:
    """Total bytes of all files under `folder`."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def parameter_count(model: torch.nn.Module) -> int:
    """Number of parameters of a model."""
    return sum(p.numel() for p in model.parameters())
