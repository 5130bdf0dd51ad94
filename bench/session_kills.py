"""Kill -9 writers of one session at random moments and count what the next open leaves.

Each round starts a process that records a running training run, then adds images in a loop (a
claim, a PNG, a session.json write each), and kills it with SIGKILL after a random delay. The
session is then opened as a user would. Over all rounds it counts session.json unreadable,
records lost (seen by an earlier round and gone), records whose PNG is missing or empty; after
the last open, the temporaries and empty unrecorded PNGs on disk and the runs still "running"
(of one per round). Issue 11 (finding 15) measured 12 leftover temporaries after 50 kills and 4
of 5 runs left "running"; each count here should be 0.

    python bench/session_kills.py [--rounds 30] [--max-delay 0.6]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genai_tui.session.store import SessionError, SessionStore  # noqa: E402

WRITER = """
import sys
from pathlib import Path
from PIL import Image
from genai_tui.session.models import ImageRecord, TrainRun
from genai_tui.session.store import SessionStore
root, round_ = Path(sys.argv[1]), sys.argv[2]
store = SessionStore.open(root, "s")
store.save_run(TrainRun(name=f"run-{round_}", lora="x"))
(root / "ready").touch()
for i in range(10_000):
    record = ImageRecord(file="", prompt="p", steps=1, cfg_scale=7.0, seed=i % 3, width=64,
                         height=64, scheduler="Euler", model="demo")
    store.add_image(record, Image.new("RGB", (64, 64), (i % 255, 0, 0)), "bench")
"""


def one_round(root: Path, round_: int, max_delay: float, seen: set[str]) -> dict[str, int]:
    ready = root / "ready"
    ready.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", WRITER, str(root), str(round_)]
    writer = subprocess.Popen(cmd, env=env)
    while not ready.exists() and writer.poll() is None:
        time.sleep(0.01)
    time.sleep(random.uniform(0.0, max_delay))
    writer.kill()
    writer.wait()
    counts = dict.fromkeys(["unreadable", "lost", "bad_png", "left_now", "running_now"], 0)
    try:
        session = SessionStore.open(root, "s", create=False).session
    except SessionError:
        counts["unreadable"] = 1
        return counts
    files = {image.file for image in session.images}
    counts["lost"] = len(seen - files)
    seen |= files
    folder = root / "s"
    for file in files:
        png = folder / file
        counts["bad_png"] += not png.is_file() or png.stat().st_size == 0
    temporaries = list(folder.glob(".*.tmp")) + list(folder.glob("images/.*.tmp"))
    empty = [p for p in folder.glob("images/*.png") if p.stat().st_size == 0]
    counts["left_now"] = len(temporaries) + len(empty)
    counts["running_now"] = sum(run.status == "running" for run in session.runs)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--max-delay", type=float, default=0.6)
    args = parser.parse_args()
    totals: dict[str, int] = {}
    seen: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for round_ in range(args.rounds):
            for key, value in one_round(root, round_, args.max_delay, seen).items():
                # What is on disk now replaces the last round's; the rest adds up.
                totals[key] = value if key.endswith("_now") else totals.get(key, 0) + value
        images = len(seen)
    print(f"{args.rounds} kills, {images} images recorded in all:")
    for key, value in totals.items():
        print(f"  {key:12s} {value}")


if __name__ == "__main__":
    main()
