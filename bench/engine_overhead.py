"""Time generation through genai-tui's engine against the bare diffusers pipeline.

Same model, same arguments, same seeds; the two alternate in one process so drift in machine load
hits both. Prints each median and the ratio engine / bare (goal: <= 1.02).

    python bench/engine_overhead.py [--model REF] [--runs 15] [--steps 25] [--images 1]

Without --model it uses the demo model when present, else a tiny pipeline made on the spot.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--images", type=int, default=1)
    parser.add_argument("--prompt", default="a red circle on a white background")
    args = parser.parse_args()

    import torch

    from genai_tui.engine.generate import generate
    from genai_tui.engine.models import load_model
    from genai_tui.engine.params import GenerateParams
    from genai_tui.engine.schedulers import DEFAULT_SAMPLER, build_scheduler
    from genai_tui.engine.sources import demo_model_dir

    ref = args.model
    if ref is None:
        if (demo_model_dir() / "model_index.json").is_file():
            ref = "demo"
        else:
            from tests.fixtures.tiny_pipeline import make_tiny_pipeline

            ref = str(make_tiny_pipeline(Path(tempfile.mkdtemp()) / "tiny"))
    model = load_model(ref)
    pipe = model.pipe
    params = GenerateParams(args.prompt, steps=args.steps, seed=1, batch_size=args.images)

    def engine_run(seed: int) -> float:
        started = time.perf_counter()
        # A listener that takes the previews, as the UI does, so their cost is counted.
        generate(model, GenerateParams(**{**params.__dict__, "seed": seed}), lambda info: None)
        return time.perf_counter() - started

    def bare_run(seed: int) -> float:
        pipe.scheduler = build_scheduler(DEFAULT_SAMPLER, model.original_scheduler_config)
        generators = [torch.Generator("cpu").manual_seed(seed + i) for i in range(args.images)]
        started = time.perf_counter()
        with torch.inference_mode():
            pipe(
                args.prompt,
                num_inference_steps=args.steps,
                guidance_scale=params.cfg_scale,
                num_images_per_prompt=args.images,
                generator=generators if args.images > 1 else generators[0],
            )
        return time.perf_counter() - started

    engine_run(0), bare_run(0)  # warm-up: first calls pay for lazy initialisation
    engine_times, bare_times = [], []
    for run in range(args.runs):
        # Alternate which goes first so neither always follows the other.
        first, second = (engine_run, bare_run) if run % 2 == 0 else (bare_run, engine_run)
        a, b = first(run), second(run)
        engine_times.append(a if first is engine_run else b)
        bare_times.append(b if first is engine_run else a)
    engine_median, bare_median = statistics.median(engine_times), statistics.median(bare_times)
    print(
        f"model: {model.source.name} on {model.device} ({model.dtype}), torch threads "
        f"{torch.get_num_threads()}"
    )
    print(f"{args.runs} runs x {args.images} image(s) x {args.steps} steps")
    print(f"bare diffusers median: {bare_median * 1000:.1f} ms")
    print(f"genai-tui engine median: {engine_median * 1000:.1f} ms")
    print(f"ratio engine / bare: {engine_median / bare_median:.3f}")


if __name__ == "__main__":
    main()
