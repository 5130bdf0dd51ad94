"""The thumbnail gallery: a keyboard-driven grid that renders only the thumbnails in view.

A session can hold hundreds of images. Instead of one widget per image, the gallery keeps a
fixed set of slots that fits its size and shows the window of records around the cursor in
them, so scrolling costs a few thumbnail swaps however long the session is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label

from genai_tui.engine.scorers import ScorerName, label_of
from genai_tui.ui.images import ImageDrawing, ThumbnailCache, show_picture
from genai_tui.ui.widgets.gallery_order import GalleryOrder
from genai_tui.ui.widgets.picture import Picture

if TYPE_CHECKING:
    from genai_tui.session.models import ImageRecord

SLOT_WIDTH = 18
SLOT_HEIGHT = 10  # image rows plus the caption line


def caption(record: ImageRecord, score: float | None) -> str:
    """What a thumbnail says about its image: seed, its ranking score when known, hidden."""
    shown = f" ★{score:.1f}" if score is not None else ""
    hidden = " ·hidden" if record.hidden else ""
    return f"{record.seed}{shown}{hidden}"


class Slot(Vertical):
    """One place in the grid: a thumbnail and its caption."""

    DEFAULT_CSS = f"""
    Slot {{ width: {SLOT_WIDTH}; height: {SLOT_HEIGHT}; border: blank; }}
    Slot.-cursor {{ border: heavy $accent; }}
    Slot .thumb {{ height: 1fr; width: 1fr; }}
    Slot Label {{ height: 1; width: 1fr; text-align: center; color: $text-muted; }}
    """

    def __init__(self, drawing: ImageDrawing) -> None:
        super().__init__()
        self._drawing = drawing
        self.file: str | None = None  # what the slot shows, so unchanged slots are left alone
        self._text = ""

    def compose(self) -> ComposeResult:
        yield Picture(self._drawing, classes="thumb")
        yield Label("")

    def show(self, file: str, thumbnail: Any, text: str) -> None:
        if not self.children:
            return  # not composed yet: the gallery shows it again once it is
        if file != self.file:
            show_picture(self.query_one(".thumb"), thumbnail)
            self.file = file
        if text != self._text:
            self.query_one(Label).update(text)
            self._text = text


class Gallery(Vertical, can_focus=True):
    """The session's images, best first by a scorer (CLIP score or PickScore; s cycles) or newest
    first; Enter opens the viewer."""

    DEFAULT_CSS = """
    Gallery { border: round $primary; height: 1fr; }
    Gallery:focus-within, Gallery:focus { border: round $accent; }
    Gallery Grid { grid-gutter: 0; height: 1fr; }
    Gallery #gallery-empty { color: $text-muted; padding: 1 2; width: 1fr; }
    """

    BINDINGS = [
        Binding("left", "move(-1, 0)", "previous", show=False),
        Binding("right", "move(1, 0)", "next", show=False),
        Binding("up", "move(0, -1)", "row up", show=False),
        Binding("down", "move(0, 1)", "row down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "jump(0)", "first", show=False),
        Binding("end", "jump(-1)", "last", show=False),
        Binding("enter", "open", "Open", id="gallery.open", tooltip="Open the image in the viewer"),
        Binding("o", "toggle_order", "Sort", id="gallery.sort", tooltip="By score / by time"),
        Binding(
            "s",
            "cycle_scorer",
            "Scorer",
            id="gallery.scorer",
            tooltip="Sort by CLIP score (text agreement) / PickScore (human preference)",
        ),
        Binding(
            "h",
            "toggle_hidden",
            "Hidden",
            id="gallery.hidden",
            tooltip="Show or hide images a best-of run set aside",
        ),
        Binding("g", "grid", "Grid", id="gallery.grid", tooltip="The grid of the image's sweep"),
    ]

    cursor: reactive[int] = reactive(0)

    class Selected(Message):
        """The cursor moved to an image."""

        def __init__(self, record: ImageRecord) -> None:
            super().__init__()
            self.record = record

    class Opened(Message):
        """Enter was pressed on an image."""

        def __init__(self, record: ImageRecord) -> None:
            super().__init__()
            self.record = record

    class ScorerChosen(Message):
        """The gallery sorts by another scorer; `missing`: images that have no such score."""

        def __init__(self, scorer: ScorerName, missing: tuple[str, ...]) -> None:
            super().__init__()
            self.scorer = scorer
            self.missing = missing

    class GridWanted(Message):
        """`g` on an image that is a sweep's cell: its grid is wanted."""

        def __init__(self, record: ImageRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, drawing: ImageDrawing, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawing = drawing
        self.order = GalleryOrder()
        self._records: list[ImageRecord] = []  # what is shown, in order
        self._folder = Path(".")
        self._thumbs = ThumbnailCache()
        self._grid_shown: bool | None = False  # whether the footer has `g` (a sweep cell)
        self._columns = 1
        self._rows = 1
        self._top = 0  # index of the first record in view
        self.border_title = "Gallery"

    def compose(self) -> ComposeResult:
        yield Label("No images yet: write a prompt and press ctrl+g.", id="gallery-empty")
        yield Grid()

    @property
    def records(self) -> list[ImageRecord]:
        """The records in display order."""
        return list(self._records)

    @property
    def selected(self) -> ImageRecord | None:
        """The record under the cursor."""
        return self._records[self.cursor] if self._records else None

    def set_records(self, records: list[ImageRecord], folder: Path) -> None:
        """Show a session's records (given oldest first, as stored), images under `folder`."""
        self.order = GalleryOrder(
            records=list(records), mode=self.order.mode, show_hidden=self.order.show_hidden
        )
        self._folder = folder
        self._reorder(follow=None)

    def add(self, record: ImageRecord) -> None:
        """A new image landed: the cursor follows it to wherever it sorts."""
        self.order.add(record)
        self._reorder(follow=record.file)

    def update(self, records: list[ImageRecord]) -> None:
        """Records changed (a CLIP score arrived, best-of hid some); the order follows."""
        self.order.replace(records)
        self._reorder(follow=self.selected.file if self.selected else None)

    def rank_by_text(self, text: str | None, scores: dict[str, float]) -> None:
        """Rank by scores against `text` (None: back to each image's own prompt)."""
        self.order.text = text
        self.order.text_scores = dict(scores) if text is not None else {}
        self.order.mode = "score"
        self._reorder(follow=None, to_top=True)

    def forget_image(self, file: str) -> None:
        """An image was deleted."""
        self._thumbs.forget(self._folder / file)
        self.order.remove(file)
        self._reorder(follow=None)

    def action_toggle_order(self) -> None:
        self.order.mode = "time" if self.order.mode == "score" else "score"
        self._reorder(follow=self.selected.file if self.selected else None)

    def action_cycle_scorer(self) -> None:
        scorer = self.order.next_scorer()
        self._reorder(follow=self.selected.file if self.selected else None)
        self.post_message(self.ScorerChosen(scorer, self.unscored()))

    def unscored(self, files: set[str] | None = None) -> tuple[str, ...]:
        """Images (of `files`, else all) without the score the gallery sorts by."""
        return tuple(
            r.file
            for r in self.order.records
            if (files is None or r.file in files) and r.score_by(self.order.sorted_by) is None
        )

    def action_toggle_hidden(self) -> None:
        self.order.show_hidden = not self.order.show_hidden
        self._reorder(follow=self.selected.file if self.selected else None)

    def _reorder(self, follow: str | None, to_top: bool = False) -> None:
        self._records = self.order.shown()
        index = next((i for i, r in enumerate(self._records) if r.file == follow), None)
        if to_top or (index is None and follow is not None):
            index = 0
        target = min(index if index is not None else self.cursor, max(0, len(self._records) - 1))
        self._top = min(self._top, target)
        if target == self.cursor:
            self.watch_cursor(target, target)
        else:
            self.cursor = target
        self._update_title()

    def _update_title(self) -> None:
        if self.order.text is not None:
            self.border_title = f"Gallery · ranked by {self.order.text!r}"
        elif self.order.mode == "score":
            label = label_of(self.order.sorted_by)
            note = " (demo: CLIP stands in for PickScore)" if self.order.stands_in() else ""
            self.border_title = f"Gallery · best {label} first{note}"
        else:
            self.border_title = "Gallery · newest first"

    async def on_resize(self, event: Resize) -> None:
        columns = max(1, (event.size.width - 2) // SLOT_WIDTH)
        rows = max(1, (event.size.height - 2) // SLOT_HEIGHT)
        if (columns, rows) != (self._columns, self._rows) or not self.query(Slot):
            self._columns, self._rows = columns, rows
            grid = self.query_one(Grid)
            grid.styles.grid_size_columns = columns
            await grid.remove_children()
            await grid.mount_all(Slot(self._drawing) for _ in range(columns * rows))
            self._refresh_view()

    def watch_cursor(self, _old: int, new: int) -> None:
        page = self._columns * self._rows
        if new < self._top:
            self._top = new - new % self._columns
        elif new >= self._top + page:
            self._top = new - new % self._columns - (self._rows - 1) * self._columns
        self._refresh_view()
        if self._records:
            self.post_message(self.Selected(self._records[new]))
        # Only when `g` comes or goes: a refresh rebuilds the footer and lays the screen out
        # again, which at every new image was felt in the prompt while generating.
        grid = self.check_action("grid", ())
        if grid != self._grid_shown:
            self._grid_shown = grid
            self.refresh_bindings()

    def _refresh_view(self) -> None:
        self.query_one("#gallery-empty").display = not self._records
        count = len(self._records)
        for offset, slot in enumerate(self.query(Slot)):
            index = self._top + offset
            if index < count:
                record = self._records[index]
                slot.display = True
                if slot.file != record.file:
                    thumbnail = self._thumbs.get(self._folder / record.file)
                else:
                    thumbnail = None  # unchanged: not read again
                slot.show(record.file, thumbnail, caption(record, self.order.score_of(record)))
                slot.set_class(index == self.cursor, "-cursor")
            else:
                slot.display = False
        hidden = sum(r.hidden for r in self.order.records)
        extra = f" · {hidden} hidden" if hidden and not self.order.show_hidden else ""
        if self.order.text is None and self.order.sorted_by != "clip":
            unscored = sum(self.order.score_of(r) is None for r in self._records)
            extra += f" · {unscored} without {label_of(self.order.sorted_by)}" if unscored else ""
        self.border_subtitle = f"{self.cursor + 1}/{count}{extra}" if count else extra.strip(" ·")

    def action_move(self, dx: int, dy: int) -> None:
        if self._records:
            target = self.cursor + dx + dy * self._columns
            self.cursor = min(max(0, target), len(self._records) - 1)

    def action_page(self, direction: int) -> None:
        self.action_move(0, direction * self._rows)

    def action_jump(self, where: int) -> None:
        if self._records:
            self.cursor = 0 if where == 0 else len(self._records) - 1

    def action_open(self) -> None:
        if self._records:
            self.post_message(self.Opened(self._records[self.cursor]))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "grid":
            return self.selected is not None and self.selected.sweep is not None
        return True

    def action_grid(self) -> None:
        if self.selected is not None and self.selected.sweep is not None:
            self.post_message(self.GridWanted(self.selected))
