"""What the daemon's wire costs per event: size and encode+decode time of Progress events.

    python bench/wire_codec.py [--steps 150] [--rounds 7] [--batch 4]

A 150-step generation sends 150 Progress events; those within PREVIEW_INTERVAL of the last
preview carry none, the others one 64x64 preview per image (SD 1.5's latent size). Previews are
measured as noise (early steps; PNG's worst case) and as a smooth picture (late steps). Each
case goes through event_to_wire -> encode -> decode -> event_from_wire; the baseline is
json.dumps + json.loads of the same dict (no typed reading, no PNG), in the same run. Also the
PNG compression level (1, used, against 6, Pillow's default) in the same run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from genai_tui.daemon import codec
from genai_tui.jobs.events import Event, Progress


def noise(side: int = 64) -> Image.Image:
    return Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))


def smooth(side: int = 64) -> Image.Image:
    ramp = Image.linear_gradient("L").resize((side, side))
    return Image.merge("RGB", (ramp, ramp.rotate(90), ramp.rotate(180)))


def per_event_us(events: list[Event], trip: Callable[[Event], object], rounds: int) -> float:
    """Median over `rounds` of the time per event of `trip`, in µs."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for event in events:
            trip(event)
        times.append((time.perf_counter() - start) / len(events))
    return statistics.median(times) * 1e6


def codec_trip(event: Event) -> object:
    return codec.event_from_wire(codec.decode(codec.encode(codec.event_to_wire(event))))


def plain_trip(event: Event) -> object:
    wire = {"type": type(event).__name__, "job_id": event.job_id, "step": 1, "total": 150}
    return json.loads(json.dumps(wire))


def progress(steps: int, frames: Callable[[], tuple[Image.Image, ...]]) -> list[Event]:
    return [Progress("job1", step, steps, step * 0.05, frames()) for step in range(1, steps + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()

    one = progress(1, lambda: (noise(),))[0]
    print(f"Progress, one 64x64 noise preview: {len(codec.encode(codec.event_to_wire(one)))} B")
    calm = progress(1, lambda: (smooth(),))[0]
    print(f"Progress, one 64x64 smooth preview: {len(codec.encode(codec.event_to_wire(calm)))} B")
    bare = progress(1, tuple)[0]
    print(f"Progress, no preview: {len(codec.encode(codec.event_to_wire(bare)))} B")

    cases = {
        "no preview": progress(args.steps, tuple),
        "1 noise preview": progress(args.steps, lambda: (noise(),)),
        "1 smooth preview": progress(args.steps, lambda: (smooth(),)),
        f"{args.batch} noise previews": progress(
            args.steps, lambda: tuple(noise() for _ in range(args.batch))
        ),
    }
    print(f"\n{args.steps} Progress events each, median of {args.rounds} rounds, µs per event:")
    plain = per_event_us(cases["no preview"], plain_trip, args.rounds)
    print(f"  baseline json.dumps+loads of a bare dict: {plain:8.1f}")
    for name, events in cases.items():
        spent = per_event_us(events, codec_trip, args.rounds)
        print(f"  {name:>24}: {spent:8.1f}  ({spent / plain:.1f}x baseline)")

    print("\nOne 64x64 preview as PNG, by compression level (alternating rounds):")
    for picture, make in (("noise", noise), ("smooth", smooth)):
        frames = [make() for _ in range(args.steps)]
        spent: dict[int, list[float]] = {1: [], 6: []}
        sizes: dict[int, int] = {}
        for _ in range(args.rounds):
            for level, times in spent.items():
                start = time.perf_counter()
                for frame in frames:
                    buffer = io.BytesIO()
                    frame.save(buffer, format="PNG", compress_level=level)
                times.append((time.perf_counter() - start) / len(frames) * 1e6)
                sizes[level] = len(buffer.getvalue())
        fast, default = statistics.median(spent[1]), statistics.median(spent[6])
        print(
            f"  {picture:>6}: level 1 (used) {fast:7.1f} µs {sizes[1]:6} B; level 6 "
            f"{default:7.1f} µs {sizes[6]:6} B; level 1 takes {fast / default:.2f}x the time"
        )


if __name__ == "__main__":
    main()
