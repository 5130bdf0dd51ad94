"""Train the demo VAE: an AutoencoderKL that turns 32x32x3 images into 8x8x4 latents.

Like SD's VAE it is trained on everything (the held-out star too: a LoRA later encodes star
images with it). The loss is L1 plus an L1 on image gradients, which keeps edges sharper than
plain MSE, and a very small KL term, as in SD, so latents stay near a unit Gaussian in scale.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from genai_tui.demo import world
from genai_tui.demo.progress import StageProgress, say


def build_vae() -> Any:
    """A tiny AutoencoderKL: blocks (32, 64, 64), no mid-block attention, 4 latent channels."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(  # type: ignore[no-untyped-call]
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(32, 64, 64),
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        layers_per_block=1,
        norm_num_groups=32,
        sample_size=world.SIZE,
        # Attention at 8x8 buys little on flat shapes and costs time on every decode.
        mid_block_add_attention=False,
    )


def _edges(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal and vertical finite differences of an image batch."""
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def reconstruction_loss(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 on pixels plus L1 on their gradients (sharp edges), plus a little MSE."""
    rx, ry = _edges(recon)
    tx, ty = _edges(target)
    return (
        F.l1_loss(recon, target)
        + 0.5 * (F.l1_loss(rx, tx) + F.l1_loss(ry, ty))
        + F.mse_loss(recon, target)
    )


def train_vae(
    *, steps: int, batch: int = 32, pool: int = 8192, seed: int = 2
) -> tuple[Any, dict[str, Any]]:
    """Train the VAE on world images of all shapes; return it (eval mode) and training facts."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    vae = build_vae()
    data = world.samples(seed, pool, world.ALL_SHAPES)
    pixels = torch.from_numpy(world.to_array([s.image for s in data]))
    optimizer = torch.optim.AdamW(vae.parameters(), lr=1e-3, weight_decay=0.0)
    warmup = max(steps // 20, 1)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (steps - warmup)))

    lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    progress = StageProgress("vae", steps, every=50)
    vae.train()
    for step in range(1, steps + 1):
        x = pixels[torch.randint(0, pool, (batch,), generator=gen)]
        posterior = vae.encode(x).latent_dist
        recon = vae.decode(posterior.sample(generator=gen)).sample
        loss = reconstruction_loss(recon, x) + 1e-6 * posterior.kl().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimizer.step()
        lr_schedule.step()
        progress.step(step, loss.item())
    seconds = progress.done()
    vae.eval()
    # SD scales latents to about unit variance for the UNet; measure our own factor.
    check = pixels[:1024]
    with torch.no_grad():
        latents = encode(vae, check, scaling_factor=1.0)
        recon = vae.decode(latents).sample.clamp(-1, 1)
    vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
    l1 = float(F.l1_loss(recon, check))
    say(f"[vae] scaling factor {vae.config.scaling_factor:.4f}, reconstruction L1 {l1:.4f}")
    params = sum(p.numel() for p in vae.parameters())
    facts = {"steps": steps, "batch": batch, "seconds": seconds, "params": params, "l1": l1}
    return vae, facts


@torch.no_grad()
def encode(vae: Any, pixels: torch.Tensor, scaling_factor: float | None = None) -> torch.Tensor:
    """Latent means of `pixels` ([-1, 1]) times the scaling factor, in chunks of 256."""
    factor = vae.config.scaling_factor if scaling_factor is None else scaling_factor
    chunks = [vae.encode(pixels[i : i + 256]).latent_dist.mean for i in range(0, len(pixels), 256)]
    return torch.cat(chunks) * factor


def fit_latent_rgb(vae: Any, pixels: torch.Tensor, path: Path) -> dict[str, Any]:
    """Fit a 4x3 map (plus bias) from scaled latents to RGB in [-1, 1]; write it as JSON."""
    latents = encode(vae, pixels)
    factor = pixels.shape[-1] // latents.shape[-1]
    # Each latent pixel stands for a factor x factor patch: compare with the patch's mean colour.
    target = F.avg_pool2d(pixels, factor)
    x = latents.permute(0, 2, 3, 1).reshape(-1, 4)
    y = target.permute(0, 2, 3, 1).reshape(-1, 3)
    design = torch.cat([x, torch.ones(len(x), 1)], dim=1)
    solution = torch.linalg.lstsq(design.double(), y.double()).solution.float()
    residual = float((design @ solution - y).abs().mean())
    table = {
        "factors": [[round(v, 6) for v in row] for row in solution[:4].tolist()],
        "bias": [round(v, 6) for v in solution[4].tolist()],
        "note": (
            "preview_rgb = latents @ factors + bias, RGB in [-1, 1]; latents are the scaled "
            "latents the pipeline's step callback sees (x_t, already multiplied by "
            f"vae.config.scaling_factor = {vae.config.scaling_factor:.6f}); one row per latent "
            "channel; fitted by least squares on encoded world images"
        ),
    }
    path.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    say(f"[vae] latent->RGB map written, mean abs error {residual:.4f}")
    return {"latent_rgb_mae": residual}
