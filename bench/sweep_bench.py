"""Time a sweep against the same cells made one `generate` job at a time, on the worker.

After a warm-up that loads the model and CLIP:
  1. a 12-cell sweep (cfg 4 values x seed 3 values), unbatched and with its seeds batched,
     against its 12 cells as 12 GenerateJobs (median of alternating rounds);
  2. a 48-cell sweep: the share of its time spent scoring with CLIP, and writing the grid.

    python bench/sweep_bench.py [--tiny] [--steps 20] [--size 64] [--repeat 3]

Uses the demo model and demo CLIP; --tiny uses a tiny random pipeline and CLIP made on the spot
(those figures show only the machinery's cost, not a real model's).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class Timed:
    """Wraps a function and adds up the seconds spent in it."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a tiny random model and CLIP")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=None, help="pixels (default: native)")
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds (median)")
    args = parser.parse_args()

    from dataclasses import replace

    from genai_tui.engine.params import GenerateParams
    from genai_tui.jobs import generation, sweep
    from genai_tui.jobs.events import JobFinished
    from genai_tui.jobs.specs import GenerateJob, SweepJob
    from genai_tui.jobs.sweep_axes import plan_sweep
    from genai_tui.jobs.worker import Worker
    from genai_tui.session.store import SessionStore
    from tests.fixtures.recorder import Recorder

    scratch = Path(tempfile.mkdtemp())
    if args.tiny:
        from tests.fixtures.tiny_clip import make_tiny_clip
        from tests.fixtures.tiny_pipeline import make_tiny_pipeline

        model, clip = str(make_tiny_pipeline(scratch / "sd")), str(make_tiny_clip(scratch / "clip"))
        note = "tiny random pipeline and CLIP"
    else:
        model, clip, note = "demo", "demo", "demo model and demo CLIP"
    scoring = Timed(generation.save_scored)  # scoring and saving the images, less the saving:
    generation.save_scored = scoring  # type: ignore[assignment]
    grids = Timed(sweep.write_grids)
    sweep.write_grids = grids  # type: ignore[assignment]
    saving = Timed(generation.save_image)  # (what landing an unscored image costs too)
    generation.save_image = saving  # type: ignore[assignment]

    recorder = Recorder()
    worker = Worker(recorder).start()
    base = GenerateParams(
        "a red circle on a white background",
        steps=args.steps,
        seed=1,
        width=args.size,
        height=args.size,
    )
    stores = iter(range(1000))

    def fresh() -> SessionStore:
        return SessionStore.open(scratch / "sessions", f"s{next(stores)}")

    def run(job: Any) -> float:
        started = time.perf_counter()
        end = recorder.run(worker, job, timeout=3600)
        if not isinstance(end, JobFinished):
            raise SystemExit(f"bench job failed: {end.sentence()}")
        return time.perf_counter() - started

    def one_by_one(axes: tuple[str, ...]) -> float:
        store = fresh()
        cells = plan_sweep(base, axes).cells
        return sum(
            run(GenerateJob(replace(c.params), model, store, clip=clip, preview="latent"))
            for c in cells
        )

    def swept(axes: tuple[str, ...], batch: int = 4) -> float:
        job = SweepJob(base, axes, model, fresh(), clip=clip, batch=batch, preview="latent")
        return run(job)

    run(GenerateJob(base, model, fresh(), clip=clip, preview="latent"))  # warm-up: load both
    print(f"sweep bench: {note}, {args.steps} steps, size {args.size or 'native'}, "
          f"median of {args.repeat} alternating rounds")  # fmt: skip

    # The 12 cells: 4 guidance values x 3 seeds. Alternating rounds, so a busy moment
    # of the machine lands on both sides alike.
    grid_axes = ("cfg=3,5,7,9", "seed=1-3")
    rounds: dict[str, list[float]] = {"alone": [], "batch 1": [], "batched": []}
    for _ in range(args.repeat):
        rounds["alone"].append(one_by_one(grid_axes))
        rounds["batch 1"].append(swept(grid_axes, batch=1))
        rounds["batched"].append(swept(grid_axes, batch=4))
    alone, unbatched, batched = (statistics.median(v) for v in rounds.values())
    print(f"12 cells (cfg 4 x seed 3): one by one {alone:.2f} s, sweep unbatched "
          f"{unbatched:.2f} s (ratio {unbatched / alone:.3f}, goal <= 1.02), seeds batched "
          f"{batched:.2f} s (ratio {batched / alone:.3f}, goal < 0.8)")  # fmt: skip

    big_axes = ("cfg=3,5,7,9", "seed=1-12")
    scoring.seconds = grids.seconds = saving.seconds = 0.0
    together = swept(big_axes)
    share = 100 * (scoring.seconds - saving.seconds) / together
    print(f"48-cell sweep {together:.2f} s: CLIP scoring {share:.1f} % (goal <= 2 %; saving the"
          f" images {100 * saving.seconds / together:.1f} %), grid"
          f" {100 * grids.seconds / together:.1f} %")  # fmt: skip
    worker.stop()


if __name__ == "__main__":
    main()
