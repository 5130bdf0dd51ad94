"""What each running job is doing now, from its events: a line of progress, and what a client
that connects in the middle needs to see it as if it had watched from the start."""

from __future__ import annotations

from dataclasses import dataclass, field

from genai_tui.jobs.events import Event, LossCurve, ModelLoading, Progress, TrainStep

MAX_STEPS = 20_000
"""Loss points kept for a reattaching client; past this, every other one is dropped."""


@dataclass
class _Live:
    events: list[Event] = field(default_factory=list)
    steps: list[TrainStep] = field(default_factory=list)
    progress: Progress | None = None
    preview: Progress | None = None
    loading: ModelLoading | None = None
    line: str = ""


class LiveJobs:
    """The replay and progress of the jobs running now; a job is forgotten when it ends."""

    def __init__(self) -> None:
        self._jobs: dict[str, _Live] = {}

    def record(self, event: Event) -> None:
        """Take in one event of a running job."""
        live = self._jobs.setdefault(event.job_id, _Live())
        if isinstance(event, TrainStep):
            live.steps.append(event)
            if len(live.steps) > MAX_STEPS:
                live.steps = live.steps[::2]
            live.line = f"training {event.step}/{event.total}"
        elif isinstance(event, Progress):
            live.progress = event
            if event.previews:
                live.preview = event
            live.line = f"step {event.step}/{event.total}"
        elif isinstance(event, ModelLoading):
            live.loading = event
            live.line = event.sentence()
        else:
            live.events.append(event)

    def progress(self, job_id: str) -> str:
        """One line: where the job is ("" when it has said nothing yet)."""
        live = self._jobs.get(job_id)
        return live.line if live else ""

    def replay(self, job_id: str) -> list[Event]:
        """The job's events so far, in an order a screen can show them in: what happened, the
        loss curve, then the latest progress (its last preview first)."""
        live = self._jobs.get(job_id)
        if live is None:
            return []
        last: list[Event] = [e for e in (live.loading, live.preview) if e is not None]
        if live.progress is not None and live.progress is not live.preview:
            last.append(live.progress)
        curve: list[Event] = []
        if live.steps:
            # The curve so far as one event; the last step too, for the progress line.
            first = live.steps[-1]
            steps = tuple(step.step for step in live.steps)
            losses = tuple(step.loss for step in live.steps)
            curve = [LossCurve(job_id, first.run, steps, losses, first.total), first]
        return [*live.events, *curve, *last]

    def forget(self, job_id: str) -> None:
        """The job ended: nothing of it needs replaying."""
        self._jobs.pop(job_id, None)

    def running(self) -> list[str]:
        """Ids of the jobs with something recorded."""
        return list(self._jobs)
