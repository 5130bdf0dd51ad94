"""Run one job on a worker from the command line: its events as lines on stderr, Ctrl-C cancels.

Every line is the event's own sentence, so a script's log reads as the TUI's log panel does.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from genai_tui.cli.progress import ProgressView
from genai_tui.jobs.events import (
    Event,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    ModelLoading,
    Progress,
)
from genai_tui.jobs.hints import USER_FIXABLE
from genai_tui.jobs.specs import Job

End = JobFinished | JobFailed | JobCancelled

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


def follow(job: Job, view: ProgressView | None = None) -> tuple[End | None, list[Event]]:
    """Run `job` on a worker thread to its end; return the end event and every event seen.

    With a `view`, steps move its bar and lines print above it; without, lines go to stderr.
    Ctrl-C cancels the job (what was saved stays saved) and waits for it to stop.
    """
    from genai_tui.jobs.worker import Worker

    done = threading.Event()
    seen: list[Event] = []
    shown: set[str] = set()
    log: Callable[[str], None] = view.log if view is not None else say

    def listen(event: Event) -> None:
        seen.append(event)
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

    worker = Worker(listen).start()
    worker.submit(job)
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        worker.cancel(job.id)
        done.wait(30)
    finally:
        worker.stop()
    end = next((e for e in reversed(seen) if isinstance(e, _NOT_LOGGED)), None)
    return end, seen


def failure_code(event: JobFailed) -> int:
    """Print a failed job's one line; its exit code (2 when the input was at fault, else 1)."""
    from genai_tui.cli.options import ExitCode

    hint = f" ({event.hint})" if event.hint else ""
    print(f"genai-tui: error: {event.error}{hint}", file=sys.stderr)
    return ExitCode.BAD_INPUT if event.kind in USER_FIXABLE else ExitCode.FAILED
