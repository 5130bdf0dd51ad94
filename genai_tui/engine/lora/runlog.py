"""`log.jsonl` of a training run: one JSON object per line (steps, samples, checkpoints, ends).

Lines are flushed as they are written, so `tail -f` and the TUI can follow a headless run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

LOG_FILE = "log.jsonl"


class RunLog:
    """Appends records to `<run>/log.jsonl`; does nothing when `enabled` is False."""

    def __init__(self, run_dir: Path, enabled: bool = True) -> None:
        self.path = run_dir / LOG_FILE
        self.enabled = enabled

    def start(self, resume_step: int) -> None:
        """Open the log; on resume, drop lines past the checkpoint so the curve stays one."""
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step == 0:
            self.path.write_text("", encoding="utf-8")
            return
        kept = [row for row in read_log(self.path) if int(row.get("step", 0)) <= resume_step]
        self.path.write_text("".join(json.dumps(row) + "\n" for row in kept), encoding="utf-8")

    def write(self, kind: str, **fields: Any) -> None:
        """Append one record of `kind` (step, sample, checkpoint, start, end) with a timestamp."""
        if not self.enabled:
            return
        row = {"kind": kind, **fields, "time": round(time.time(), 3)}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every record of a log.jsonl; a line cut short by a crash is skipped."""
    rows: list[dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return rows
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def losses(path: Path) -> list[tuple[int, float]]:
    """(step, loss) pairs of a run's log, in order: the loss curve."""
    return [(int(r["step"]), float(r["loss"])) for r in read_log(path) if r.get("kind") == "step"]
