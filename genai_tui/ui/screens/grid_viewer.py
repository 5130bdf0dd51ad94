"""A sweep's grid in the terminal: the cells as pictures, X across, Y down, Z as pages.

The best cell of the grid, of each column and of each row is marked as the sweep's layout
sidecar says (ui/grid_layout.py); `r` lists the cells best first. Enter opens a cell in the
ordinary viewer, `p` puts its parameters in the editor: the screen says what was chosen and the
main screen carries it out, as it does for the viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.dom import DOMNode
from textual.events import Click
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from genai_tui.ui.grid_layout import CHECKPOINT_LABEL, GridCell, GridLayout
from genai_tui.ui.images import ImageDrawing, ThumbnailCache, show_picture
from genai_tui.ui.widgets.picture import Picture

if TYPE_CHECKING:
    from genai_tui.session.models import ImageRecord

MAX_LABEL = 18
"""Columns at most for the row labels (Y values) left of the grid."""
GRID_THUMB_PIXELS = 192
"""A cell's picture is drawn from at most this many pixels a side: a few cells share the
screen, so each is larger than a gallery thumbnail, and over SSH every render resends them."""


@dataclass(frozen=True)
class GridChoice:
    """What the user chose in the grid viewer, for the main screen to carry out."""

    action: Literal["open", "reuse", "export"]
    record: ImageRecord


class GridSlot(Vertical):
    """One cell: its picture and its marks and score."""

    DEFAULT_CSS = """
    GridSlot { border: blank; height: 1fr; width: 1fr; }
    GridSlot.-cursor { border: heavy $accent; }
    GridSlot Picture { height: 1fr; width: 1fr; }
    GridSlot Label { height: 1; width: 1fr; text-align: center; }
    GridSlot.-best Label { color: $warning; text-style: bold; }
    """

    def __init__(self, drawing: ImageDrawing, x: int, y: int) -> None:
        super().__init__(id=f"cell-{x}-{y}")
        self._drawing = drawing
        self.place = (x, y)

    def compose(self) -> ComposeResult:
        yield Picture(self._drawing)
        yield Label("")


class GridScreen(Screen[GridChoice | None]):
    """The grid of one sweep; arrows choose a cell, escape returns."""

    DEFAULT_CSS = """
    GridScreen #grid-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    GridScreen #grid-legend { height: 1; color: $text-muted; padding: 0 1; }
    GridScreen #grid-cells { height: 1fr; grid-gutter: 0; }
    GridScreen .head { width: 1fr; height: 1; text-align: center; text-style: bold;
                       content-align: center middle; }
    GridScreen .row-head { width: 1fr; height: 1fr; content-align: right middle;
                           text-style: bold; padding-right: 1; }
    GridScreen #grid-ranked { height: 1fr; display: none; }
    GridScreen.-ranked #grid-ranked { display: block; }
    GridScreen.-ranked #grid-cells { display: none; }
    GridScreen #grid-selected { height: 1; padding: 0 1; background: $panel; }
    """

    AUTO_FOCUS = None  # the arrows move the grid's selection; the ranked list takes them with r

    BINDINGS = [
        Binding("escape,q", "close", "Back", id="grid.close"),
        Binding("left", "move(-1, 0)", "←", show=False),
        Binding("right", "move(1, 0)", "→", show=False),
        Binding("up", "move(0, -1)", "↑", show=False),
        Binding("down", "move(0, 1)", "↓", show=False),
        Binding("enter", "open", "Open", id="grid.open", tooltip="Open the cell in the viewer"),
        Binding("p", "choose('reuse')", "Reuse parameters", id="grid.reuse_params"),
        Binding("r", "toggle_ranked", "Best first", id="grid.ranked",
                tooltip="List the cells best first (again: the grid)"),
        Binding("],tab", "page(1)", "Next Z", id="grid.next_page", key_display="]"),
        Binding("[,shift+tab", "page(-1)", "Previous Z", id="grid.previous_page",
                key_display="["),
        Binding("e", "export", "Export", id="grid.export",
                tooltip="Export the selected cell's checkpoint"),
    ]  # fmt: skip

    def __init__(
        self,
        layout: GridLayout,
        folder: Path,
        drawing: ImageDrawing,
        records: Sequence[ImageRecord],
        *,
        selected: str | None = None,
    ) -> None:
        """`layout`: read from grids/<sweep>.json; `folder`: the session's; `records`: the
        session's images (a cell whose record is gone shows as missing); `selected`: a cell's
        file to start on (else the best cell)."""
        super().__init__()
        self.sweep = layout
        """The sweep's layout (grids/<sweep>.json)."""
        self._folder = folder
        self._drawing = drawing
        self._records = {record.file: record for record in records}
        self._thumbs = ThumbnailCache(size=GRID_THUMB_PIXELS)
        start = next((c for c in layout.cells.values() if c.file == selected), None)
        if start is None:
            best = layout.best[0] or (0, 0)
            start = layout.cells[(best[0], best[1], 0)]
        self.column, self.row, self.page = start.x, start.y, start.z

    @property
    def cell(self) -> GridCell:
        """The selected cell."""
        return self.sweep.cells[(self.column, self.row, self.page)]

    def compose(self) -> ComposeResult:
        layout = self.sweep
        columns, rows, _pages = layout.shape
        yield Static(id="grid-title")
        yield Static(layout.legend(), id="grid-legend")
        y_heads = layout.heads(1)  # [""] with no Y axis
        label_width = min(MAX_LABEL, max(len(h) for h in y_heads) + 1) if y_heads[0] else 1
        with Grid(id="grid-cells") as grid:
            grid.styles.grid_size_columns = columns + 1
            grid.set_styles(
                f"grid-columns: {label_width} {' '.join(['1fr'] * columns)};"
                f"grid-rows: 1 {' '.join(['1fr'] * rows)};"
            )
            yield Label("", classes="head")
            for head in layout.heads(0):
                yield Label(head, classes="head")
            for y in range(rows):
                yield Label(y_heads[y] if y < len(y_heads) else "", classes="row-head")
                for x in range(columns):
                    yield GridSlot(self._drawing, x, y)
        ranked = OptionList(id="grid-ranked")
        ranked.can_focus = False  # until r shows it
        yield ranked
        yield Static(id="grid-selected")
        yield Footer()

    def on_mount(self) -> None:
        self._show_page()

    # -- showing ------------------------------------------------------------------------------

    def _show_page(self) -> None:
        layout = self.sweep
        pages = layout.shape[2]
        title = f"Sweep {layout.sweep}"
        if pages > 1:
            title += f" · {layout.heads(2)[self.page]} ({self.page + 1}/{pages}: [ ] or tab)"
        self.query_one("#grid-title", Static).update(title)
        for slot in self.query(GridSlot):
            cell = layout.cells[(slot.place[0], slot.place[1], self.page)]
            missing = cell.file not in self._records
            thumb = None if missing else self._thumbs.get(self._folder / cell.file)
            show_picture(slot.query_one(Picture), thumb)
            text = "missing" if missing or thumb is None else layout.caption(cell)
            slot.query_one(Label).update(text)
            slot.set_class(layout.best[self.page] == slot.place, "-best")
        self._fill_ranked()
        self._show_selection()

    def _fill_ranked(self) -> None:
        ranked = self.query_one("#grid-ranked", OptionList)
        ranked.clear_options()
        layout = self.sweep
        for n, cell in enumerate(layout.ranked(), 1):
            score = layout.score(cell)
            shown = f"{score:7.2f}" if score is not None else "      —"
            text = f"{n:>3}. {shown}  {layout.marks(cell):<3} {layout.where(cell)} · {cell.file}"
            ranked.add_option(Option(text, id=f"{cell.x}-{cell.y}-{cell.z}"))

    def _show_selection(self) -> None:
        for slot in self.query(GridSlot):
            slot.set_class(slot.place == (self.column, self.row), "-cursor")
        cell = self.cell
        score = self.sweep.score(cell)
        scored = f" · {self.sweep.rank_name} {score:.2f}" if score is not None else ""
        marks = self.sweep.marks(cell)
        self.query_one("#grid-selected", Static).update(
            f"{marks + ' ' if marks else ''}{self.sweep.where(cell)}{scored} · {cell.file}"
        )
        self.refresh_bindings()

    # -- keys ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":
            return self.sweep.shape[2] > 1  # False: not in the footer
        if action == "export":
            return self._is_checkpoint(self.cell)
        return True

    def action_move(self, dx: int, dy: int) -> None:
        columns, rows, _pages = self.sweep.shape
        self.column = min(max(0, self.column + dx), columns - 1)
        self.row = min(max(0, self.row + dy), rows - 1)
        self._show_selection()

    def on_click(self, event: Click) -> None:
        """A click selects a cell; a double click opens it."""
        node: DOMNode | None = event.widget
        while node is not None and not isinstance(node, GridSlot):
            node = node.parent
        if isinstance(node, GridSlot):
            self.column, self.row = node.place
            self._show_selection()
            if event.chain == 2:
                self.action_open()

    def action_page(self, direction: int) -> None:
        pages = self.sweep.shape[2]
        if pages > 1:
            self.page = (self.page + direction) % pages
            self._show_page()

    def action_toggle_ranked(self) -> None:
        self.toggle_class("-ranked")
        ranked = self.query_one("#grid-ranked", OptionList)
        ranked.can_focus = self.has_class("-ranked")
        if self.has_class("-ranked"):
            ranked.highlighted = next(
                (i for i, c in enumerate(self.sweep.ranked()) if c == self.cell), 0
            )
            ranked.focus()
        else:
            self.set_focus(None)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        x, y, z = (int(n) for n in str(event.option.id).split("-"))
        self.column, self.row = x, y
        if z != self.page:  # the list holds every page: follow it to the cell's
            self.page = z
            self._show_page()
        else:
            self._show_selection()

    def on_option_list_option_selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_open()

    def _record(self) -> ImageRecord | None:
        record = self._records.get(self.cell.file)
        if record is None:
            self.notify(f"{self.cell.file} is not in the session any more", severity="warning")
        return record

    def action_open(self) -> None:
        if (record := self._record()) is not None:
            self.dismiss(GridChoice("open", record))

    def action_choose(self, action: Literal["reuse"]) -> None:
        if (record := self._record()) is not None:
            self.dismiss(GridChoice(action, record))

    def action_export(self) -> None:
        if not self._is_checkpoint(self.cell):
            self.notify("this sweep has no checkpoint axis: nothing to export", severity="warning")
            return
        if (record := self._record()) is not None:
            self.dismiss(GridChoice("export", record))

    @staticmethod
    def _is_checkpoint(cell: GridCell) -> bool:
        return any(label.startswith(CHECKPOINT_LABEL) for label in cell.axes)

    def action_close(self) -> None:
        self.dismiss(None)
