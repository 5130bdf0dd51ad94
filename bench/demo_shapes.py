"""How crisp the demo model's shapes are, from pixels (issue 11, finding 16).

    python bench/demo_shapes.py [--count 24] [--shape square] [--background white] [--model DIR]

For drawn world images, their VAE reconstruction (encode then decode) and generated images of
the same prompts (DPM++ 2M Karras, 25 steps, guidance 7.5): the mean share of the bounding box
the shape fills (a drawn square: 1.0; goal for generated squares >= 0.93), the share of stray
pixels (neither background nor shape colour: the smudge) and the background's colour cast (the
spread of its channels; clean white: under 10). The VAE row tells how much of the softness is
the decoder's; the rest is in the UNet's latents.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--shape", default="square")
    parser.add_argument("--background", default="white")
    parser.add_argument("--model", type=Path, default=ROOT / "assets" / "demo-model",
                        help="a demo model folder (default: the shipped one)")  # fmt: skip
    args = parser.parse_args()

    import torch
    from diffusers import StableDiffusionPipeline
    from PIL import Image

    from genai_tui.demo import world
    from genai_tui.demo.pixels import cleanness

    pipe = StableDiffusionPipeline.from_pretrained(str(args.model))
    pipe.set_progress_bar_config(disable=True)
    rng = random.Random(3)
    drawn = [
        world.random_sample(rng, shape=args.shape, background=args.background)
        for _ in range(args.count)
    ]
    pixels = torch.from_numpy(world.to_array([s.image for s in drawn]))
    with torch.no_grad():
        decoded = pipe.vae.decode(pipe.vae.encode(pixels).latent_dist.mean).sample
    rendered = ((decoded.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    prompts = [world.caption(args.shape, s.colour, args.background) for s in drawn]
    generators = [torch.Generator().manual_seed(i) for i in range(args.count)]
    generated = pipe(prompts, num_inference_steps=25, guidance_scale=7.5,
                     generator=generators).images  # fmt: skip

    rows = {
        "drawn": [s.image for s in drawn],
        "VAE reconstruction": [Image.fromarray(a) for a in rendered],
        "generated": generated,
    }
    print(f"{args.count} {args.shape}s on {args.background}: fill of the bounding box, stray "
          "pixels, background cast")  # fmt: skip
    for name, images in rows.items():
        found = [cleanness(image) for image in images]
        print(f"  {name:20s} fill {statistics.mean(c.fill for c in found):.3f}  "
              f"stray {100 * statistics.mean(c.smudge for c in found):.2f} %  "
              f"cast {statistics.mean(c.cast for c in found):.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
