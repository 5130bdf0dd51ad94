"""What recording a job costs: add + claim_next + finish per job in the daemon's queue, with
its synchronous=FULL (an fsync per change) against synchronous=NORMAL, alternating rounds.

    PYTHONPATH=. python bench/queue_speed.py [--rounds 7] [--jobs 100]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from genai_tui.daemon.queue import QUEUE_FILE, JobQueue

SPEC = {"prompt": "a lighthouse at dusk, oil painting", "steps": 30, "seed": 42, "loras": []}


def round_ms(queue: JobQueue, prefix: str, jobs: int) -> float:
    """Milliseconds per job for `jobs` jobs through add, claim and finish."""
    start = time.perf_counter()
    for n in range(jobs):
        queue.add(f"{prefix}-{n}", "generate", "t", SPEC, session_root="r", session="s")
        job = queue.claim_next("cuda:0")
        assert job is not None
        queue.finish(job.id, "done", summary={"images": [f"{n:04d}-42.png"]})
    return (time.perf_counter() - start) * 1000 / jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        full = JobQueue(Path(folder) / "full" / QUEUE_FILE)
        normal = JobQueue(Path(folder) / "normal" / QUEUE_FILE)
        normal._db.execute("PRAGMA synchronous = NORMAL")  # the baseline: no fsync per commit
        times: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
        for r in range(args.rounds):
            times["FULL"].append(round_ms(full, f"f{r}", args.jobs))
            times["NORMAL"].append(round_ms(normal, f"n{r}", args.jobs))
        full.close()
        normal.close()
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"synchronous={name}: {value:.2f} ms per job (add + claim + finish)")
    print(f"FULL / NORMAL: {medians['FULL'] / medians['NORMAL']:.2f}x")


if __name__ == "__main__":
    main()
