"""TAESD, the tiny decoder of SD 1.x latents, for previews: found offline only, never downloaded.

madebyollin/taesd (diffusers' `AutoencoderTiny`, 2.4 M parameters) decodes the latents of the
SD 1.x VAE about as well as a preview needs, at a small part of the full decoder's cost. It is
looked for in a folder the user names, else in the Hugging Face cache; it is used only where it
is already on this machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genai_tui.engine.errors import ModelError
from genai_tui.engine.load_lock import loading

TAESD_REPO = "madebyollin/taesd"
WEIGHTS = "diffusion_pytorch_model.safetensors"

SD_LATENT_SCALE = 0.18215
"""The SD 1.x / 2.x VAE's scaling factor: latents TAESD was trained to decode."""


def fits_taesd(vae_config: Any) -> bool:
    """Whether a pipeline's latents are SD 1.x's (the demo model's own VAE is not)."""
    scale = float(getattr(vae_config, "scaling_factor", 0.0))
    return (
        int(getattr(vae_config, "latent_channels", 0)) == 4 and abs(scale - SD_LATENT_SCALE) < 1e-4
    )


def find_taesd(folder: str | None = None) -> Path | None:
    """The TAESD folder: `folder` if given (it must hold the safetensors weights), else the
    Hugging Face cache's copy of madebyollin/taesd, else None. Never touches the network."""
    if folder is not None:
        path = Path(folder).expanduser()
        if not (path / "config.json").is_file() or not (path / WEIGHTS).is_file():
            raise ModelError(
                f"{path} is not a TAESD folder (config.json and {WEIGHTS})",
                hint=f"on a machine with internet run `hf download {TAESD_REPO}`",
            )
        return path
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(TAESD_REPO, "config.json")
    weights = try_to_load_from_cache(TAESD_REPO, WEIGHTS)
    if isinstance(config, str) and isinstance(weights, str):
        return Path(config).parent
    return None


def load_taesd(folder: Path, device: str, dtype: Any) -> Any:
    """The AutoencoderTiny in `folder`, on `device` in `dtype`, ready to decode."""
    from diffusers import AutoencoderTiny

    try:
        with loading:
            decoder = AutoencoderTiny.from_pretrained(  # type: ignore[no-untyped-call]
                str(folder), use_safetensors=True, local_files_only=True, torch_dtype=dtype
            )
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not load TAESD from {folder}: {exc}".splitlines()[0]) from exc
    return decoder.to(device).eval()
