"""Fine-tune the demo VAE's decoder for crisp shapes, the encoder (and so the latents) unchanged.

The first recipe's decoder tinted white backgrounds and turned the UNet's slightly-off latents
into a dark smudge at the shapes' corners; a decoder robust to such latents draws them clean.
The latent space is the UNet's: only the decoder (and post_quant_conv) train here, on latents
of drawn images with a little noise added, the way the UNet's latents miss the drawn ones, so
the UNet, the LoRA sample set and the latent colour map stay valid as they are.

    python -m genai_tui.demo.decoder_tune [--steps 1000] [--out assets/demo-model]

On the shipped model (bench/demo_shapes.py, 24 squares on white): stray pixels 0.54 % -> 0.07 %,
background cast 10.3 -> 2.5; the squares' corners stay as round (bounding-box fill 0.89 before and
after; decoder_sharpen.py squares them).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import torch

from genai_tui.demo import world
from genai_tui.demo.progress import StageProgress
from genai_tui.demo.vae_train import reconstruction_loss

LATENT_NOISE = 0.15
"""Noise added to the latents, as a share of their spread: the UNet's latents are that far off."""


def tune_decoder(
    vae: Any, *, steps: int, batch: int = 32, pool: int = 8192, seed: int = 7, lr: float = 1e-3
) -> dict[str, Any]:
    """Train `vae`'s decoder in place on world images of every shape; returns training facts."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    data = world.samples(seed, pool, world.ALL_SHAPES)
    pixels = torch.from_numpy(world.to_array([s.image for s in data]))
    spread = latent_spread(vae, pixels)
    training = DecoderTraining(vae, steps=steps, lr=lr)
    progress = StageProgress("decoder", steps, every=50)
    for step in range(1, steps + 1):
        x = pixels[torch.randint(0, pool, (batch,), generator=gen)]
        with torch.no_grad():
            latents = vae.encode(x).latent_dist.mean
        noise = torch.randn(latents.shape, generator=gen) * LATENT_NOISE * spread
        recon = vae.decode(latents + noise).sample
        training.step(reconstruction_loss(recon, x))
        progress.step(step, training.last_loss)
    seconds = progress.done()
    training.done()
    return {"steps": steps, "batch": batch, "seconds": seconds, "latent_noise": LATENT_NOISE}


def latent_spread(vae: Any, pixels: torch.Tensor) -> float:
    """The spread of the encoder's latents of world images (what LATENT_NOISE is a share of)."""
    with torch.no_grad():
        return float(vae.encode(pixels[:512]).latent_dist.mean.std())


class DecoderTraining:
    """A VAE's decoder (and post_quant_conv) trained alone, everything else frozen: AdamW, the
    learning rate on a cosine down to 5 %, gradients clipped at 1. `done()` freezes it again."""

    def __init__(self, vae: Any, *, steps: int, lr: float) -> None:
        self._vae = vae
        for param in vae.parameters():
            param.requires_grad_(False)
        self._trained = [*vae.decoder.parameters(), *vae.post_quant_conv.parameters()]
        for param in self._trained:
            param.requires_grad_(True)
        self._optimizer = torch.optim.AdamW(self._trained, lr=lr, weight_decay=0.0)
        self._schedule = torch.optim.lr_scheduler.LambdaLR(
            self._optimizer,
            lambda step: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)),
        )
        self.last_loss = 0.0
        vae.train()

    def step(self, loss: Any) -> None:  # torch types backward() loosely
        """One optimizer step on `loss`."""
        self._optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self._trained, 1.0)
        self._optimizer.step()
        self._schedule.step()
        self.last_loss = float(loss.item())

    def done(self) -> None:
        """Back to inference: eval mode, nothing trainable."""
        self._vae.eval()
        for param in self._vae.parameters():
            param.requires_grad_(False)


def main(argv: list[str] | None = None) -> None:
    from diffusers import AutoencoderKL

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("assets/demo-model"))
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    vae = AutoencoderKL.from_pretrained(args.out / "vae", torch_dtype=torch.float32)  # type: ignore[no-untyped-call]
    facts = tune_decoder(vae, steps=args.steps)
    vae.save_pretrained(args.out / "vae", safe_serialization=True)
    print(facts)


if __name__ == "__main__":
    main()
