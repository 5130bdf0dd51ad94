"""Sharpen the demo VAE's decoder on the UNet's own latents: square corners, crisp edges.

The UNet's latents of a square sit between those of a square and a circle; the decoder drew them
with rounded corners (a generated square filled 89 % of its bounding box, a drawn one 100 %).
Here the decoder learns to draw what the prompt asked for from exactly those latents: the
pipeline generates a pool of world prompts, each decoded image's shape is located (its
bounding box, turned into a centre and a radius by a fit on drawn shapes), and the world draws
the prompt's shape, colour and background there as the target. Half of each batch keeps the
first decoder stage's task (drawn images' latents, a little noise added), so the decoder still
draws every latent the encoder makes. The encoder, and so the UNet, the LoRA sample set and
the latent colour map, are unchanged.

    python -m genai_tui.demo.decoder_sharpen [--steps 600] [--pool 1920] [--out assets/demo-model]

On the shipped model (bench/demo_shapes.py, 24 squares, seeds not in the pool), bounding-box
fill of generated squares: on white 0.890 -> 0.959, on black 0.891 -> 0.938, on gray 0.839 ->
0.920 (drawn: 0.997); prompt following stays 100 % (bench/demo_quality.py).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image

from genai_tui.demo import world
from genai_tui.demo.decoder_tune import LATENT_NOISE, DecoderTraining, latent_spread
from genai_tui.demo.pixels import follows, shape_box
from genai_tui.demo.progress import StageProgress
from genai_tui.demo.vae_train import reconstruction_loss

STEPS = 25
GUIDANCE = 7.5
"""How the pool is generated: as a user's first images are (genai-tui's defaults)."""

POOL_SEEDS = 100_000
"""The pool's generator seeds start here: no bench or test draws from them."""


def box_fit(shape: str, count: int = 400, seed: int = 5) -> NDArray[np.float64]:
    """Least-squares map from a drawn `shape`'s bounding box (centre x, centre y, width,
    height, 1) to the centre and radius world.draw drew it with (about 0.2 px off on average)."""
    rng = random.Random(seed)
    boxes, truths = [], []
    for _ in range(count):
        radius = rng.uniform(world.MIN_RADIUS, world.MAX_RADIUS)
        margin = radius * 1.1 + 1.0
        cx, cy = (rng.uniform(margin, world.SIZE - margin) for _ in range(2))
        colour, background = rng.choice(list(world.COLOURS)), rng.choice(list(world.BACKGROUNDS))
        box = shape_box(world.draw(shape, colour, background, cx, cy, radius))
        if box is not None:
            boxes.append(_features(box))
            truths.append((cx, cy, radius))
    fit, *_ = np.linalg.lstsq(np.array(boxes), np.array(truths), rcond=None)
    return np.asarray(fit, dtype=np.float64)


def _features(box: tuple[int, int, int, int]) -> tuple[float, float, float, float, float]:
    left, top, right, bottom = box
    return ((left + right) / 2, (top + bottom) / 2, right - left, bottom - top, 1.0)


def own_latents(pipe: Any, count: int, seed: int = 11) -> tuple[torch.Tensor, list[world.Sample]]:
    """`count` latents the pipeline makes for random world prompts (unscaled, as the decoder
    reads them), with each prompt's facts (a Sample whose image is unused)."""
    rng = random.Random(seed)
    latents, facts = [], []
    for start in range(0, count, 24):
        batch = [world.random_sample(rng) for _ in range(min(24, count - start))]
        prompts = [s.caption for s in batch]
        first = POOL_SEEDS + start
        generators = [torch.Generator().manual_seed(first + i) for i in range(len(batch))]
        with torch.no_grad():
            made = pipe(prompts, num_inference_steps=STEPS, guidance_scale=GUIDANCE,
                        generator=generators, output_type="latent").images  # fmt: skip
        latents.append(made / pipe.vae.config.scaling_factor)
        facts += batch
    return torch.cat(latents), facts


def ideal_targets(
    vae: Any, latents: torch.Tensor, facts: list[world.Sample]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The latents whose decoded image shows the prompt's colours, each with the prompt's shape
    drawn where and as large as the decoder put it (world.to_array's range)."""
    fits = {shape: box_fit(shape) for shape in world.SHAPES}
    with torch.no_grad():
        chunks = [vae.decode(latents[i : i + 128]).sample for i in range(0, len(latents), 128)]
        decoded = torch.cat(chunks)
    pixels = ((decoded.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    kept, targets = [], []
    for index, fact in enumerate(facts):
        image = Image.fromarray(pixels[index])
        box = shape_box(image)
        if box is None or not follows(image, fact.colour, fact.background):
            continue  # a miss is not a shape to sharpen
        cx, cy, radius = np.array(_features(box)) @ fits[fact.shape]
        if not world.MIN_RADIUS * 0.8 <= radius <= world.MAX_RADIUS * 1.15:
            continue
        targets.append(world.draw(fact.shape, fact.colour, fact.background, cx, cy, radius))
        kept.append(index)
    if not targets:
        return latents[:0], torch.empty(0, 3, world.SIZE, world.SIZE)
    return latents[kept], torch.from_numpy(world.to_array(targets))


def sharpen_decoder(
    vae: Any, pipe: Any, *, steps: int, pool: int, batch: int = 32, seed: int = 13, lr: float = 5e-4
) -> dict[str, Any]:
    """Train `vae`'s decoder in place (see the module's docstring); returns training facts."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    latents, facts = own_latents(pipe, pool)
    own, targets = ideal_targets(vae, latents, facts)
    drawn = world.samples(seed, 8192, world.ALL_SHAPES)
    pixels = torch.from_numpy(world.to_array([s.image for s in drawn]))
    spread = latent_spread(vae, pixels)
    training = DecoderTraining(vae, steps=steps, lr=lr)
    half = batch // 2 if len(own) else 0  # none kept (an untrained --quick model): drawn only
    progress = StageProgress("sharpen", steps, every=50)
    for step in range(1, steps + 1):
        mine = torch.randint(0, max(1, len(own)), (half,), generator=gen)
        theirs = torch.randint(0, len(pixels), (batch - half,), generator=gen)
        with torch.no_grad():
            encoded = vae.encode(pixels[theirs]).latent_dist.mean
        encoded = encoded + torch.randn(encoded.shape, generator=gen) * LATENT_NOISE * spread
        recon = vae.decode(torch.cat([own[mine], encoded]) if half else encoded).sample
        wanted = torch.cat([targets[mine], pixels[theirs]]) if half else pixels[theirs]
        training.step(reconstruction_loss(recon, wanted))
        progress.step(step, training.last_loss)
    seconds = progress.done()
    training.done()
    return {"steps": steps, "batch": batch, "seconds": seconds, "pool": pool, "pairs": len(own)}


def sharpen_saved(model_dir: Path, *, steps: int, pool: int) -> dict[str, Any]:
    """Sharpen the decoder of the demo model saved in `model_dir` and save its VAE again."""
    from diffusers import StableDiffusionPipeline

    from genai_tui.demo.export import save_vae

    pipe = StableDiffusionPipeline.from_pretrained(str(model_dir))  # type: ignore[no-untyped-call]
    pipe.set_progress_bar_config(disable=True)
    facts = sharpen_decoder(pipe.vae, pipe, steps=steps, pool=pool)
    save_vae(pipe.vae, model_dir / "vae")
    return facts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--pool", type=int, default=1920, help="latents generated to learn from")
    parser.add_argument("--out", type=Path, default=Path("assets/demo-model"))
    args = parser.parse_args(argv)
    print(sharpen_saved(args.out, steps=args.steps, pool=args.pool))


if __name__ == "__main__":
    main()
