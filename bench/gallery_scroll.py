"""Scrolling a gallery of 300 images: time per page, in the real app (headless, half-cell).

    python bench/gallery_scroll.py [--images 300] [--pages 20]

Builds a session of N images (copies of one small PNG with their records), opens it in the app,
focuses the gallery and presses page-down/page-up, waiting for each screen update. Prints the
median and worst time per page, and the same for single-row moves.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_session(root: Path, count: int) -> None:
    from PIL import Image

    from genai_tui.session.models import ImageRecord
    from genai_tui.session.store import SessionStore

    store = SessionStore.open(root, "big")
    for index in range(count):
        picture = Image.new("RGB", (64, 64), ((index * 37) % 256, (index * 91) % 256, 128))
        record = ImageRecord(
            file="",
            prompt=f"image {index}",
            steps=20,
            cfg_scale=7,
            seed=index,
            width=64,
            height=64,
            scheduler="Euler",
            model="demo",
            clip_score=float(index % 40),
        )
        store.add_image(record, picture, "bench")


async def measure(root: Path, pages: int) -> dict[str, list[float]]:
    from genai_tui.ui.app import AppOptions, GenaiApp
    from genai_tui.ui.widgets.gallery import Gallery

    app = GenaiApp(AppOptions(sessions_root=root, session="big", model="demo", images="halfcell"))
    times: dict[str, list[float]] = {"no-op key (baseline)": [], "page": [], "row": []}
    async with app.run_test(size=(150, 46)) as pilot:
        await pilot.pause(0.5)
        app.query_one(Gallery).focus()
        await pilot.pause(0.2)
        # x is bound to nothing: its time is the harness's own cost of a key and a repaint.
        for label, key in (("no-op key (baseline)", "x"), ("page", "pagedown"), ("row", "down")):
            for index in range(pages):
                started = time.perf_counter()
                await pilot.press("pageup" if key == "pagedown" and index % 10 == 9 else key)
                await pilot.wait_for_scheduled_animations()
                await pilot.pause()
                times[label].append(time.perf_counter() - started)
        app.worker.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp())
    make_session(root, args.images)
    results = asyncio.run(measure(root, args.pages))
    baseline = statistics.median(results["no-op key (baseline)"])
    for label, times in results.items():
        median = statistics.median(times)
        print(
            f"{args.images} images, {label}: median {median * 1000:.1f} ms "
            f"({median / baseline:.2f}x the no-op key), worst {max(times) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
