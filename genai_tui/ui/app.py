"""The genai-tui application: prompt editor, parameters, live preview, gallery, log.

The app never touches a model. It builds job specs, hands them to the one worker thread and
reacts to the events that thread posts back; everything the user makes is saved as it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label

from genai_tui.engine.errors import BadInput
from genai_tui.engine.params import GenerateParams, LoadOptions
from genai_tui.jobs.loras import session_loras
from genai_tui.jobs.specs import GenerateJob, LoadModelJob, ScoreJob
from genai_tui.jobs.worker import Worker
from genai_tui.session.listing import most_recent
from genai_tui.session.models import EditorState
from genai_tui.session.store import SessionError, SessionStore, validate_name
from genai_tui.ui.commands import palette_commands, reuse_parameters
from genai_tui.ui.events_view import EventsView
from genai_tui.ui.images import image_widget_class
from genai_tui.ui.messages import WorkerEvent
from genai_tui.ui.paths import shown_path
from genai_tui.ui.screens.dialogs import NameDialog
from genai_tui.ui.screens.session_picker import SessionPicker
from genai_tui.ui.screens.viewer import ViewerChoice, ViewerScreen
from genai_tui.ui.session_watch import WATCH_SECONDS, SessionWatch
from genai_tui.ui.training_link import blocked_on_training, open_training
from genai_tui.ui.widgets.gallery import Gallery
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.lora_panel import lora_weights
from genai_tui.ui.widgets.param_panel import ParamPanel
from genai_tui.ui.widgets.preview import PreviewPane
from genai_tui.ui.widgets.prompt_editor import PromptEditor
from genai_tui.ui.widgets.status_header import StatusHeader

SAVE_DELAY = 0.5
"""Seconds of quiet after an edit before the editor state is written to session.json."""


@dataclass(frozen=True)
class AppOptions:
    """What the command line asked for."""

    sessions_root: Path
    session: str | None = None
    model: str | None = None
    images: str = "auto"
    clip: str | None = None
    """CLIP for scoring; None: engine.clip_refs.DEFAULT_CLIP_RULE."""
    load: LoadOptions = field(default_factory=LoadOptions)


class GenaiApp(App[None]):
    """Generate, watch, rank and keep images from a terminal."""

    TITLE = "genai-tui"
    CSS_PATH = "styles/app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+g,f5",
            "generate",
            "Generate",
            id="generate",
            priority=True,
            tooltip="Generate images from the prompt",
        ),
        Binding("escape", "cancel", "Cancel", id="cancel", tooltip="Cancel the running job"),
        Binding(
            "ctrl+r",
            "reuse_seed",
            "Reuse seed",
            id="reuse_seed",
            tooltip="Use the seed of the selected image",
        ),
        Binding(
            "ctrl+f",
            "rank_by_text",
            "Rank by text",
            id="rank_by_text",
            tooltip="Rank the gallery by how well each image matches a text (CLIP)",
        ),
        Binding(
            "ctrl+t", "train", "Train", id="train", tooltip="Train a LoRA on a folder of images"
        ),
        Binding("ctrl+o", "open_session", "Open", id="open_session", tooltip="Open a session"),
        Binding("ctrl+n", "new_session", "New", id="new_session", tooltip="Start a new session"),
        Binding("ctrl+l", "toggle_log", "Log", id="toggle_log", tooltip="Show or hide the log"),
        Binding("f1", "help", "Help", id="help", tooltip="What every knob does, and the keys"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(self, options: AppOptions) -> None:
        super().__init__()
        self.options = options
        self.image_class = image_widget_class(options.images)
        self.store: SessionStore | None = None
        self.worker = Worker(self._from_worker)
        self.model_ref = options.model
        self.events = EventsView(self)
        self._save_timer: Timer | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with Horizontal(id="main"):
            with Vertical(id="editor-column") as column:
                column.border_title = "Prompt"
                yield PromptEditor(id="prompt", placeholder="Describe the image…")
                yield Label("Negative prompt", classes="field-label")
                yield PromptEditor(id="negative", placeholder="What to avoid…")
                yield ParamPanel(id="params")
            yield PreviewPane(self.image_class, id="preview")
            yield Gallery(self.image_class, id="gallery")
        yield LogPanel(id="log")
        yield Footer()

    def on_mount(self) -> None:
        self._install_signal_handlers()
        self.worker.start()
        try:
            self.open_session(
                self.options.session or most_recent(self.options.sessions_root) or "default"
            )
        except SessionError as error:
            self.log_line(str(error), "error")
            self.notify(f"{error}\nOpened a new session instead.", severity="error", timeout=10)
            self.open_session(self._free_name("default"))
        self.worker.submit(LoadModelJob(self.model_ref, self.options.load))
        self.query_one("#prompt", PromptEditor).focus()
        self.set_interval(WATCH_SECONDS, SessionWatch(self).check)

    # -- sessions -----------------------------------------------------------------------------

    def open_session(self, name: str) -> None:
        """Save the current session and show `name` (created when new)."""
        self.save_now()
        store = SessionStore.open(self.options.sessions_root, name)
        self.store = store
        session = store.session
        if self.options.model is None and session.model:
            self.model_ref = self.model_ref or session.model
        self.query_one(StatusHeader).session = store.name
        editor = session.editor
        prompt = self.query_one("#prompt", PromptEditor)
        prompt.load_text(editor.prompt)
        prompt.set_history(session.prompt_history)
        self.query_one("#negative", PromptEditor).load_text(editor.negative_prompt)
        self.query_one(ParamPanel).load(editor, session_loras(store))
        self.query_one(Gallery).set_records(session.images, store.path)
        self.log_line(
            f"session {store.name}: {len(session.images)} images ({shown_path(store.path)})"
        )

    def editor_state(self) -> EditorState:
        """The editor's values now."""
        prompt = self.query_one("#prompt", PromptEditor).text
        negative = self.query_one("#negative", PromptEditor).text
        return self.query_one(ParamPanel).read(prompt, negative)

    def save_now(self) -> None:
        """Write the editor state to the session (on quit, on signals, before switching)."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if self.store is None:
            return
        try:
            self.store.set_editor(self.editor_state())
            self.store.save()
        except NoMatches:
            pass  # the screen is being torn down: the last saved state stands
        except (SessionError, OSError) as error:
            self.log_line(f"could not save the session: {error}", "error")

    def _schedule_save(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self.save_now)

    def on_text_area_changed(self) -> None:
        self._schedule_save()

    def on_param_panel_changed(self) -> None:
        self._schedule_save()

    def _free_name(self, base: str) -> str:
        taken = {p.name for p in self.options.sessions_root.glob("*")}
        return next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)

    def _install_signal_handlers(self) -> None:
        # SIGHUP arrives when the SSH link drops: save first, then leave quietly.
        loop = asyncio.get_running_loop()
        for number in (signal.SIGHUP, signal.SIGTERM):
            # Not possible off the main thread (tests) or where signals don't exist.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(number, self._on_hangup)

    def _on_hangup(self) -> None:
        self.save_now()
        self.worker.stop(timeout=2)
        self.exit()

    # -- worker -------------------------------------------------------------------------------

    def _from_worker(self, event: Any) -> None:
        self.post_message(WorkerEvent(event))  # the only thread-safe way in

    def on_worker_event(self, message: WorkerEvent) -> None:
        self.events.handle(message.event)

    def log_line(self, text: str, level: str = "info") -> None:
        """Write to the log panel."""
        self.query_one(LogPanel).add(text, level)

    # -- actions ------------------------------------------------------------------------------

    def action_generate(self) -> None:
        if self.store is None:
            return
        state = self.editor_state()
        if not state.prompt.strip():
            self.notify("Write a prompt first.", severity="warning")
            return
        try:
            params = (
                GenerateParams(
                    prompt=state.prompt,
                    negative_prompt=state.negative_prompt,
                    steps=state.steps,
                    cfg_scale=state.cfg_scale,
                    seed=state.seed if state.seed >= 0 else None,
                    width=state.width,
                    height=state.height,
                    batch_size=state.batch_size,
                    scheduler=state.scheduler,
                    clip_skip=state.clip_skip,
                    loras=lora_weights(state),
                )
                .validate()
                .with_seed()
            )
        except BadInput as error:
            self.notify(f"{error}. {error.hint}".strip(" ."), severity="error")
            return
        self.query_one("#prompt", PromptEditor).remember(state.prompt)
        job = GenerateJob(
            params,
            self.model_ref,
            self.store,
            self.options.load,
            score=state.score_images,
            clip=self.options.clip,
            best_of=state.best_of if state.best_of > 1 else None,
            keep=min(state.keep, state.best_of) if state.best_of > 1 else 1,
        )
        self.worker.submit(job)
        self.log_line(f"queued {job.title} (seed {params.seed})")
        self.save_now()

    def action_cancel(self) -> None:
        if self.worker.cancel():
            self.query_one(StatusHeader).state = "cancelling"
            self.log_line("cancelling…", "warning")

    def action_reuse_seed(self) -> None:
        record = self.query_one(Gallery).selected
        if record is None:
            self.notify("No image selected.", severity="warning")
            return
        self.query_one(ParamPanel).use_seed(record.seed)
        self.notify(f"seed {record.seed} locked for the next run")

    def action_rank_by_text(self) -> None:
        def chosen(text: str | None) -> None:
            if text is None or self.store is None:
                return
            if not text:
                self.query_one(Gallery).rank_by_text(None, {})
                self.notify("ranked by each image's own prompt again")
                return
            job = ScoreJob(self.store, text=text, clip=self.options.clip)
            self.worker.submit(job)
            self.log_line(f"queued {job.title}")

        gallery = self.query_one(Gallery)
        self.push_screen(
            NameDialog(
                "Rank the images by how well they match (empty: their own prompts again):",
                value=gallery.order.text or "",
            ),
            chosen,
        )

    def action_rescore(self) -> None:
        """Score every image of the session against its own prompt again."""
        if self.store is not None:
            self.worker.submit(ScoreJob(self.store, clip=self.options.clip))

    def action_train(self) -> None:
        open_training(self)  # the training screen, installed once and reused

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # ctrl+g is a priority binding; on the training screen it must start training instead.
        return not blocked_on_training(self, action)

    def action_toggle_log(self) -> None:
        self.query_one(LogPanel).toggle_class("hidden")

    def action_help(self) -> None:
        # Imported on first use: the Markdown widget is not needed for the first frame.
        from genai_tui.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_open_session(self) -> None:
        def chosen(name: str | None) -> None:
            if name == "":
                self.action_new_session()
            elif name:
                self._switch(name)

        self.push_screen(SessionPicker(self.options.sessions_root, self.image_class), chosen)

    def action_new_session(self) -> None:
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
        try:
            self.open_session(name)
        except SessionError as error:
            self.notify(str(error), severity="error")

    def on_gallery_opened(self, message: Gallery.Opened) -> None:
        if self.store is None:
            return
        records = self.query_one(Gallery).records
        index = next(i for i, r in enumerate(records) if r.file == message.record.file)
        screen = ViewerScreen(records, index, self.store.path, self.image_class)
        self.push_screen(screen, self._viewer_done)

    def _viewer_done(self, choice: ViewerChoice | None) -> None:
        if choice is None or self.store is None:
            return
        record = choice.record
        if choice.action == "seed":
            self.query_one(ParamPanel).use_seed(record.seed)
            self.notify(f"seed {record.seed} locked for the next run")
        elif choice.action == "params":
            state = reuse_parameters(record, self.editor_state())
            self.query_one("#prompt", PromptEditor).load_text(state.prompt)
            self.query_one("#negative", PromptEditor).load_text(state.negative_prompt)
            self.query_one(ParamPanel).load(state)
            self.notify("parameters of the image are in the editor")
        elif choice.action == "delete":
            moved = self.store.trash_image(record.file)
            self.query_one(Gallery).forget_image(record.file)
            self.log_line(f"moved {record.file} to {moved}")
        self._schedule_save()

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        yield from super().get_system_commands(screen)
        yield from palette_commands(self)

    async def action_quit(self) -> None:
        self.save_now()
        self.worker.stop(timeout=2)
        self.exit()

    def on_unmount(self) -> None:
        # However the app ends (quit, a signal, a test), nothing typed is lost and the GPU
        # thread does not outlive it.
        self.save_now()
        self.worker.stop(timeout=2)


def run_app(options: AppOptions) -> None:
    """Run the TUI until the user quits."""
    GenaiApp(options).run()
