"""How long the app outlives its terminal: start, generate, end the session, N times.

    python bench/exit_times.py [--rounds 20] [--how close] [--job generate] [--baseline PATH]

Each round starts the real genai-tui on a pseudo-terminal (tests/fixtures/pty_app.py) with the
demo model, types a prompt and presses ctrl+g (--job train: starts a LoRA run on
assets/sample-images instead), waits for the first step, types a few more characters (not yet
saved by the editor's own timer) and ends the session --how: close (the terminal vanishes, as on
an SSH drop or tmux kill-session), hup, term or quit (ctrl+q). It times until the process is
gone; one still there after --cap seconds outlived its terminal (and is killed then). Issue 11
found 3 of 3 hung closing the terminal while training, and 6.7 s after SIGHUP mid-generation;
the goal is every exit within 2 s, none outliving, every prompt kept.

--baseline PATH (a checkout of other code, e.g. /work/main) alternates its rounds with this
checkout's in the same run; the same machine load falls on both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.pty_app import (  # noqa: E402
    CTRL_G,
    LEAVE_WAYS,
    PtyApp,
    make_session,
    saved_prompt,
)

PROMPT = b"a red circle"
MORE = b" on blue"


def one_round(code: Path, root: Path, name: str, how: str, job: str, cap: float) -> dict:
    make_session(root, name, {"steps": 150})  # the demo model's own size: a step is quick
    app = PtyApp.start(
        root, "--model", "demo", "--session", name, "--images", "halfcell", code=code
    )
    try:
        app.read_until(b"session:", 120)  # the first frame; a job waits for the model
        app.drain(0.5)
        if job == "train":
            app.type(b"\x14")  # ctrl+t: the training screen, its data folder field focused
            app.drain(1.0)
            app.type(str(REPO / "assets" / "sample-images").encode())
            app.drain(1.0)
            app.type(CTRL_G)
            app.read_until(b"loss", 120)
        else:
            app.type(PROMPT)
            app.read_until(PROMPT[-6:], 20)
            app.type(CTRL_G)
            app.read_until(b"/150", 60)  # "step n/150": generating
            app.type(MORE)
            app.read_until(MORE[-4:], 20)
        since = app.leave(how)
        seconds = app.wait_gone(since, cap)
    finally:
        app.kill()
    kept = None if job == "train" else saved_prompt(root, name) == (PROMPT + MORE).decode()
    return {"seconds": seconds, "kept": kept, "code": app.exit_code}


def report(label: str, rounds: list[dict], cap: float) -> None:
    times = sorted(r["seconds"] for r in rounds if r["seconds"] is not None)
    outlived = sum(r["seconds"] is None for r in rounds)
    kept = "-" if rounds[0]["kept"] is None else sum(r["kept"] for r in rounds)
    codes = sorted({str(r["code"]) for r in rounds if r["seconds"] is not None})
    line = f"{label}: {len(rounds)} rounds, outlived the terminal (> {cap:g} s): {outlived}"
    if times:
        p90 = times[min(len(times) - 1, round(0.9 * (len(times) - 1)))]
        line += (
            f"; exit s: min {times[0]:.2f} median {statistics.median(times):.2f} "
            f"p90 {p90:.2f} max {times[-1]:.2f}; within 2 s: {sum(t <= 2.0 for t in times)}"
        )
    print(f"{line}; prompt kept: {kept}/{len(rounds)}; exit codes {', '.join(codes) or '-'}")
    shown = ["hung" if r["seconds"] is None else f"{r['seconds']:.2f}" for r in rounds]
    print(f"  times: {', '.join(shown)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--how", choices=LEAVE_WAYS, default="close")
    parser.add_argument("--job", choices=("generate", "train"), default="generate")
    parser.add_argument("--baseline", type=Path, help="other code to alternate with")
    parser.add_argument("--cap", type=float, default=10.0, help="seconds before it counts hung")
    args = parser.parse_args()
    codes = {"this checkout": REPO}
    if args.baseline:
        codes = {f"baseline {args.baseline}": args.baseline.resolve(), **codes}
    results: dict[str, list[dict]] = {label: [] for label in codes}
    root = Path(tempfile.mkdtemp(prefix="exit-times-"))
    for n in range(args.rounds):
        for label, code in codes.items():
            result = one_round(
                code, root, f"r{n}-{len(results[label])}{label[0]}", args.how, args.job, args.cap
            )
            results[label].append(result)
            print(f"round {n + 1} {label}: {result}", flush=True)
    print(f"--how {args.how} --job {args.job}")
    for label, rounds in results.items():
        report(label, rounds, args.cap)


if __name__ == "__main__":
    main()
