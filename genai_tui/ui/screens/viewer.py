"""The image viewer: the image as large as the terminal allows, and everything about it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from PIL import Image
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from genai_tui import words
from genai_tui.engine.scorers import label_of
from genai_tui.ui.images import ImageDrawing, show_picture
from genai_tui.ui.screens.dialogs import ConfirmDialog
from genai_tui.ui.widgets.picture import Picture

if TYPE_CHECKING:
    from genai_tui.session.models import ImageRecord


@dataclass(frozen=True)
class ViewerChoice:
    """What the user chose in the viewer, for the app to carry out."""

    action: Literal["params", "seed", "delete", "grid"]
    record: ImageRecord


def describe(record: ImageRecord, path: Path) -> Table:
    """The record as a two-column table."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    rows: list[tuple[str, Any]] = [
        ("Prompt", record.prompt),
        ("Negative", record.negative_prompt or "—"),
        ("Seed", record.seed),
        ("Steps", record.steps),
        ("Sampler", record.scheduler),
        ("Guidance", f"{record.cfg_scale:g}"),
        ("Size", f"{record.width}×{record.height}"),
        ("Clip skip", record.clip_skip),
        ("Model", f"{record.model_name or record.model} [{record.model_hash or 'no hash'}]"),
        ("CLIP score", "—" if record.clip_score is None else f"{record.clip_score:.2f}"),
        *[(label_of(name), f"{value:.2f}") for name, value in sorted(record.scores.items())],
        ("Made on", f"{record.device} {record.dtype}, {words.duration(record.time_taken)}/image"),
        ("Created", record.created),
        ("File", words.shown_path(path)),
    ]
    for key, value in rows:
        table.add_row(key, str(value))
    return table


class ViewerScreen(Screen[ViewerChoice | None]):
    """One image; ←/→ walk the gallery's order, escape returns."""

    DEFAULT_CSS = """
    ViewerScreen Horizontal { height: 1fr; }
    ViewerScreen #viewer-image { width: 2fr; height: 1fr; }
    ViewerScreen VerticalScroll { width: 1fr; min-width: 36; border-left: solid $primary;
                                  padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back", id="viewer.close"),
        Binding("p", "choose('params')", "Reuse parameters", id="viewer.reuse_params"),
        Binding("s", "choose('seed')", "Reuse seed", id="viewer.reuse_seed"),
        Binding("c", "copy_path", "Copy path", id="viewer.copy_path"),
        Binding(
            "delete,d",
            "delete",
            "Delete",
            id="viewer.delete",
            tooltip="Move the image to the session's trash folder",
        ),
        Binding("g", "grid", "Grid", id="viewer.grid", tooltip="The grid of the image's sweep"),
        Binding("left", "step(-1)", "Previous", id="viewer.previous"),
        Binding("right", "step(1)", "Next", id="viewer.next"),
    ]

    def __init__(self, records: list[ImageRecord], index: int, folder: Path, drawing: ImageDrawing):
        super().__init__()
        self._records = records
        self._index = index
        self._folder = folder
        self._drawing = drawing

    @property
    def record(self) -> ImageRecord:
        """The record shown."""
        return self._records[self._index]

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Picture(self._drawing, id="viewer-image")
            with VerticalScroll():
                yield Static(id="viewer-info")
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        path = self._folder / self.record.file
        try:
            with Image.open(path) as image:
                picture: Image.Image | None = image.convert("RGB")
        except OSError:
            picture = None
            self.notify(f"cannot read {path}", severity="error")
        show_picture(self.query_one("#viewer-image"), picture)
        self.query_one("#viewer-info", Static).update(describe(self.record, path))
        self.sub_title = f"{self._index + 1}/{len(self._records)}"
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "grid":
            return self.record.sweep is not None  # only a sweep's cell has a grid
        return True

    def action_grid(self) -> None:
        if self.record.sweep is not None:
            self.dismiss(ViewerChoice("grid", self.record))

    def action_step(self, direction: int) -> None:
        self._index = (self._index + direction) % len(self._records)
        self._show()

    def action_choose(self, action: Literal["params", "seed"]) -> None:
        self.dismiss(ViewerChoice(action, self.record))

    def action_copy_path(self) -> None:
        path = str(self._folder / self.record.file)
        self.app.copy_to_clipboard(path)  # OSC 52: reaches the local clipboard over SSH
        self.notify(f"copied {path}")

    def action_delete(self) -> None:
        record = self.record

        def done(yes: bool | None) -> None:
            if yes:
                self.dismiss(ViewerChoice("delete", record))

        self.app.push_screen(
            ConfirmDialog(f"Move {record.file} to the session's trash?", yes="Delete"), done
        )

    def action_close(self) -> None:
        self.dismiss(None)
