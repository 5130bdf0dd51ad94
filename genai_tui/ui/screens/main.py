"""The main screen: prompt editor, parameters, live preview, gallery and log.

It owns its widgets and shows the worker's events in them (ui/screens/main_events.py); it
builds job specs from what the user set and hands them to the workspace's jobs. It never
touches a model, and everything the user makes or types is saved as it lands.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label

from genai_tui import words
from genai_tui.engine.errors import BadInput
from genai_tui.engine.preview_modes import PREVIEW_LABELS, next_preview_mode, preview_label
from genai_tui.ui.commands import MainCommands
from genai_tui.ui.images import ImageDrawing
from genai_tui.ui.screens.main_events import ShowsEvents
from genai_tui.ui.screens.main_sweeps import MainSweeps
from genai_tui.ui.widgets.prompt_editor import PromptEditor
from genai_tui.ui.widgets.status_header import Activity, Status, StatusHeader
from genai_tui.ui.workspace import Workspace

if TYPE_CHECKING:
    from genai_tui.session.models import EditorState, ImageRecord
    from genai_tui.session.store import SessionStore
    from genai_tui.ui.screens.viewer import ViewerChoice
    from genai_tui.ui.widgets.gallery import Gallery

SAVE_DELAY = 0.5
"""Seconds of quiet after an edit before the editor state is written to session.json."""

WATCH_SECONDS = 2.0
"""How often the open session is checked for what another process (nohup train) added."""

NARROW_WIDTH = 100
"""Below this many columns the preview and the gallery stack beside the editor."""

SHORT_HEIGHT = 30
"""Below this many rows the log is hidden unless asked for (ctrl+l)."""


class MainScreen(ShowsEvents):
    """Generate, watch, rank and keep images."""

    COMMANDS: ClassVar[set[Any]] = {*Screen.COMMANDS, MainCommands}
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
        Binding("ctrl+l", "toggle_log", "Log", id="toggle_log", tooltip="Show or hide the log"),
        Binding(
            "f2",
            "cycle_preview",
            "Preview",
            id="cycle_preview",
            tooltip="How the preview shows the image forming: auto, VAE decode, TAESD, latent",
        ),
        Binding(
            "f4",
            "sweep",
            "Sweep",
            id="sweep",
            tooltip="An X/Y/Z sweep of the knobs: one image per cell, and a grid",
        ),
    ]

    class Ready(Message):
        """The screen is mounted: the app opens the session and starts loading the model."""

    def __init__(self, workspace: Workspace, drawing: ImageDrawing) -> None:
        super().__init__()
        self.workspace = workspace
        self.drawing = drawing
        self._save_timer: Timer | None = None
        self._watch_error = ""
        self._log_wanted: bool | None = None  # None: shown when there is room
        self._session_shown = False
        self._all_mounted = False  # the first frame has the prompt only
        self._generate_wanted = False  # ctrl+g came before the session did: run it then
        self.preview_mode = workspace.options.preview
        """How the next generations make their preview frames; f2 cycles it."""
        self.sweeps = MainSweeps(self)

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The first frame is what a minimal app draws (header, prompt, footer), so the prompt
        # takes keys at once; the rest is mounted right after it is painted (_mount_rest).
        yield StatusHeader()
        with Horizontal(id="main"):
            with Vertical(id="editor-column") as column:
                column.border_title = "Prompt"
                yield PromptEditor(id="prompt", placeholder="Describe the image…")
            yield Horizontal(id="view-column")
        yield Footer()

    async def _mount_rest(self) -> None:
        """The parameters, preview, gallery and log; then the app opens the session."""
        from genai_tui.ui.widgets.gallery import Gallery
        from genai_tui.ui.widgets.log_panel import LogPanel
        from genai_tui.ui.widgets.param_panel import ParamPanel
        from genai_tui.ui.widgets.preview import PreviewPane

        await self.query_one("#editor-column").mount_all(
            [
                Label("Negative prompt", classes="field-label"),
                PromptEditor(id="negative", placeholder="What to avoid…"),
                ParamPanel(id="params"),
            ]
        )
        await self.query_one("#view-column").mount_all(
            [PreviewPane(self.drawing, id="preview"), Gallery(self.drawing, id="gallery")]
        )
        await self.mount(LogPanel(id="log"), before=self.query_one(Footer))
        self._show_log()
        self._preview().show_mode(preview_label(self.preview_mode))
        self.set_interval(WATCH_SECONDS, self._take_in_changes)
        self._all_mounted = True
        self.refresh_bindings()
        self.post_message(self.Ready())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Until the rest is mounted only ctrl+g is taken (and kept for the session, which
        # comes next); the other keys act on widgets that are not there yet.
        return self._all_mounted or action == "generate"

    def on_resize(self, event: Resize) -> None:
        # Textual has no media queries: the screen says how much room there is, the CSS
        # (styles/app.tcss) lays out for it. Short of room, the log gives way unless asked for.
        narrow = event.size.width < NARROW_WIDTH
        short = event.size.height < SHORT_HEIGHT
        self.set_class(narrow, "-narrow")
        self.set_class(short, "-short")
        self._show_log()

    def _show_log(self) -> None:
        wanted = self._log_wanted if self._log_wanted is not None else not self.has_class("-short")
        for log in self.query("#log"):  # none before the first frame is painted
            log.set_class(not wanted, "hidden")

    def on_mount(self) -> None:
        if self.workspace.options.session:  # in the first frame, before the session opens
            self.query_one(StatusHeader).session = self.workspace.options.session
        self.query_one("#prompt", PromptEditor).focus()
        self.call_after_refresh(self._mount_rest)

    # -- the session --------------------------------------------------------------------------

    def show_session(self, store: SessionStore) -> None:
        """Show a session the app opened: its editor values, history, LoRAs and images."""
        from genai_tui.jobs.loras import session_loras

        session = store.session
        self.query_one(StatusHeader).session = store.name
        editor = session.editor
        prompt = self.query_one("#prompt", PromptEditor)
        typed = prompt.text if not self._session_shown else ""  # before the session came
        prompt.load_text(editor.prompt)
        if typed:
            self.type_ahead(typed)
        self._session_shown = True
        prompt.set_history(session.prompt_history)
        self.query_one("#negative", PromptEditor).load_text(editor.negative_prompt)
        self._params().load(editor, session_loras(store))
        self._gallery().set_records(session.images, store.path)
        self.log_line(
            f"session {store.name}: {len(session.images)} images ({words.shown_path(store.path)})"
        )
        for offer in store.resume_offers():
            text = f"{offer.text}: ctrl+t, then pick it under Resume"
            self.log_line(text, "warning")
            self.notify(text, severity="warning", timeout=10)
        if self._generate_wanted:
            self._generate_wanted = False
            self.action_generate()

    def editor_state(self) -> EditorState:
        """The editor's values now."""
        prompt = self.query_one("#prompt", PromptEditor).text
        negative = self.query_one("#negative", PromptEditor).text
        return self._params().read(prompt, negative)

    def save_now(self) -> None:
        """Write the editor state to the session (on quit, on signals, before switching)."""
        from genai_tui.session.store import SessionError

        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        store = self.workspace.store
        if store is None:
            return
        try:
            store.set_editor(self.editor_state())
            store.save()
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

    def _take_in_changes(self) -> None:
        """Show the session again if another process (e.g. `genai-tui train`) changed it."""
        from genai_tui.jobs.loras import session_loras
        from genai_tui.session.store import SessionError

        store = self.workspace.store
        if store is None:
            return
        try:
            changed = store.take_in_changes()
        except SessionError as error:  # the other process left a file we cannot read
            if str(error) != self._watch_error:
                self._watch_error = str(error)
                self.log_line(str(error), "warning")
            return
        if changed:
            session = store.session
            self._gallery().set_records(session.images, store.path)
            self._loras().refresh_loras(session_loras(store))
            # The daemon writes what this screen's jobs make: said only for other writers.
            if time.monotonic() - self.event_at > 2 * WATCH_SECONDS:
                self.log_line("the session changed on disk (another process): shown again")

    def type_ahead(self, text: str, *, first: bool = False) -> None:
        """Keys the user typed before the app could take them go into the prompt (`first`:
        before what is there, typed before the app started)."""
        prompt = self.query_one("#prompt", PromptEditor)
        prompt.move_cursor((0, 0) if first else prompt.document.end)
        prompt.insert(text)

    # -- actions ------------------------------------------------------------------------------

    def action_generate(self) -> None:
        from genai_tui.jobs.editor import params_from_editor
        from genai_tui.jobs.specs import GenerateJob

        store = self.workspace.store
        if store is None or not self._session_shown:
            self._generate_wanted = True
            return
        state = self.editor_state()
        try:
            params = params_from_editor(state).validate().with_seed()
        except BadInput as error:
            self.notify(f"{error}. {error.hint}".strip(" ."), severity="error")
            return
        self.query_one("#prompt", PromptEditor).remember(state.prompt)
        options = self.workspace.options
        best_of = state.best_of if state.best_of > 1 else None
        job = GenerateJob(
            params,
            self.workspace.model_ref,
            store,
            options.load,
            score=state.score_images,
            clip=options.clip,
            best_of=best_of,
            keep=min(state.keep, state.best_of) if best_of else 1,
            preview=self.preview_mode,
        )
        self.workspace.jobs.submit(job)
        self.log_line(f"queued {job.title} (seed {params.seed})")
        self.save_now()

    def action_sweep(self) -> None:
        self.sweeps.open_form()

    def action_cancel(self) -> None:
        if self.workspace.jobs.cancel():
            self.query_one(StatusHeader).status = Status(Activity.CANCELLING)
            self.log_line("cancelling…", "warning")

    def action_reuse_seed(self) -> None:
        record = self._gallery().selected
        if record is None:
            self.notify("No image selected.", severity="warning")
            return
        self._lock_seed(record)

    def _lock_seed(self, record: ImageRecord) -> None:
        self._params().use_seed(record.seed)
        self.notify(f"seed {record.seed} locked for the next run")

    def action_rank_by_text(self) -> None:
        from genai_tui.jobs.specs import ScoreJob
        from genai_tui.ui.screens.dialogs import NameDialog

        gallery = self._gallery()

        def chosen(text: str | None) -> None:
            store = self.workspace.store
            if text is None or store is None:
                return
            if not text:
                gallery.rank_by_text(None, {})
                self.notify("ranked by each image's own prompt again")
                return
            job = ScoreJob(store, text=text, clip=self.workspace.options.clip)
            self.workspace.jobs.submit(job)
            self.log_line(f"queued {job.title}")

        self.app.push_screen(
            NameDialog(
                "Rank the images by how well they match (empty: their own prompts again):",
                value=gallery.order.text or "",
            ),
            chosen,
        )

    def action_rescore(self) -> None:
        """Score every image of the session against its own prompt again."""
        from genai_tui.jobs.specs import ScoreJob

        if self.workspace.store is not None:
            job = ScoreJob(self.workspace.store, clip=self.workspace.options.clip)
            self.workspace.jobs.submit(job)

    def action_cycle_preview(self) -> None:
        self.preview_mode = next_preview_mode(self.preview_mode)
        self._preview().show_mode(preview_label(self.preview_mode))
        when = " from the next generation" if self.workspace.jobs.busy else ""
        self.notify(f"Preview: {PREVIEW_LABELS[self.preview_mode]}{when}")

    def action_toggle_log(self) -> None:
        self._log_wanted = self._log().has_class("hidden")
        self._show_log()

    def action_toggle_order(self) -> None:
        self._gallery().action_toggle_order()

    def action_toggle_hidden(self) -> None:
        self._gallery().action_toggle_hidden()

    def action_cycle_scorer(self) -> None:
        self._gallery().action_cycle_scorer()

    def on_gallery_scorer_chosen(self, message: Gallery.ScorerChosen) -> None:
        self._score_missing(message.scorer, message.missing)

    def on_gallery_opened(self, message: Gallery.Opened) -> None:
        from genai_tui.ui.screens.viewer import ViewerScreen

        store = self.workspace.store
        if store is None:
            return
        records = self._gallery().records
        index = next(i for i, r in enumerate(records) if r.file == message.record.file)
        screen = ViewerScreen(records, index, store.path, self.drawing)
        self.app.push_screen(screen, self.viewer_done)

    def on_gallery_grid_wanted(self, message: Gallery.GridWanted) -> None:
        self.sweeps.open_grid(message.record)

    def reuse_parameters(self, record: ImageRecord) -> None:
        """Put every knob `record` was made with in the editor, its seed locked."""
        from genai_tui.jobs.editor import editor_for_image

        state = editor_for_image(record, self.editor_state())
        self.query_one("#prompt", PromptEditor).load_text(state.prompt)
        self.query_one("#negative", PromptEditor).load_text(state.negative_prompt)
        self._params().load(state)
        self.notify("parameters of the image are in the editor")
        self._schedule_save()

    def viewer_done(self, choice: ViewerChoice | None) -> None:
        """Carry out what the user chose in the viewer."""
        store = self.workspace.store
        if choice is None or store is None:
            return
        record = choice.record
        if choice.action == "seed":
            self._lock_seed(record)
        elif choice.action == "params":
            self.reuse_parameters(record)
        elif choice.action == "grid":
            self.sweeps.open_grid(record)
        elif choice.action == "delete":
            moved = store.trash_image(record.file)
            self._gallery().forget_image(record.file)
            self.log_line(f"moved {record.file} to {moved}")
        self._schedule_save()
