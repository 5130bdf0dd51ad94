"""What every screen works on: the app's options, the jobs, the open session and the model.

The app makes one Workspace and hands it to its screens (the typed context the training
screen used to get as six callables). Only the app opens sessions; only the main screen, on a
loaded model, changes the model reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from genai_tui.engine.params import LoadOptions
from genai_tui.engine.preview_modes import PreviewMode
from genai_tui.ui.pacing import ProgressPace

if TYPE_CHECKING:
    from genai_tui.daemon.api import JobsClient
    from genai_tui.session.store import SessionStore


@dataclass(frozen=True)
class AppOptions:
    """What the command line asked for."""

    sessions_root: Path
    session: str | None = None
    model: str | None = None
    images: str = "auto"
    preview: PreviewMode = "auto"
    """How generations make their preview frames (f2 cycles it while the app runs)."""
    clip: str | None = None
    """CLIP for scoring; None: engine.clip_refs.DEFAULT_CLIP_RULE."""
    load: LoadOptions = field(default_factory=LoadOptions)
    in_process: bool = False
    """Run jobs in this process (they stop with it) instead of the genai-tui daemon."""


class Workspace:
    """The open session and model, the options and the jobs, shared by the app's screens."""

    def __init__(self, options: AppOptions, jobs: JobsClient) -> None:
        self.options = options
        self.jobs = jobs
        self.store: SessionStore | None = None
        self.model_ref: str | None = options.model
        """The model generations use: the one asked for, else the session's, else the loaded."""
        self.pace = ProgressPace()
        """When a job's progress is drawn: the app tells it of every key."""

    def open(self, name: str) -> SessionStore:
        """Open (or create) session `name` and make it the one every screen works on."""
        from genai_tui.session.store import SessionStore

        store = SessionStore.open(self.options.sessions_root, name)
        session_model = store.session.model
        if self.options.model is None and session_model and self.model_ref is None:
            self.model_ref = session_model
        self.store = store
        return store

    def model_loaded(self, ref: str) -> None:
        """A model finished loading: the next jobs use it."""
        self.model_ref = ref
