"""Run one job on a worker from the command line: its events as lines on stderr, Ctrl-C cancels.

Every line is the event's own sentence, so a script's log reads as the TUI's log panel does.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from genai_tui.jobs.events import (
    Event,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    ModelLoading,
    Progress,
    TrainStep,
)
from genai_tui.jobs.hints import USER_FIXABLE
from genai_tui.jobs.specs import Job

if TYPE_CHECKING:
    from genai_tui.cli.progress import ProgressView

End = JobFinished | JobFailed | JobCancelled

STEP_LINE_SECONDS = 1.0
"""At most one line a second of training steps (the last step always prints)."""

# Shown by the outcome line the command prints itself, not as a line of the log.
_NOT_LOGGED = (JobFinished, JobFailed, JobCancelled)


def event_line(event: Event) -> str:
    """An event as a line of the command's log ("" when it has none)."""
    text = event.sentence()
    if text and event.level in {"warning", "error"}:
        return f"{event.level}: {text}"
    return text


def say(text: str) -> None:
    """One line of the command's own on stderr, prefixed so logs show who said it."""
    print(f"genai-tui: {text}", file=sys.stderr, flush=True)


def follow(
    job: Job,
    root: Path,
    *,
    in_process: bool,
    view: ProgressView | None = None,
) -> tuple[End | None, list[Event]]:
    """Run `job` (on the daemon, or a worker thread here) to its end; return the end event and
    every event seen.

    With a `view`, steps move its bar and lines print above it; without, lines go to stderr.
    Ctrl-C cancels the job (what was saved stays saved) and waits for it to stop.
    """
    from genai_tui.daemon.jobs import open_jobs

    done = threading.Event()
    seen: list[Event] = []
    shown: set[str] = set()
    log: Callable[[str], None] = view.log if view is not None else say

    last_step = [0.0]

    def listen(event: Event) -> None:
        if event.job_id != job.id:
            return
        seen.append(event)
        if isinstance(event, TrainStep) and event.step < event.total:
            if time.monotonic() - last_step[0] < STEP_LINE_SECONDS:
                return  # a line a second reads well in a log; the last step always prints
            last_step[0] = time.monotonic()
        if isinstance(event, Progress):
            if view is not None:
                view.step(event.step, event.total)
        elif isinstance(event, ModelLoading):
            if view is not None:
                view.status(event.sentence())
            elif event.what not in shown:  # download progress repeats the same line many times
                shown.add(event.what)
                log(event.sentence())
        elif isinstance(event, _NOT_LOGGED):
            done.set()
        elif isinstance(event, JobStarted):
            pass  # the command says what it does itself
        elif line := event_line(event):
            log(line)

    jobs = open_jobs(root, listen, in_process=in_process, watch_all=False)
    try:
        jobs.start()
        jobs.submit(job)
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        jobs.cancel(job.id)
        done.wait(30)
    finally:
        jobs.stop()
    end = next((e for e in reversed(seen) if isinstance(e, _NOT_LOGGED)), None)
    return end, seen


def detached(job: Job, root: Path, args: argparse.Namespace) -> bool:
    """With --detach: queue `job` with the daemon, print its id and return True (it runs on)."""
    if not getattr(args, "detach", False):
        return False
    from genai_tui.cli.options import fail, in_process
    from genai_tui.daemon.client import DaemonClient

    if in_process(args):
        fail("--detach needs the daemon", hint="leave out --in-process")
    client = DaemonClient(root, watch_all=False, client="genai-tui --detach")
    try:
        client.start()
        job_id = client.submit(job)
    finally:
        client.stop()
    print(job_id)
    say(f"queued job {job_id}: `genai-tui jobs follow {job_id}` shows it, `jobs` lists them")
    return True


def failure_code(event: JobFailed) -> int:
    """Print a failed job's one line; its exit code (2 when the input was at fault, else 1)."""
    from genai_tui.cli.options import ExitCode

    hint = f" ({event.hint})" if event.hint else ""
    print(f"genai-tui: error: {event.error}{hint}", file=sys.stderr)
    return ExitCode.BAD_INPUT if event.kind in USER_FIXABLE else ExitCode.FAILED
