"""How each worker event shows on screen: header, preview, gallery, log and toasts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

from genai_tui.jobs.events import (
    BestOfPicked,
    ClipLoaded,
    Event,
    ImageReady,
    ImagesScored,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    JobWarning,
    ModelLoaded,
    ModelLoading,
    Progress,
    TrainStep,
)
from genai_tui.ui import paths
from genai_tui.ui.training_link import forward_event
from genai_tui.ui.widgets.gallery import Gallery
from genai_tui.ui.widgets.preview import PreviewPane
from genai_tui.ui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from genai_tui.ui.app import GenaiApp


class EventsView:
    """Turns worker events into widget updates; runs on the UI thread only."""

    def __init__(self, app: GenaiApp) -> None:
        self.app = app

    def handle(self, event: Event) -> None:
        """Show one event."""
        app = self.app
        forward_event(app, event)  # the training screen and the LoRA sliders
        header = app.query_one(StatusHeader)
        preview = app.query_one(PreviewPane)
        if isinstance(event, JobStarted):
            header.state = "working"
            preview.reset_progress()
            app.log_line(f"started {event.title}")
        elif isinstance(event, ModelLoading):
            progress = f" {event.done}/{event.total}" if event.total else ""
            header.state = f"{event.what}{progress}"
            preview.show_status(f"{event.what}{progress}…")
        elif isinstance(event, ModelLoaded):
            self._model_loaded(event)
        elif isinstance(event, TrainStep):
            header.state = f"training {event.step}/{event.total}"
        elif isinstance(event, Progress):
            header.state = f"step {event.step}/{event.total}"
            preview.show_step(event.step, event.total, event.rate, event.previews)
        elif isinstance(event, ImageReady):
            app.query_one(Gallery).add(event.record)
            try:
                with Image.open(event.path) as image:
                    preview.show_image(image.convert("RGB"), f"saved {event.path.name}")
            except OSError:
                pass  # the gallery already shows the record; the file is checked there
            app.log_line(f"saved {event.record.file} (seed {event.record.seed})", "ok")
        elif isinstance(event, ImagesScored):
            self._scored(event)
        elif isinstance(event, BestOfPicked):
            app.query_one(Gallery).update([*event.kept, *event.hidden])
            best = event.kept[0] if event.kept else None
            if best is not None and best.clip_score is not None:
                app.log_line(
                    f"best of {len(event.kept) + len(event.hidden)}: kept {len(event.kept)}, "
                    f"top score {best.clip_score:.1f} ({best.file})",
                    "ok",
                )
        elif isinstance(event, ClipLoaded):
            app.log_line(
                f"CLIP {event.name} on {event.device} in {paths.duration(event.seconds)}", "ok"
            )
        elif isinstance(event, JobWarning):
            app.notify(event.message, severity="warning", timeout=8)
            app.log_line(event.message, "warning")
        elif isinstance(event, JobFinished):
            header.state = "idle" if not app.worker.busy else header.state
            app.log_line(f"done in {paths.duration(event.seconds)}", "ok")
        elif isinstance(event, JobCancelled):
            header.state = "idle"
            preview.reset_progress()
            preview.show_status("cancelled: nothing half-made was kept")
            app.log_line("cancelled", "warning")
        elif isinstance(event, JobFailed):
            header.state = "idle"
            preview.reset_progress()
            preview.show_status(f"failed: {event.error}")
            hint = f"\n{event.hint}" if event.hint else ""
            app.notify(f"{event.error}{hint}", title="Job failed", severity="error", timeout=15)
            app.log_line(f"failed: {event.error} ({event.hint})", "error")
            if event.kind == "bug" and event.detail:
                app.log_line(event.detail.rstrip(), "detail")

    def _scored(self, event: ImagesScored) -> None:
        gallery = self.app.query_one(Gallery)
        if event.text is None:
            gallery.update(list(event.records))
            if len(event.records) == 1:
                record = event.records[0]
                self.app.log_line(f"CLIP score {record.clip_score:.1f}: {record.file}")
            else:
                self.app.log_line(f"scored {len(event.records)} images against their prompts")
        else:
            gallery.rank_by_text(event.text, event.scores)
            best = max(event.scores.values(), default=0.0)
            self.app.log_line(
                f"ranked {len(event.scores)} images by {event.text!r}: best {best:.1f}", "ok"
            )

    def _model_loaded(self, event: ModelLoaded) -> None:
        app = self.app
        header = app.query_one(StatusHeader)
        header.model = event.name
        header.device = f"{event.device} {event.dtype}"
        header.state = "ready"
        app.model_ref = event.ref
        app.query_one(PreviewPane).show_status(f"{event.name} ready on {event.device}")
        app.log_line(
            f"loaded {event.name} on {event.device} ({event.dtype}) "
            f"in {paths.duration(event.seconds)}",
            "ok",
        )
        if event.ref == "demo" and app.options.model is None and event.device == "cpu":
            app.notify("No CUDA device found: using the embedded demo model.", timeout=8)
