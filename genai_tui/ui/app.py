"""The genai-tui application shell: options, the worker, signals, sessions, screens.

The main screen (screens/main.py) is the default screen and owns the generation view; the
training screen is installed on first use. The app opens sessions, hands the worker's events
to its screens, and makes sure nothing typed is lost however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
import time
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen

from genai_tui.ui.collector import CHECK_SECONDS as COLLECT_CHECK_SECONDS
from genai_tui.ui.collector import Collector
from genai_tui.ui.frame_timer import tick_on_time
from genai_tui.ui.graphics import TerminalFacts
from genai_tui.ui.images import ImageDrawing
from genai_tui.ui.leaving import (
    QUIT,
    WORKER_GRACE,
    ExitWatchdog,
    end_process,
    install_exit_signals,
)
from genai_tui.ui.messages import WorkerEvent
from genai_tui.ui.screens.dialogs import NameDialog
from genai_tui.ui.screens.main import MainScreen
from genai_tui.ui.terminal import TerminalDriver
from genai_tui.ui.workspace import AppOptions, Workspace

if TYPE_CHECKING:
    from genai_tui.jobs.events import Event
    from genai_tui.jobs.specs import Job

__all__ = ["AppOptions", "GenaiApp", "run_app"]

TRAINING_SCREEN = "training"
"""The name the training screen is installed under (once, so a run's curve survives)."""

TERMINAL_CHECK_SECONDS = 0.5
"""How often the app looks whether its terminal hung up (when no SIGHUP came and nothing was
written to find out)."""


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

    def __init__(
        self,
        options: AppOptions,
        terminal: TerminalFacts | None = None,
        watchdog: ExitWatchdog | None = None,
    ) -> None:
        """`watchdog`: the real process passes one, armed at every way out (tests run without)."""
        super().__init__(driver_class=TerminalDriver)
        from genai_tui.daemon.jobs import open_jobs

        tick_on_time()  # before any screen's timer runs: a key's echo waits one frame at most

        self.options = options
        self._watchdog = watchdog
        self._exit_code = QUIT
        self._exit_requested: float | None = None
        self._left = False
        self._typed = False
        """Whether the user has pressed a key in this app."""
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._leaving_context: contextvars.Context | None = None
        self.terminal = terminal or TerminalFacts()
        """What the terminal said before the app started (graphics, keys typed meanwhile)."""
        self.drawing = ImageDrawing(options.images, self.terminal)
        """How images are drawn: textual-image is loaded after the first frame."""
        self.jobs = open_jobs(
            options.sessions_root, self._from_worker, in_process=options.in_process
        )
        """The daemon's jobs (they outlive this app), or a worker thread here (--in-process)."""
        self.workspace = Workspace(options, self.jobs)
        self.going_on: list[str] = []
        """Jobs left running in the daemon when the app ended (said after it has)."""
        self.main_screen = MainScreen(self.workspace, self.drawing)
        self.collector = Collector(lambda: self.workspace.pace.typing)

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def on_mount(self) -> None:
        # What a signal handler schedules the way out on, in the app's own context.
        self._leaving_context = contextvars.copy_context()
        self._event_loop = asyncio.get_running_loop()
        if self._exit_requested is not None:  # a signal came before the loop ran
            self._schedule_leave()
        self.set_interval(TERMINAL_CHECK_SECONDS, self._check_terminal)
        self.collector.start()
        self.set_interval(COLLECT_CHECK_SECONDS, self.collector.tick)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.workspace.pace.key_pressed()  # a typist comes before a job's progress
            self._typed = True
        await super().on_event(event)
        if isinstance(event, events.Key):
            for draw in self.workspace.pace.key_handled():  # after the key's echo, not before
                self.call_after_refresh(draw)

    def on_main_screen_ready(self) -> None:
        """The main screen is mounted: draw it first, then open the session (the session
        models, pydantic, cost more than the rest of the first frame) and load the model."""
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        from genai_tui.jobs.specs import LoadModelJob
        from genai_tui.session.listing import most_recent
        from genai_tui.session.store import SessionError

        if self.terminal.typed:  # typed before the app started, so before any key since
            self.main_screen.type_ahead(self.terminal.typed, first=True)
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
        self._load_drawing()
        if self.terminal.note:  # the log can be hidden in a small terminal: a toast too
            self.main_screen.log_line(self.terminal.note, "warning")
            self.notify(self.terminal.note, severity="warning", timeout=8)

    @work(thread=True, exit_on_error=False, group="drawing")
    def _load_drawing(self) -> None:
        """textual-image (and numpy, for Sixel) after the first frame; then every picture draws."""
        self.drawing.load()
        self.call_from_thread(self._drawing_loaded)

    def _drawing_loaded(self) -> None:
        from genai_tui.ui.widgets.picture import Picture

        screens: list[Screen[Any]] = list(self.screen_stack)
        if self.is_screen_installed(TRAINING_SCREEN):  # drawn once, kept while not shown
            screens.append(self.get_screen(TRAINING_SCREEN))
        for screen in screens:
            for picture in screen.query(Picture):
                picture.drawing_loaded()
        if self.jobs.leaves_jobs_running:  # the modules, screens and session: ui/collector
            self.collector.freeze_what_lives()

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

        self.push_screen(SessionPicker(self.options.sessions_root, self.drawing), chosen)

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
            self.install_screen(TrainingScreen(self.workspace, self.drawing), TRAINING_SCREEN)
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

    def on_worker_event(self, message: WorkerEvent) -> None:
        from genai_tui.jobs.events import CheckpointSaved, LossCurve, TrainingStarted, TrainStep
        from genai_tui.ui.screens.training import TrainingScreen

        event = message.event
        if not self._concerns_session(event) or self._left:
            return  # another session's job (the queue panel shows it), or the app is leaving
        try:
            self.main_screen.show_event(event)
        except NoMatches:
            return  # the screens are being torn down: the daemon keeps what the job makes
        training_event = isinstance(
            event, TrainingStarted | TrainStep | LossCurve | CheckpointSaved
        )
        if training_event and not self.is_screen_installed(TRAINING_SCREEN):
            # A training of this session runs, started elsewhere: by an earlier genai-tui whose
            # terminal went (its curve so far replayed by the daemon), or by `genai-tui train`.
            self.install_screen(TrainingScreen(self.workspace, self.drawing), TRAINING_SCREEN)
            if self._typed:  # the user is at work here: their next keys must not go to its form
                self.notify("a training of this session runs: ctrl+t shows it", timeout=8)
            else:
                self.push_screen(TRAINING_SCREEN)
        if self.is_screen_installed(TRAINING_SCREEN):
            training = self.get_screen(TRAINING_SCREEN)
            if isinstance(training, TrainingScreen):
                training.show_event(event)  # kept until the screen is drawn, if it is not yet

    def _concerns_session(self, event: Event) -> bool:
        """Whether an event belongs to the open session (or to no session: loading a model)."""
        info = self.jobs.info(event.job_id)
        store = self.workspace.store
        if info is None or info.session is None or store is None:
            return True
        return info.in_session(store.path.parent, store.name)

    # -- leaving ------------------------------------------------------------------------------

    def request_exit(self, code: int) -> None:
        """Leave with `code`: save, let go of the jobs, end within leaving.EXIT_SECONDS.

        Safe from a signal handler and from any thread: it sets attributes, writes to the
        watchdog's pipe and schedules the rest on the event loop.
        """
        if self._exit_requested is not None:
            return
        self._exit_requested = time.monotonic()
        self._exit_code = code
        if self._watchdog is not None:
            self._watchdog.arm(code)
        driver = self._driver
        if isinstance(driver, TerminalDriver):
            driver.leaving()  # a stalled terminal must not hold the loop up in a write
        self._schedule_leave()

    def _schedule_leave(self) -> None:
        loop = self._event_loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the app is gone
                loop.call_soon_threadsafe(self._leave, context=self._leaving_context)

    def _leave(self) -> None:
        if self._left:
            return
        self._left = True
        try:
            self.main_screen.save_now()
            if self.jobs.leaves_jobs_running:
                self.going_on = [job.title for job in self.jobs.unfinished()]
            self.jobs.stop(timeout=0)  # told now; on_unmount gives it the rest of its grace
        finally:
            self.exit(return_code=self._exit_code)

    def _check_terminal(self) -> None:
        driver = self._driver
        if isinstance(driver, TerminalDriver):
            driver.output.probe()  # a hung-up terminal raises SIGHUP here

    async def action_quit(self) -> None:
        self.request_exit(QUIT)

    def on_unmount(self) -> None:
        # However the app ends (quit, a signal, a test), nothing typed is lost and an
        # in-process worker does not outlive it (the daemon's jobs go on: that is its point).
        self.main_screen.save_now()
        if self._watchdog is not None:  # a way out that did not ask (a crash) is bounded too
            self._watchdog.arm(self.return_code or 0)
        self.jobs.stop(timeout=self._worker_grace_left())
        self.collector.stop()

    def _worker_grace_left(self) -> float:
        if self._exit_requested is None:
            return WORKER_GRACE
        return max(0.0, WORKER_GRACE - (time.monotonic() - self._exit_requested))


def run_app(options: AppOptions) -> NoReturn:
    """Run the TUI until the user quits, a signal comes or the terminal goes, then end the
    process with the app's exit code (0, or 128 + the signal)."""
    from genai_tui.ui.graphics import ask, look

    # Only "auto" asks the terminal; a named mode asks nothing (and eats no typed keys).
    facts = ask() if options.images == "auto" else look()
    app = GenaiApp(options, facts, ExitWatchdog().start())
    restore_signals = install_exit_signals(app.request_exit)
    try:
        app.run()
    finally:
        restore_signals()
    if app.going_on:
        jobs = "; ".join(app.going_on)
        print(f"genai-tui: still running in the daemon: {jobs} (`genai-tui jobs` lists them;"
              " `genai-tui` shows them again)", file=sys.stderr, flush=True)  # fmt: skip
    # Not through the interpreter's finalisation: with torch loaded it took 2.5 s once here,
    # and a worker still inside a step could hold it longer. Everything the user made is on
    # disk already (see leaving.py).
    end_process(app.return_code or 0)
