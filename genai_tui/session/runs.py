"""Training runs whose process is gone: a `train` killed with kill -9 (or a crashed machine) never
wrote its outcome, so its run would say "running" forever.

A running run records the process training it (pid, host, and the process's start time, which
tells a reused pid apart). When the session opens, a run whose process is gone on this host is
marked "interrupted", with the checkpoint to resume from.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from genai_tui.session.models import TrainRun

RUNNING = "running"
INTERRUPTED = "interrupted"

UNOWNED_STALE_AFTER = 15 * 60.0
"""Seconds since its last save after which a running run that names no process (written before
runs recorded one) counts as interrupted. A live trainer saves at each checkpoint and sample; if
one is wrongly marked, its next save puts "running" back."""

_CHECKPOINT = re.compile(r"checkpoint-(\d+)$")
"""A checkpoint folder's name, as the trainer makes it (engine/lora/checkpoint.py)."""


@dataclass(frozen=True)
class ResumeOffer:
    """An interrupted run that can go on from a checkpoint."""

    run: str
    checkpoint: Path
    """The checkpoint folder (absolute): what `genai-tui train --resume` takes."""
    step: int

    @property
    def text(self) -> str:
        """One sentence for the user."""
        return f'training run "{self.run}" was interrupted: resume from checkpoint {self.step}'


def this_process() -> dict[str, int | str | None]:
    """The TrainRun fields naming the current process as a run's owner."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "pid_started": _started(pid)}


def _proc_stat(pid: int) -> list[str] | None:
    # Linux: the fields after the command name (which may hold spaces and parentheses).
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _started(pid: int) -> int | None:
    """When process `pid` started, in clock ticks after boot (Linux); None where unknown."""
    fields = _proc_stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 and fields[19].isdigit() else None


def process_gone(pid: int, started: int | None) -> bool:
    """Whether process `pid` of this host has ended (a zombie has; so has a new process that
    took the pid since, when `started` tells them apart)."""
    if pid <= 0:
        return True  # no process of its own (0 and -1 would name groups to os.kill)
    if os.name != "posix":
        return False  # os.kill would end the process on Windows: cannot tell, assume alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # someone else's process: it exists
    fields = _proc_stat(pid)
    if fields is None:  # on Linux it ended just now; without /proc, kill's word stands
        return Path("/proc/self/stat").exists()
    if fields[0] == "Z":
        return True
    now = _started(pid)
    return started is not None and now is not None and now != started


def _age(iso: str) -> float:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return float("inf")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (datetime.now(UTC) - moment).total_seconds()


def why_dead(run: TrainRun) -> str | None:
    """Why a "running" run is no longer running, or None when it may still be."""
    if run.status != RUNNING:
        return None
    if run.pid is None:
        if _age(run.updated) <= UNOWNED_STALE_AFTER:
            return None
        return "training stopped without finishing (no save for a long while)"
    if run.host != socket.gethostname():
        return None  # another machine's process: only that machine can tell
    if not process_gone(run.pid, run.pid_started):
        return None
    return f"training stopped without finishing (its process {run.pid} is gone)"


def mark_interrupted(run: TrainRun, reason: str, session_folder: Path) -> TrainRun:
    """`run` as interrupted, its error saying why and from where it can go on."""
    offer = resume_offer(run, session_folder)
    where = f"resume from checkpoint {offer.step}" if offer else "no checkpoint was saved"
    return run.model_copy(
        update={"status": INTERRUPTED, "error": f"{reason} at step {run.step}; {where}"}
    )


def resume_offer(run: TrainRun, session_folder: Path) -> ResumeOffer | None:
    """The latest checkpoint of `run` still on disk, for "resume from checkpoint N"."""
    found: list[tuple[int, Path]] = []
    for relative in run.checkpoints:
        match = _CHECKPOINT.search(relative)
        folder = session_folder / relative
        # A checkpoint folder is renamed into place whole: one that exists is complete.
        if match and folder.is_dir():
            found.append((int(match.group(1)), folder))
    if not found:
        return None
    step, folder = max(found)
    return ResumeOffer(run.name, folder, step)
