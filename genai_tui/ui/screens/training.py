"""The training screen: set up a LoRA run on a folder of images, start, watch, cancel, resume.

The screen builds a TrainJob and hands it to the workspace's jobs, then shows the events of that
job (the app hands every worker event to `show_event`; others are ignored). It is installed once
and reused, so its loss curve and log survive going back to the main screen and returning.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Button, Footer, Input, Label, Select, Static

from genai_tui.engine.errors import BadInput
from genai_tui.engine.lora.params import TrainParams, checkpoint_params
from genai_tui.engine.lora.recipes import recipe_note, recommended_params
from genai_tui.jobs.events import (
    CheckpointSaved,
    Event,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    LoraReady,
    LossCurve,
    ModelLoaded,
    TrainingStarted,
    TrainStep,
    ValidationImages,
)
from genai_tui.jobs.specs import TrainJob, lora_name_for
from genai_tui.ui.data_scan import SCAN_AFTER_TYPING, scan_folder
from genai_tui.ui.images import ImageDrawing, show_picture
from genai_tui.ui.lora_explained import IDLE_EXPLANATION, explain
from genai_tui.ui.screens.main import NARROW_WIDTH, SHORT_HEIGHT
from genai_tui.ui.screens.training_compare import CheckpointComparing
from genai_tui.ui.widgets.checkpoint_ranking import CheckpointRanking
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.loss_plot import LossPlot
from genai_tui.ui.widgets.picture import Picture
from genai_tui.ui.widgets.preview import tile
from genai_tui.ui.widgets.train_form import TrainForm
from genai_tui.ui.workspace import Workspace

_TRAINING_EVENTS = (TrainingStarted, TrainStep, LossCurve, CheckpointSaved, ValidationImages)
"""Events only a training sends: one arriving for no job of this screen is a run to adopt."""


class TrainingScreen(CheckpointComparing):
    """Train a LoRA: the form on the left, the live loss curve, samples and log on the right."""

    CSS_PATH = "../styles/training.tcss"

    BINDINGS = [
        Binding(
            "ctrl+g,f5",
            "start",
            "Start",
            id="training.start",
            priority=True,
            tooltip="Start training (or resume the chosen checkpoint)",
        ),
        Binding(
            "escape",
            "cancel",
            "Cancel/back",
            id="training.cancel",
            tooltip="Cancel the run (a checkpoint is written); when idle, back to the images",
        ),
        Binding("ctrl+t", "back", "Back", id="training.back", tooltip="Back to the main screen"),
        Binding(
            "f6",
            "compare",
            "Compare checkpoints",
            id="training.compare",
            priority=True,
            tooltip="Sweep the run's checkpoints over its prompts and seeds, ranked by CLIP",
        ),
    ]

    def __init__(self, workspace: Workspace, drawing: ImageDrawing) -> None:
        super().__init__(workspace)
        self._drawing = drawing
        self._job_id: str | None = None
        self._params: TrainParams | None = None
        self._log_every = 1
        self.running = False
        """Whether the job this screen started is queued or running."""
        self.last_step = 0
        self._last_line = ""
        self._form_run = ""
        """The run whose settings the form shows ("" : the form's own)."""
        self._waiting: list[Event] | None = []
        """Events that came before the screen was drawn (None once it is)."""

    @property
    def job_id(self) -> str | None:
        """The id of the last training job started here."""
        return self._job_id

    def compose(self) -> ComposeResult:
        with Horizontal(id="training-main"):
            model_ref = self.workspace.model_ref
            yield TrainForm(recommended_params(model_ref), recipe_note(model_ref), id="train-form")
            with Vertical(id="training-live"):
                with Horizontal(id="training-buttons"):
                    yield Button("Start  ctrl+g", id="train-start", variant="primary")
                    yield Button("Cancel  esc", id="train-cancel", variant="error")
                    yield Button("Back  ctrl+t", id="train-back")
                yield Static(IDLE_EXPLANATION, id="train-explain")
                yield LossPlot(
                    id="loss-plot", offer=lambda draw: self.workspace.pace.offer("loss plot", draw)
                )
                yield Label("idle", id="train-progress")
                with Horizontal(id="train-samples-row"):
                    yield Picture(self._drawing, id="train-samples")
                    yield Label("samples appear after each validation round", id="samples-caption")
                yield CheckpointRanking(id="checkpoint-ranking")
                yield LogPanel(id="train-log")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#train-form").border_title = "LoRA training"
        self.query_one("#training-live").border_title = "Run"
        self.refresh_checkpoints()
        self.query_one("#data-folder", Input).focus()
        # Focusing the field scrolls the form to it, the recipe note and Resume above out of
        # view (the form is no tab stop, so nothing above it had the focus first): the form
        # opens at its top.
        self.call_after_refresh(self.query_one(TrainForm).scroll_home, animate=False)
        waiting, self._waiting = self._waiting or [], None
        for event in waiting:
            self.show_event(event)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")
        self.set_class(event.size.height < SHORT_HEIGHT, "-short")

    def on_screen_resume(self) -> None:
        self.refresh_checkpoints()  # the session may have changed meanwhile

    # -- the form ----------------------------------------------------------------------------------

    def refresh_checkpoints(self) -> None:
        """Fill the resume list from the session's runs."""
        store = self.workspace.store
        options: list[tuple[str, str]] = []
        if store is not None:
            for run in store.session.runs:
                for folder in run.checkpoints:
                    label = f"{run.lora} · {Path(folder).name} of {run.total_steps} ({run.status})"
                    options.append((label, str(store.path / folder)))
        self.query_one(TrainForm).set_checkpoints(options)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in {"data-folder", "instance-prompt"}:
            self._check_data()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "caption-mode":
            self._check_data()
        elif event.select.id == "resume" and isinstance(event.value, str):
            self._fill_from_checkpoint(Path(event.value))

    def _fill_from_checkpoint(self, folder: Path) -> None:
        form = self.query_one(TrainForm)
        try:
            form.load_params(checkpoint_params(folder))
        except BadInput as error:
            self.notify(f"{error}. {error.hint}", severity="error")
            return
        store = self.workspace.store
        run = store.run(folder.parent.name) if store is not None else None
        if run is not None:
            self.query_one("#data-folder", Input).value = run.data
            self.query_one("#lora-name", Input).value = run.lora
        self.notify(f"settings of {folder.name} loaded: raise Steps to train further")

    @work(exclusive=True, group="data-scan")
    async def _check_data(self) -> None:
        await asyncio.sleep(SCAN_AFTER_TYPING)  # the next edit cancels this one here
        form = self.query_one(TrainForm)
        folder = form.data_folder
        scan = await asyncio.to_thread(scan_folder, Path(folder))  # a big folder takes a while
        prompt = form.instance_prompt
        form.show_data_status(scan.summary(prompt), scan.problem(prompt) is None)

    # -- actions -----------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"train-start": self.action_start, "train-cancel": self.action_cancel}
        actions.get(event.button.id or "", self.action_back)()

    def action_start(self) -> None:
        """Check the form and hand a TrainJob to the worker."""
        if self.running:
            self.notify("A training run is going: cancel it first (escape).", severity="warning")
            return
        store = self.workspace.store
        if store is None:
            self.notify("No session is open.", severity="error")
            return
        form = self.query_one(TrainForm)
        scan = scan_folder(Path(form.data_folder))
        problem = scan.problem(form.instance_prompt)
        if problem:
            form.show_data_status(problem, False)
            self.notify(problem, title="Cannot train", severity="error", timeout=10)
            return
        try:
            params = form.params()
            name = lora_name_for(store, form.lora_name, form.data_folder, form.resume)
        except BadInput as error:
            hint = f"\n{error.hint}" if error.hint else ""
            self.notify(f"{error}{hint}", title="Cannot train", severity="error", timeout=10)
            return
        job = TrainJob(
            params,
            str(scan.folder),
            name,
            store,
            model=self.workspace.model_ref,
            resume=form.resume,
            load=self.workspace.options.load,
            clip=self.workspace.options.clip,
        )
        self._job_id = job.id
        self._params = params
        self._log_every = max(1, params.steps // 100)
        self.running = True
        self.last_step = 0
        self._last_line = ""
        self.query_one(LossPlot).reset(0, params.steps)
        self.query_one("#train-explain", Static).update(IDLE_EXPLANATION)
        self.workspace.jobs.submit(job)
        self._progress("queued: loading the model and the data comes first")
        self.log_line(f"queued {job.title} ({len(scan.images)} images)")

    def action_cancel(self) -> None:
        """Cancel the run (it writes a checkpoint); when nothing runs, go back."""
        if self.running and self._job_id is not None:
            if self.workspace.jobs.cancel(self._job_id):
                self._progress("cancelling after this step; a checkpoint is written")
                self.log_line("cancelling: the run stops after this step", "warning")
            return
        self.action_back()

    def action_back(self) -> None:
        """Back to the main screen; the run goes on and this screen keeps its state."""
        if self.app.screen is self and len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    # -- events ------------------------------------------------------------------------------------

    def log_line(self, text: str, level: str = "info") -> None:
        """Write to the training log."""
        self.query_one("#train-log", LogPanel).add(text, level)

    def _progress(self, text: str) -> None:
        self.query_one("#train-progress", Label).update(text)

    def show_event(self, event: Event) -> None:
        """Show a worker event if it belongs to this screen's job (the app sends them all)."""
        if self._waiting is not None:
            self._waiting.append(event)  # the screen is not drawn yet: shown on mount
            return
        if isinstance(event, ModelLoaded) and self._job_id is None:
            # Opened before the model loaded (the default is known only then): its recipe.
            form = self.query_one(TrainForm)
            form.use_recipe(recommended_params(event.ref), recipe_note(event.ref))
        if event.job_id in self._side_jobs:
            self._side_event(event)
            return
        if isinstance(event, TrainingStarted | TrainStep | CheckpointSaved | LossCurve):
            self._run = event.run
        if event.job_id != self._job_id:
            if self.running or not isinstance(event, _TRAINING_EVENTS):
                return
            self._adopt(event.job_id)
        if self._params is None and self._run and self._run != self._form_run:
            self._show_settings_of(self._run)
        if isinstance(event, TrainStep):
            self._step(event)
            return
        if isinstance(event, LossCurve):
            plot = self.query_one(LossPlot)
            for step, loss in zip(event.steps, event.losses, strict=True):
                plot.add(step, loss)
            self.log_line(event.sentence())
            return
        if not isinstance(event, JobCancelled) and (line := event.sentence()):
            self.log_line(line, event.level)
        if isinstance(event, TrainingStarted):
            self.query_one("#train-explain", Static).update(explain(event, self._params))
            self.query_one(LossPlot).reset(event.start_step, event.total_steps)
            self._log_every = max(1, event.total_steps // 100)
        elif isinstance(event, ValidationImages):
            self._samples(event)
        elif isinstance(event, CheckpointSaved):
            self.refresh_checkpoints()
        elif isinstance(event, LoraReady):
            self.notify(
                f"LoRA {event.record.name} is ready: its weight slider is in the parameters"
            )
        elif isinstance(event, JobStarted):
            self._progress("loading the model and the data…")
        elif isinstance(event, JobFinished | JobCancelled | JobFailed):
            self._ended(event)

    def _adopt(self, job_id: str) -> None:
        """Show a training this screen did not start: one that ran on in the daemon while no
        genai-tui was open (its events so far come first, then live ones)."""
        self._job_id = job_id
        self._params = None
        self.running = True
        self.last_step = 0
        self.query_one(LossPlot).reset(0, 1)
        self.log_line("a training of this session is running: shown from where it is")
        self._progress("reattached: the run goes on")

    def _show_settings_of(self, run: str) -> None:
        """The form shows what an adopted run was started with, not this app's defaults (once
        the session has its record: a run started after this app opened comes a moment later)."""
        store = self.workspace.store
        record = store.run(run) if store is not None else None
        if record is None:
            return
        try:
            params = TrainParams.from_json(record.params)
        except (ValueError, TypeError):
            return  # a record from another version: the form keeps its values
        self._form_run = run
        note = f"The settings of run {run}, shown as it goes on (Start begins a new run)."
        self.query_one(TrainForm).show_run(params, record.data, record.lora, note)

    def _step(self, event: TrainStep) -> None:
        self.last_step = event.step
        self.query_one(LossPlot).add(event.step, event.loss)
        line = event.sentence()
        last = event.step == event.total
        self.workspace.pace.offer("training step", lambda: self._progress(line), last=last)
        self._last_line = line
        if event.step % self._log_every == 0 or event.step == event.total:
            self.log_line(line)

    def _samples(self, event: ValidationImages) -> None:
        pictures: list[Image.Image] = []
        for path in event.paths:
            try:
                with Image.open(path) as image:
                    pictures.append(image.convert("RGB"))
            except OSError:
                continue
        if pictures:
            show_picture(self.query_one("#train-samples"), tile(pictures))
        prompts = "; ".join(dict.fromkeys(r.prompt for r in event.records))
        scores = [r.clip_score for r in event.records if r.clip_score is not None]
        scored = f", CLIP ★{max(scores):.1f} best" if scores else ""
        caption = f"samples at step {event.step}{scored}: {prompts}"
        self.query_one("#samples-caption", Label).update(caption)

    def _ended(self, event: JobFinished | JobCancelled | JobFailed) -> None:
        self.workspace.pace.drop("training step")  # a step held for a key: the end says more
        if isinstance(event, JobFinished):
            self._progress(f"{event.sentence()} · {self._last_line}")
        elif isinstance(event, JobCancelled):
            self.log_line(
                f"cancelled at step {self.last_step}; its checkpoint is in the Resume list",
                event.level,
            )
            self._progress(f"cancelled at step {self.last_step}")
            self.refresh_checkpoints()
        else:
            self._progress(f"failed: {event.error}")
        self.running = False
