"""Measure the demo model: CLIP zero-shot accuracy (on drawn images and on the VAE's renderings
of them), prompt following, and speed.

    python bench/demo_quality.py                      # print the figures
    python bench/demo_quality.py --guidance 5 7.5 10  # compare guidance scales
    python bench/demo_quality.py --write-card         # also put them in the model card

Prompt following: each generated image is read by the demo CLIP (zero-shot, over all four
shapes) and compared with the shape, colour and background its prompt asked for.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

import torch  # noqa: E402

from genai_tui.demo import world  # noqa: E402
from genai_tui.demo.card import write_card  # noqa: E402
from genai_tui.demo.judge import WorldJudge, accuracy  # noqa: E402

CLIP_SEED = 20260
PROMPT_SEED = 31337


def load_pipeline(model: Path) -> Any:
    """The demo pipeline with a DPM-Solver++ scheduler derived from its own config."""
    from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline
    from diffusers.utils import logging

    logging.disable_progress_bar()
    pipe = StableDiffusionPipeline.from_pretrained(model, local_files_only=True)
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def read_all(judge: WorldJudge, images: list[Any]) -> list[Any]:
    """The judge's readings of `images`, 200 at a time (one batch of all would be slow)."""
    readings = []
    for start in range(0, len(images), 200):
        readings += judge.read(images[start : start + 200])
    return readings


def clip_on_renderings(judge: WorldJudge, vae: Any, count: int) -> dict[str, Any]:
    """Accuracy of the demo CLIP on the same images as the VAE gives them back (encode, decode):
    the softness every generated image has, so the ceiling of any judgement of generations."""
    import numpy as np
    from PIL import Image

    from genai_tui.demo.clip_train import vae_renderings

    data = world.samples(CLIP_SEED, count, world.ALL_SHAPES)
    pixels = torch.from_numpy(world.to_array([s.image for s in data]))
    rendered = ((vae_renderings(vae, pixels).permute(0, 2, 3, 1).numpy() + 1) * 127.5).round()
    images = [Image.fromarray(a.astype(np.uint8)) for a in rendered]
    readings = read_all(judge, images)
    scores = accuracy(readings, [(s.shape, s.colour, s.background) for s in data])
    return {**scores, "count": count, "seed": CLIP_SEED}


def clip_zero_shot(judge: WorldJudge, count: int) -> dict[str, Any]:
    """Accuracy of the demo CLIP on fresh world images (all four shapes)."""
    data = world.samples(CLIP_SEED, count, world.ALL_SHAPES)
    readings = read_all(judge, [s.image for s in data])
    scores = accuracy(readings, [(s.shape, s.colour, s.background) for s in data])
    per_shape = {}
    for shape in world.ALL_SHAPES:
        hits = [r.shape == s.shape for r, s in zip(readings, data, strict=True) if s.shape == shape]
        per_shape[shape] = sum(hits) / max(len(hits), 1)
    return {**scores, "count": count, "seed": CLIP_SEED, "shape_by_shape": per_shape}


def prompt_following(
    pipe: Any, judge: WorldJudge, count: int, steps: int, guidance: float
) -> dict[str, Any]:
    """Generate one image per random world prompt; how often CLIP reads back what was asked."""
    rng = random.Random(PROMPT_SEED)
    asked = [world.random_sample(rng) for _ in range(count)]
    images = []
    for start in range(0, count, 10):
        chunk = asked[start : start + 10]
        generators = [torch.Generator("cpu").manual_seed(start + i) for i in range(len(chunk))]
        out = pipe(
            [s.caption for s in chunk],
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=generators,
        )
        images += out.images
    readings = judge.read(images)
    scores = accuracy(readings, [(s.shape, s.colour, s.background) for s in asked])
    return {**scores, "count": count, "steps": steps, "guidance": guidance, "images": images}


def speed(pipe: Any, runs: int, steps: int, guidance: float) -> dict[str, Any]:
    """Seconds for 4 images at `steps` steps in one call; one warm-up, then `runs` timed runs."""
    prompt = ["a red circle on a white background"] * 4

    def once() -> float:
        generator = torch.Generator("cpu").manual_seed(0)
        started = time.perf_counter()
        pipe(prompt, num_inference_steps=steps, guidance_scale=guidance, generator=generator)
        return time.perf_counter() - started

    once()
    times = [once() for _ in range(runs)]
    return {
        "images": 4,
        "steps": steps,
        "runs": runs,
        "runs_s": times,
        "median_s": statistics.median(times),
        "threads": torch.get_num_threads(),
    }


def grid(images: list[Any], path: Path, columns: int = 10) -> None:
    """Save images side by side, for a look at what was judged."""
    from PIL import Image

    w, h = images[0].size
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * w, rows * h))
    for i, image in enumerate(images):
        sheet.paste(image, ((i % columns) * w, (i // columns) * h))
    sheet.save(path)


def main() -> None:
    """Measure, print, and optionally record the figures in the model card."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / "assets" / "demo-model")
    parser.add_argument("--guidance", type=float, nargs="+", default=[7.5])
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--clip-images", type=int, default=600)
    parser.add_argument("--speed-runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--grid", type=Path, help="save the generated images as one PNG here")
    parser.add_argument("--write-card", action="store_true", help="record figures in README.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    judge = WorldJudge.load(args.model / "clip")
    clip = clip_zero_shot(judge, args.clip_images)
    print(f"CLIP zero-shot on {clip['count']} fresh images (seed {CLIP_SEED}):")
    print(
        f"  shape {clip['shape']:.1%}  colour {clip['colour']:.1%}  "
        f"background {clip['background']:.1%}  by shape {clip['shape_by_shape']}"
    )

    pipe = load_pipeline(args.model)
    rendered = clip_on_renderings(judge, pipe.vae, args.clip_images)
    print("CLIP on the VAE's renderings of the same images:")
    print(
        f"  shape {rendered['shape']:.1%}  colour {rendered['colour']:.1%}  "
        f"background {rendered['background']:.1%}"
    )
    results = []
    for guidance in args.guidance:
        follow = prompt_following(pipe, judge, args.prompts, args.steps, guidance)
        results.append(follow)
        print(f"Prompt following, {args.prompts} prompts, {args.steps} steps, guidance {guidance}:")
        print(
            f"  shape {follow['shape']:.1%}  colour {follow['colour']:.1%}  "
            f"background {follow['background']:.1%}"
        )
    best = max(results, key=lambda r: min(r["shape"], r["colour"], r["background"]))
    if args.grid:
        grid(best["images"], args.grid)
    timing = speed(pipe, args.speed_runs, args.steps, best["guidance"])
    print(
        f"Speed: 4 images x {args.steps} steps, median of {args.speed_runs}: "
        f"{timing['median_s']:.2f} s (runs {[round(t, 2) for t in timing['runs_s']]}, "
        f"{timing['threads']} threads)"
    )

    if args.write_card:
        facts = json.loads((args.model / "training.json").read_text(encoding="utf-8"))
        command = "python bench/demo_quality.py " + " ".join(sys.argv[1:])
        facts["quality"] = {
            "command": command.strip(),
            "machine": (
                f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}"
            ),
            "clip_zero_shot": clip,
            "clip_on_renderings": rendered,
            "prompt_following": {k: v for k, v in best.items() if k != "images"},
            "speed": timing,
        }
        write_card(args.model, facts)
        print(f"card updated: {args.model / 'README.md'}")


if __name__ == "__main__":
    main()
