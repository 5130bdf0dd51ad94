"""The genai-tui application shell: options, the worker, signals, sessions, screens.

The main screen (screens/main.py) is the default screen and owns the generation view; the
training screen is installed on first use. The app opens sessions, hands the worker's events
to its screens, and makes sure nothing typed is lost however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from genai_tui.jobs.events import Event
from genai_tui.ui.graphics import TerminalFacts
from genai_tui.ui.images import image_widget_class
from genai_tui.ui.messages import WorkerEvent
from genai_tui.ui.screens.dialogs import NameDialog
from genai_tui.ui.screens.main import MainScreen
from genai_tui.ui.workspace import AppOptions, Workspace

if TYPE_CHECKING:
    from genai_tui.jobs.specs import Job

__all__ = ["AppOptions", "GenaiApp", "run_app"]

TRAINING_SCREEN = "training"
"""The name the training screen is installed under (once, so a run's curve survives)."""


class GenaiApp(App[None]):
    """Generate, watch, rank and keep images from a terminal."""

    TITLE = "genai-tui"
    CSS_PATH = "styles/app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+t", "train", "Train", id="train", tooltip="Train a LoRA on a folder of images"
        ),
        Binding("ctrl+o", "open_session", "Open", id="open_session", tooltip="Open a session"),
        Binding("ctrl+n", "new_session", "New", id="new_session", tooltip="Start a new session"),
        Binding(
            "f3",
            "queue",
            "Jobs",
            id="queue",
            tooltip="Every session's jobs: cancel, reorder, retry",
        ),
        Binding("f1", "help", "Help", id="help", tooltip="What every knob does, and the keys"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(self, options: AppOptions, terminal: TerminalFacts | None = None) -> None:
        super().__init__()
        from genai_tui.daemon.jobs import open_jobs

        self.options = options
        self.terminal = terminal or TerminalFacts()
        """What the terminal said before the app started (graphics, keys typed meanwhile)."""
        self.image_class = image_widget_class(options.images, self.terminal)
        self.jobs = open_jobs(
            options.sessions_root, self._from_worker, in_process=options.in_process
        )
        """The daemon's jobs (they outlive this app), or a worker thread here (--in-process)."""
        self.workspace = Workspace(options, self.jobs)
        self.going_on: list[str] = []
        """Jobs left running in the daemon when the app ended (said after it has)."""
        self.main_screen = MainScreen(self.workspace, self.image_class)

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def on_mount(self) -> None:
        self._install_signal_handlers()

    def on_main_screen_ready(self) -> None:
        """The first frame is up: open the session and start loading the model."""
        from genai_tui.jobs.specs import LoadModelJob
        from genai_tui.session.listing import most_recent
        from genai_tui.session.store import SessionError

        root = self.options.sessions_root
        wanted = self.options.session or most_recent(root) or "default"
        try:
            self.open_session(wanted)
        except SessionError as error:
            # The damaged session is left as it is; the most recent good one opens (a new one
            # only when there is none, so starting again does not pile up empty sessions).
            fallback = most_recent(root) or self._free_name(wanted)
            self.main_screen.log_line(str(error), "error")
            note = f"{error}\nOpened session {fallback} instead; {wanted} is left as it was."
            self.notify(note, severity="error", timeout=15)
            self.open_session(fallback)
        self._connect(LoadModelJob(self.workspace.model_ref, self.options.load))
        if self.terminal.note:
            self.main_screen.log_line(self.terminal.note, "warning")
        if self.terminal.typed:
            self.main_screen.type_ahead(self.terminal.typed)

    @work(thread=True, exit_on_error=False, group="connect")
    def _connect(self, first: Job) -> None:
        """Reach the daemon (starting it takes a moment) and queue the first job; if no daemon
        can be had, run jobs in this process and say so."""
        from genai_tui.daemon.errors import DaemonError, DaemonUnavailable

        try:
            self.jobs.start()
        except (DaemonUnavailable, DaemonError, OSError) as error:
            self.call_from_thread(self._run_here, f"{error}")
        self.jobs.submit(first)

    def _run_here(self, why: str) -> None:
        from genai_tui.daemon.local import InProcessJobs

        self.jobs = InProcessJobs(self.options.sessions_root, self._from_worker)
        self.workspace.jobs = self.jobs
        self.jobs.start()
        note = f"no genai-tui daemon ({why}): jobs run in this process and stop with it"
        self.main_screen.log_line(note, "warning")
        self.notify(note, severity="warning", timeout=10)

    # -- sessions -----------------------------------------------------------------------------

    def open_session(self, name: str) -> None:
        """Save the current session and show `name` (created when new)."""
        self.main_screen.save_now()
        self.main_screen.show_session(self.workspace.open(name))

    def _free_name(self, base: str) -> str:
        taken = {p.name for p in self.options.sessions_root.glob("*")}
        return next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)

    def action_open_session(self) -> None:
        from genai_tui.ui.screens.session_picker import SessionPicker

        def chosen(name: str | None) -> None:
            if name == "":
                self.action_new_session()
            elif name:
                self._switch(name)

        self.push_screen(SessionPicker(self.options.sessions_root, self.image_class), chosen)

    def action_new_session(self) -> None:
        from genai_tui.session.store import SessionError, validate_name

        def check(name: str) -> str | None:
            try:
                validate_name(name)
            except SessionError as error:
                return str(error)
            if (self.options.sessions_root / name).exists():
                return f"a session called {name} exists: open it with ctrl+o"
            return None

        def chosen(name: str | None) -> None:
            if name:
                self._switch(name)

        self.push_screen(NameDialog("Name of the new session", check), chosen)

    def _switch(self, name: str) -> None:
        from genai_tui.session.store import SessionError

        try:
            self.open_session(name)
        except SessionError as error:
            self.notify(str(error), severity="error")

    # -- screens ------------------------------------------------------------------------------

    def action_train(self) -> None:
        """Show the training screen (made on first use), or go back when it already shows."""
        from genai_tui.ui.screens.training import TrainingScreen

        if isinstance(self.screen, TrainingScreen):
            self.screen.action_back()
            return
        if not self.is_screen_installed(TRAINING_SCREEN):
            self.install_screen(TrainingScreen(self.workspace, self.image_class), TRAINING_SCREEN)
        self.push_screen(TRAINING_SCREEN)

    def action_queue(self) -> None:
        """The queue panel (f3 again, or escape, goes back)."""
        from genai_tui.ui.screens.queue import QueueScreen

        if isinstance(self.screen, QueueScreen):
            self.pop_screen()
        else:
            self.push_screen(QueueScreen(self.workspace))

    def action_help(self) -> None:
        # Imported on first use: the Markdown widget is not needed for the first frame.
        from genai_tui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    # -- the worker ---------------------------------------------------------------------------

    def _from_worker(self, event: Event) -> None:
        self.post_message(WorkerEvent(event))  # the only thread-safe way in

    async def on_worker_event(self, message: WorkerEvent) -> None:
        from genai_tui.jobs.events import CheckpointSaved, TrainingStarted, TrainStep
        from genai_tui.ui.screens.training import TrainingScreen

        event = message.event
        if not self._concerns_session(event):
            return  # another session's job: the queue panel shows it
        self.main_screen.show_event(event)
        training_event = isinstance(event, TrainingStarted | TrainStep | CheckpointSaved)
        if training_event and not self.is_screen_installed(TRAINING_SCREEN):
            # A training of this session runs (started before this app, by an earlier one
            # whose terminal went): show it, its curve so far replayed by the daemon.
            self.install_screen(TrainingScreen(self.workspace, self.image_class), TRAINING_SCREEN)
            await self.push_screen(TRAINING_SCREEN)
        if self.is_screen_installed(TRAINING_SCREEN):
            training = self.get_screen(TRAINING_SCREEN)
            if isinstance(training, TrainingScreen) and training.is_mounted:
                training.show_event(event)

    def _concerns_session(self, event: Event) -> bool:
        """Whether an event belongs to the open session (or to no session: loading a model)."""
        info = self.jobs.info(event.job_id)
        store = self.workspace.store
        if info is None or info.session is None or store is None:
            return True
        return info.in_session(store.path.parent, store.name)

    # -- leaving ------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        # SIGHUP arrives when the SSH link drops: save first, then leave quietly.
        loop = asyncio.get_running_loop()
        for number in (signal.SIGHUP, signal.SIGTERM):
            # Not possible off the main thread (tests) or where signals don't exist.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(number, self._on_hangup)

    def _on_hangup(self) -> None:
        self._leave()

    async def action_quit(self) -> None:
        self._leave()

    def _leave(self) -> None:
        """Save, let go of the jobs (the daemon's go on, and are named), and end."""
        self.main_screen.save_now()
        if self.jobs.leaves_jobs_running:
            self.going_on = [job.title for job in self.jobs.unfinished()]
        self.jobs.stop()
        self.exit()

    def on_unmount(self) -> None:
        # However the app ends (quit, a signal, a test), nothing typed is lost and an
        # in-process worker does not outlive it (the daemon's jobs go on: that is its point).
        self.main_screen.save_now()
        self.jobs.stop()


def run_app(options: AppOptions) -> None:
    """Run the TUI until the user quits."""
    from genai_tui.ui.graphics import ask, look

    # Only "auto" asks the terminal; a named mode asks nothing (and eats no typed keys).
    facts = ask() if options.images == "auto" else look()
    app = GenaiApp(options, facts)
    app.run()
    if app.going_on:
        jobs = "; ".join(app.going_on)
        print(f"genai-tui: still running in the daemon: {jobs} (`genai-tui jobs` lists them;"
              " `genai-tui` shows them again)", file=sys.stderr)  # fmt: skip
