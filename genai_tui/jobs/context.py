"""What every job runs with: its id, its session, the worker's models, a way to report, a cancel."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from genai_tui.jobs.events import Event
from genai_tui.jobs.models_cache import ModelCache
from genai_tui.session.store import SessionStore

Emit = Callable[[Event], None]
"""Sends one event to whoever watches the job (the UI, the CLI, later a daemon's clients)."""


@dataclass(frozen=True)
class JobContext:
    """One running job's surroundings, handed to every function that does a part of it."""

    job_id: str
    session: SessionStore | None
    """The session the job writes into (None for jobs that write none, e.g. loading a model)."""
    models: ModelCache
    emit: Emit
    cancel: threading.Event = field(default_factory=threading.Event)

    def store(self) -> SessionStore:
        """The job's session; a job that writes images always has one."""
        if self.session is None:
            raise RuntimeError(f"job {self.job_id} has no session to write into")
        return self.session
