"""The preview pane: the image forming at every step, with a progress bar, step count and rate."""

from __future__ import annotations

from PIL import Image
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Label, ProgressBar

from genai_tui.ui.images import ImageDrawing, show_picture
from genai_tui.ui.widgets.picture import Picture

PREVIEW_PIXELS = 256
"""Longest side of a preview frame as sent to the terminal: about a pane's width in pixels;
more would only cost bandwidth over SSH."""


def tile(images: list[Image.Image], size: int = 64) -> Image.Image:
    """Lay a batch out side by side (up to 4 a row) in cells of the batch's shape, the longer
    side `size` pixels: small images blown up with hard edges, large ones scaled down smoothly."""
    width, height = images[0].size
    if width >= height:
        cell = (size, max(1, round(size * height / width)))
    else:
        cell = (max(1, round(size * width / height)), size)
    columns = min(4, len(images))
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * cell[0], rows * cell[1]), "black")
    for index, image in enumerate(images):
        blow_up = image.width <= cell[0] and image.height <= cell[1]
        resample = Image.Resampling.NEAREST if blow_up else Image.Resampling.LANCZOS
        sheet.paste(
            image.convert("RGB").resize(cell, resample),
            ((index % columns) * cell[0], (index // columns) * cell[1]),
        )
    return sheet


def frame_side(frames: tuple[Image.Image, ...]) -> int:
    """The cell side a batch of preview frames is tiled at: their own, at least 64 pixels, and
    no more than keeps a row of them within PREVIEW_PIXELS."""
    longest = max(max(frame.size) for frame in frames)
    row = max(64, PREVIEW_PIXELS // min(4, len(frames)))
    return min(row, max(64, longest))


class PreviewPane(Vertical):
    """Shows denoising previews while a job runs and the finished image after."""

    DEFAULT_CSS = """
    PreviewPane { height: 1fr; border: round $primary; border-title-color: $text; }
    PreviewPane #preview-image { height: 1fr; width: 1fr; }
    PreviewPane #preview-status { height: 1; width: 1fr; color: $text-muted; }
    PreviewPane ProgressBar { height: 1; }
    """

    def __init__(self, drawing: ImageDrawing, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawing = drawing
        self.border_title = "Preview"
        self._batch: list[Image.Image] = []
        """This batch's pictures as the pane tiles them: its newest frames, each replaced by
        its finished image as it lands."""
        self._landed = 0

    def on_mount(self) -> None:
        self.reset_progress()

    def compose(self) -> ComposeResult:
        yield Picture(self._drawing, id="preview-image")
        with Center():
            # No percentage: the step count below says it, and where the pane is too narrow
            # for it, its every change had Textual lay the whole screen out again.
            yield ProgressBar(
                total=100, show_eta=False, show_percentage=False, id="preview-progress"
            )
        yield Label("idle", id="preview-status")

    def show_step(
        self,
        step: int,
        total: int,
        rate: float,
        previews: tuple[Image.Image, ...],
        label: str = "",
    ) -> None:
        """A step finished: move the bar and draw the frames given. How often is ui/pacing's
        to say (each frame resends pixels, which is dear over SSH).

        `label` says how the previews are made ("preview: VAE decode (auto)")."""
        if label and label != self.border_subtitle:
            # Setting it, even to the same text, repaints the whole pane, picture and all.
            self.border_subtitle = label
        self.query_one(ProgressBar).update(total=total, progress=step)
        per = f" · {rate:.2f} it/s" if rate else ""
        self.show_status(f"denoising: step {step}/{total}{per}")
        if previews:
            self._batch, self._landed = list(previews), 0
            self._draw_batch()

    def show_image(self, image: Image.Image, caption: str) -> None:
        """Show a finished image: in its place in the batch's tile while a batch lands (the
        pane keeps its shape, and the next batch of that size draws with no layout pass)."""
        if len(self._batch) > 1 and self._landed < len(self._batch):
            self._batch[self._landed] = image
            self._landed += 1
            self._draw_batch()
        else:
            show_picture(self.query_one("#preview-image"), image)
        self.show_status(caption)

    def _draw_batch(self) -> None:
        sheet = tile(self._batch, frame_side(tuple(self._batch)))
        show_picture(self.query_one("#preview-image"), sheet)

    def show_mode(self, label: str) -> None:
        """Say how the next previews will be made ("preview: auto")."""
        self.border_subtitle = label

    def show_status(self, text: str) -> None:
        """A one-line state: loading, cancelled, failed, idle."""
        # A line of fixed size: no layout pass of the whole screen, which at every step cost a
        # typist tens of ms while generating (bench/daemon_bench.py keys).
        self.query_one("#preview-status", Label).update(text, layout=False)

    def reset_progress(self) -> None:
        """An empty bar for a job starting or none running. It stays in the layout: showing it
        at a job's first step laid the screen out, and a key typed then waited 30-40 ms. (An
        indeterminate bar would animate, and redraw, forever.)"""
        self.query_one(ProgressBar).update(total=100, progress=0)
        self._batch, self._landed = [], 0
