"""What the main screen shows of the worker's events: header, preview, gallery and log.

The widgets named here are mounted after the first frame (ui/screens/main.py), so their modules
are imported on first use too.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.screen import Screen

from genai_tui.engine.preview_modes import preview_label
from genai_tui.ui.widgets.status_header import Activity, Status, StatusHeader

if TYPE_CHECKING:
    from PIL import Image

    from genai_tui.jobs.events import (
        Event,
        ImagesScored,
        JobCancelled,
        JobFailed,
        LoraReady,
        ModelLoaded,
        Progress,
    )
    from genai_tui.ui.screens.main_sweeps import MainSweeps
    from genai_tui.ui.widgets.gallery import Gallery
    from genai_tui.ui.widgets.log_panel import LogPanel
    from genai_tui.ui.widgets.lora_panel import LoraPanel
    from genai_tui.ui.widgets.param_panel import ParamPanel
    from genai_tui.ui.widgets.preview import PreviewPane
    from genai_tui.ui.workspace import Workspace


class ShowsEvents(Screen[None]):
    """The main screen's half that reads: events in, widgets updated."""

    workspace: Workspace
    sweeps: MainSweeps
    _frames: tuple[Image.Image, ...] = ()
    """The newest preview frame not drawn yet (progress waits while the user types)."""
    event_at = -1e9
    """When the last event of a job that writes this session came (monotonic seconds)."""

    # -- the widgets mounted after the first frame (imported then: a quicker first frame) ----

    def _gallery(self) -> Gallery:
        from genai_tui.ui.widgets.gallery import Gallery

        return self.query_one(Gallery)

    def _log(self) -> LogPanel:
        from genai_tui.ui.widgets.log_panel import LogPanel

        return self.query_one(LogPanel)

    def _loras(self) -> LoraPanel:
        from genai_tui.ui.widgets.lora_panel import LoraPanel

        return self.query_one(LoraPanel)

    def _params(self) -> ParamPanel:
        from genai_tui.ui.widgets.param_panel import ParamPanel

        return self.query_one(ParamPanel)

    def _preview(self) -> PreviewPane:
        from genai_tui.ui.widgets.preview import PreviewPane

        return self.query_one(PreviewPane)

    def log_line(self, text: str, level: str = "info") -> None:
        """Write to the log panel."""
        self._log().add(text, level)

    # -- the worker's events ------------------------------------------------------------------

    def show_event(self, event: Event) -> None:
        """Show one worker event in the header, preview, gallery and log."""
        from PIL import Image

        from genai_tui.jobs.events import (
            BestOfPicked,
            GridReady,
            ImageReady,
            ImagesScored,
            JobCancelled,
            JobFailed,
            JobFinished,
            JobStarted,
            JobWarning,
            LoraReady,
            ModelLoaded,
            ModelLoading,
            Progress,
            SweepCell,
            TrainStep,
        )

        info = self.workspace.jobs.info(event.job_id)
        loading = info is not None and info.session is None  # loading a model writes no session
        if not loading:
            self.event_at = time.monotonic()
        # Too frequent for the log: the header and the preview show them as progress.
        shown_elsewhere = (ModelLoading, Progress, TrainStep)
        header = self.query_one(StatusHeader)
        preview = self._preview()
        if not isinstance(event, shown_elsewhere) and (line := event.sentence()):
            self.log_line(line, event.level)
        if isinstance(event, JobFinished | JobCancelled | JobFailed):
            for held in ("preview", "training header"):  # a step held for a key: stale now
                self.workspace.pace.drop(held)
        if isinstance(event, JobStarted):
            header.status = Status(Activity.WORKING)
            self._frames = ()
            preview.reset_progress()
        elif isinstance(event, ModelLoading):
            header.status = Status(Activity.LOADING, event.sentence())
            preview.show_status(f"{event.sentence()}…")
        elif isinstance(event, ModelLoaded):
            self._model_loaded(event)
        elif isinstance(event, TrainStep):
            status = Status(Activity.WORKING, f"training {event.step}/{event.total}")
            self.workspace.pace.offer(
                "training header",
                lambda: setattr(header, "status", status),
                last=event.step == event.total,
            )
        elif isinstance(event, Progress):
            self._show_progress(event)
        elif isinstance(event, ImageReady):
            self._gallery().add(event.record)
            try:
                with Image.open(event.path) as image:
                    preview.show_image(image.convert("RGB"), f"saved {event.path.name}")
            except OSError:
                pass  # the gallery already shows the record; the file is checked there
        elif isinstance(event, SweepCell):
            header.status = Status(Activity.WORKING, self.sweeps.cell_made(event))
        elif isinstance(event, GridReady):
            self.sweeps.grid_ready(event)
        elif isinstance(event, ImagesScored):
            self._scored(event)
        elif isinstance(event, BestOfPicked):
            self._gallery().update([*event.kept, *event.hidden])
        elif isinstance(event, LoraReady):
            self._refresh_loras()
            self._kept_checkpoint(event)
        elif isinstance(event, JobWarning):
            self.notify(event.message, severity="warning", timeout=8)
        elif isinstance(event, JobFinished):
            self.sweeps.ended(event.job_id)
            if not loading:  # a model's load said "demo ready on cpu": no "done" over it
                preview.show_status(event.sentence())
            if not self.workspace.jobs.busy:
                header.status = Status(Activity.IDLE)
        elif isinstance(event, JobCancelled | JobFailed):
            self._ended(event)

    def _show_progress(self, event: Progress) -> None:
        """A step: the bar, the step line and the newest frame, when ui/pacing draws them."""
        if event.previews:
            self._frames = event.previews
        last = event.step == event.total
        self.workspace.pace.offer("preview", lambda: self._draw_progress(event), last=last)

    def _draw_progress(self, event: Progress) -> None:
        # The header says what runs ("cell 4 of 9"), the pane the step: a step in the top line
        # too repainted the screen between them, and said it twice.
        self.query_one(StatusHeader).status = Status(
            Activity.WORKING, self.sweeps.cell(event.job_id)
        )
        label = preview_label(event.preview_mode, event.preview_note)
        shown = label if event.preview_mode else ""
        frames, self._frames = self._frames, ()
        self._preview().show_step(event.step, event.total, event.rate, frames, shown)

    def _ended(self, event: JobCancelled | JobFailed) -> None:
        from genai_tui.jobs.events import JobCancelled

        self.sweeps.ended(event.job_id)
        self.query_one(StatusHeader).status = Status(Activity.IDLE)
        preview = self._preview()
        preview.reset_progress()
        if isinstance(event, JobCancelled):
            preview.show_status(event.sentence())
            return
        preview.show_status(f"failed: {event.error}")
        hint = f"\n{event.hint}" if event.hint else ""
        self.notify(f"{event.error}{hint}", title="Job failed", severity="error", timeout=15)
        if event.kind == "bug" and event.detail:
            self.log_line(event.detail.rstrip(), "detail")

    def _scored(self, event: ImagesScored) -> None:
        gallery = self._gallery()
        if event.text is None:
            gallery.update(list(event.records))
            if event.scorer == "clip":  # new images, while the gallery sorts by PickScore
                missing = gallery.unscored({r.file for r in event.records})
                self._score_missing(gallery.order.sorted_by, missing)
        else:
            gallery.rank_by_text(event.text, event.scores)

    def _score_missing(self, scorer: str, files: tuple[str, ...]) -> None:
        """Score with PickScore the images the gallery sorts by it and that have none (from the
        hub cache; a PickScore not on the machine fails that job, saying how to get it)."""
        from genai_tui.jobs.specs import ScoreJob

        store = self.workspace.store
        if scorer != "pickscore" or not files or store is None:
            return
        job = ScoreJob(store, files=files, scorer="pickscore", clip=self.workspace.options.clip)
        self.workspace.jobs.submit(job)
        self.log_line(f"queued {job.title}")

    def _kept_checkpoint(self, event: LoraReady) -> None:
        """A checkpoint kept as a LoRA (e in a comparison) becomes the LoRA this screen uses, at
        the weight the comparison rendered it, instead of the other LoRAs of its run."""
        from genai_tui.daemon.local import kind_of
        from genai_tui.jobs.specs import ExportCheckpointJob
        from genai_tui.jobs.sweep_axes import CHECKPOINT_WEIGHT

        info = self.workspace.jobs.info(event.job_id)
        store = self.workspace.store
        if info is None or info.kind != kind_of(ExportCheckpointJob) or store is None:
            return
        kept = event.record
        siblings = [lora.name for lora in store.session.loras if lora.run == kept.run]
        self._loras().use(kept.name, CHECKPOINT_WEIGHT, [n for n in siblings if n != kept.name])
        others = " (the other LoRAs of its run are off)" if len(siblings) > 1 else ""
        self.notify(f"LoRA {kept.name} is ready and on at {CHECKPOINT_WEIGHT:g}{others}")

    def _refresh_loras(self) -> None:
        from genai_tui.jobs.loras import session_loras

        if self.workspace.store is not None:
            self._loras().refresh_loras(session_loras(self.workspace.store))

    def _model_loaded(self, event: ModelLoaded) -> None:
        header = self.query_one(StatusHeader)
        header.model = event.name
        header.device = f"{event.device} {event.dtype}"
        header.status = Status(Activity.READY)
        self.workspace.model_loaded(event.ref)
        self._preview().show_status(f"{event.name} ready on {event.device}")
        asked = self.workspace.options.model
        if event.ref == "demo" and asked is None and event.device == "cpu":
            self.notify("No CUDA device found: using the embedded demo model.", timeout=8)
