"""What proving that session.json reads back costs each write, for sessions of many images.

Every write serialises the session; since issue 11 it first proves that the JSON validates as a
Session again, for everything but the image records (each is proved once, as it comes in).
Alternating in one process, this times the serialisation alone (the baseline), plus that check,
and plus a check of the whole session (records included, the alternative not taken); then a whole
`SessionStore.save()` (fsync and rename included). Prints medians and ratios to the baseline.

    python bench/session_write_check.py [--images 1000 5000] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genai_tui.session.folder import prove_readable
from genai_tui.session.models import ImageRecord, Session
from genai_tui.session.store import SessionStore


def medians(session: Session, runs: int) -> dict[str, float]:
    """Median milliseconds of each way to write `session`, alternating."""
    head = session.model_copy(update={"images": []})

    def dump() -> None:
        session.model_dump_json(indent=2)

    def dump_and_check() -> None:
        dump()
        prove_readable(head, "bench", "session.json")

    def dump_and_check_records_too() -> None:
        dump()
        prove_readable(session, "bench", "session.json")

    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as root:
        store = SessionStore(Path(root), "bench", session)
        steps = [dump, dump_and_check, dump_and_check_records_too, store.save]
        for _ in range(runs):
            for step in steps:
                start = time.perf_counter()
                step()
                times.setdefault(step.__name__, []).append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for count in args.images:
        records = [
            ImageRecord(
                file=f"images/{i:04d}-{i}.png", prompt=f"a red circle on a blue square, {i}",
                steps=25, cfg_scale=7.0, seed=i, width=512, height=512,
                scheduler="DPM++ 2M Karras", model="demo", versions={"torch": "2"},
            )
            for i in range(count)
        ]  # fmt: skip
        ms = medians(Session(name="bench", images=records), args.runs)
        base = ms["dump"]
        print(
            f"{count:5d} images: serialise {base:5.1f} ms; with the check "
            f"{ms['dump_and_check']:5.1f} ms (x{ms['dump_and_check'] / base:.2f}); checking "
            f"records too {ms['dump_and_check_records_too']:5.1f} ms "
            f"(x{ms['dump_and_check_records_too'] / base:.2f}); whole save {ms['save']:5.1f} ms"
        )


if __name__ == "__main__":
    main()
