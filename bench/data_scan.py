"""The form's scan of a training folder (training's own rules, JPEGs decoded small) against the
old header check (Pillow's verify), alternating, and a repeat scan served from what it remembers.

    PYTHONPATH=. OMP_NUM_THREADS=1 python bench/data_scan.py --images 20 --size 4000x3000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from genai_tui.engine.lora.folder import candidate_files
from genai_tui.ui import data_scan


def make_photos(folder: Path, count: int, width: int, height: int) -> None:
    """Photo-like JPEGs (a gradient with noise) with captions."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 200, width, dtype=np.float32)[None, :, None]
    for index in range(count):
        noise = rng.normal(0, 12, (height, width, 3)).astype(np.float32)
        pixels = np.clip(ramp + noise + index, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"photo-{index:03}.jpg", quality=90)
        (folder / f"photo-{index:03}.txt").write_text(f"a photo of sks, number {index}")


def headers_only(folder: Path) -> int:
    """What the form did before: open and verify each file, decode nothing."""
    found = 0
    for path in candidate_files(folder):
        with Image.open(path) as opened:
            opened.verify()
        found += 1
    return found


def timed(call: object) -> float:
    start = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_photos(folder, args.images, width, height)
        old, full, again = [], [], []
        for _ in range(args.rounds):
            old.append(timed(lambda: headers_only(folder)))
            data_scan._checked.clear()
            full.append(timed(lambda: data_scan.scan_folder(folder)))
            again.append(timed(lambda: data_scan.scan_folder(folder)))
    print(f"{args.images} JPEGs of {width}x{height}, median of {args.rounds} rounds:")
    for label, times in (
        ("header check (old)", old),
        ("form scan", full),
        ("form scan again", again),
    ):
        median = statistics.median(times)
        print(f"  {label:<20} {median:7.3f} s  ratio to old {median / statistics.median(old):7.2f}")


if __name__ == "__main__":
    main()
