"""First frame of genai-tui against a minimal Textual app, started the same way, alternating.

    python bench/first_frame.py [--runs 10] [--images halfcell] [--model demo]

Both run as a fresh `python` process on a pseudo-terminal of 120x36; the time is from fork to
the first bytes that carry the app's header text (what a person sees first). The minimal app is
a Header, a TextArea and a Footer. Prints both medians and their ratio (goal: <= 1.3).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui_responsiveness import ROOT, read_until, spawn_command, stop

MINIMAL = """
from textual.app import App
from textual.widgets import Footer, Header, TextArea

class Minimal(App):
    TITLE = "minimal-app"
    def compose(self):
        yield Header()
        yield TextArea()
        yield Footer()

Minimal().run()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--images", default="halfcell")
    parser.add_argument("--model", default="demo")
    args = parser.parse_args()
    os.chdir(ROOT)
    sessions = Path(tempfile.mkdtemp())
    ours: list[float] = []
    minimal: list[float] = []
    for run in range(args.runs):
        pid, fd, started = spawn_command([sys.executable, "-c", MINIMAL])
        seen, _ = read_until(fd, b"minimal-app", 60)
        minimal.append(seen - started)
        stop(pid, fd)
        command = [
            sys.executable, "-m", "genai_tui.cli", "--model", args.model, "--images", args.images,
            "--sessions-dir", str(sessions), "--session", f"run{run}",
        ]  # fmt: skip
        pid, fd, started = spawn_command(command)
        seen, _ = read_until(fd, b"session:", 60)
        ours.append(seen - started)
        stop(pid, fd)
    m_ours, m_min = statistics.median(ours), statistics.median(minimal)
    print(f"minimal Textual app: median {m_min:.3f} s ({', '.join(f'{t:.2f}' for t in minimal)})")
    print(f"genai-tui (--images {args.images}): median {m_ours:.3f} s "
          f"({', '.join(f'{t:.2f}' for t in ours)})")  # fmt: skip
    print(f"ratio genai-tui / minimal: {m_ours / m_min:.2f} (goal <= 1.3)")


if __name__ == "__main__":
    main()
