"""What the TUI and the CLI use to run jobs, whether the daemon runs them or this process does.

Both `DaemonClient` (the default: jobs outlive the terminal) and `InProcessJobs` (`--in-process`:
a worker thread in this process, as for debugging) have this shape, so no screen and no command
branches on the mode. Events reach `listener` on a background thread, as the worker sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from genai_tui.jobs.events import Event
    from genai_tui.jobs.specs import Job

Listener = Callable[["Event"], None]


@dataclass(frozen=True)
class JobInfo:
    """A job as the queue lists it: what it is, whose session, where it stands."""

    id: str
    kind: str
    title: str
    state: str
    """queued, running, done, failed, cancelled or interrupted."""
    session_root: str = ""
    session: str | None = None
    device: str | None = None
    submitted: float = 0.0
    started: float | None = None
    finished: float | None = None
    error: str = ""
    progress: str = ""
    """Where a running job is ("step 12/25", "training 300/600"); "" otherwise."""
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ended(self) -> bool:
        """Whether the job will not run (again): done, failed, cancelled or interrupted."""
        return self.state not in {"queued", "running"}

    def in_session(self, root: Path, name: str) -> bool:
        """Whether the job works in session `name` under `root`."""
        return self.session == name and Path(self.session_root) == Path(root)


class JobsClient(Protocol):
    """Submit, watch and steer jobs."""

    def start(self) -> None:
        """Connect (starting the daemon if needed) and begin sending events to the listener."""

    def submit(self, job: Job) -> str:
        """Queue a job; returns its id."""

    def cancel(self, job_id: str | None = None) -> bool:
        """Cancel a job (None: this client's newest job that has not ended)."""

    @property
    def busy(self) -> bool:
        """Whether a job this client submitted is queued or running."""

    def info(self, job_id: str) -> JobInfo | None:
        """What is known of a job whose events arrive here."""

    def unfinished(self) -> list[JobInfo]:
        """The jobs submitted here that have not ended."""

    def list_jobs(self, limit: int = 200) -> list[JobInfo]:
        """Running, queued and recent jobs (every session's)."""

    def move(self, job_id: str, delta: int) -> bool:
        """Move a queued job up (-1) or down (+1)."""

    def retry(self, job_id: str) -> str | None:
        """Queue a failed, cancelled or interrupted job again (a training one from its last
        checkpoint); the new job's id, or None when it cannot be."""

    def stop(self, timeout: float = 2.0) -> None:
        """Let go: in-process jobs stop (waiting up to `timeout`); the daemon's go on."""

    @property
    def leaves_jobs_running(self) -> bool:
        """Whether jobs go on after `stop` (the daemon's do)."""
