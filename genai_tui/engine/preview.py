"""The cheapest preview: latents mapped straight to RGB (engine/previewer.py picks the mode).

Where a VAE decode costs too much next to a step (SD 1.5 on a CPU), a 4x3 linear map from the 4
latent channels to RGB gives a low-resolution picture for the price of one tiny matrix product:
one block per latent pixel, in colours only as right as the map (the demo model's fitted map is
far off), so it tells shapes apart, not the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image


@dataclass(frozen=True)
class LatentRGB:
    """factors: one [r, g, b] row per latent channel; bias: added to every pixel."""

    factors: list[list[float]]
    bias: list[float]


SD15_LATENT_RGB = LatentRGB(
    # Published SD 1.5 factors (ComfyUI latent_formats.SD15), for scaled latents.
    factors=[
        [0.3512, 0.2297, 0.3227],
        [0.3250, 0.4974, 0.2350],
        [-0.2829, 0.1762, 0.2721],
        [-0.2120, -0.2616, -0.7177],
    ],
    bias=[0.0, 0.0, 0.0],
)


def latents_to_images(latents: torch.Tensor, rgb: LatentRGB) -> list[Image.Image]:
    """One small RGB image per latent in the batch (latent resolution: 64x64 for SD 1.5)."""
    with torch.no_grad():
        factors = torch.tensor(rgb.factors, dtype=torch.float32, device=latents.device)
        bias = torch.tensor(rgb.bias, dtype=torch.float32, device=latents.device)
        rgb_latents = torch.einsum("bchw,cr->bhwr", latents.float(), factors) + bias
        frames = ((rgb_latents + 1.0) * 127.5).clamp(0, 255).to(torch.uint8).cpu().numpy()
    return [Image.fromarray(frame) for frame in frames]
