"""Does each sampler follow prompts on the demo model? Judged from pixels, not by the demo CLIP.

    python bench/demo_samplers.py [--prompts 12] [--steps 25]

For plain diffusers' load of assets/demo-model (its saved scheduler) and then every sampler in
genai-tui's list built from that config: how many of N prompts (a shape of a colour on a
background) come out with a plain background of the asked colour and a shape of the asked colour
(genai_tui/demo/pixels.py), and the seconds each batch took. A sampler that asks for more steps
(PNDM: 50) is also run at those.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=12)
    parser.add_argument("--steps", type=int, default=25)
    args = parser.parse_args()

    import torch
    from diffusers import StableDiffusionPipeline

    from genai_tui.demo import world
    from genai_tui.demo.pixels import follows
    from genai_tui.engine.schedulers import SAMPLERS, build_scheduler

    pipe = StableDiffusionPipeline.from_pretrained(str(ROOT / "assets" / "demo-model"))
    pipe.set_progress_bar_config(disable=True)
    saved = pipe.scheduler
    combos = [(s, c, b) for s in world.SHAPES for c in world.COLOURS for b in world.BACKGROUNDS]
    random.Random(1).shuffle(combos)
    combos = combos[: args.prompts]
    prompts = [world.caption(*combo) for combo in combos]

    def judged(steps: int) -> tuple[int, float]:
        generators = [torch.Generator().manual_seed(i) for i in range(len(prompts))]
        started = time.perf_counter()
        images = pipe(prompts, num_inference_steps=steps, guidance_scale=7.5,
                      generator=generators).images  # fmt: skip
        good = sum(follows(im, c, b) for im, (_, c, b) in zip(images, combos, strict=True))
        return good, time.perf_counter() - started

    good, seconds = judged(args.steps)
    print(f"{'saved: ' + type(saved).__name__:34s} {good}/{len(prompts)} at {args.steps} steps"
          f"  {seconds:.1f} s")  # fmt: skip
    for sampler in SAMPLERS:
        pipe.scheduler = build_scheduler(sampler.name, saved.config)
        for steps in sorted({args.steps, max(args.steps, sampler.fewest_steps)}):
            good, seconds = judged(steps)
            print(f"{sampler.name:34s} {good}/{len(prompts)} at {steps} steps  {seconds:.1f} s")


if __name__ == "__main__":
    main()
