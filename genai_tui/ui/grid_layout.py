"""A sweep's grid as the grid viewer reads it: `grids/<sweep>.json` (jobs/sweep_grid.py).

Plain Python: where each cell is, its file, axes and scores, and which cells are best per row,
per column and per grid, so the viewer marks them as the grid PNG's sidecar says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BEST = "★"
BEST_IN_COLUMN = "▲"
BEST_IN_ROW = "◀"

RANK_NAMES = {"clip": "CLIP score", "pickscore": "PickScore"}
"""How a scorer's name reads in the legend (a scorer not named here reads as itself)."""

CHECKPOINT_LABEL = "Checkpoint"
"""Axes whose label starts with this vary a LoRA's training checkpoint: their cells export."""


class LayoutError(ValueError):
    """The sidecar is missing, unreadable or not a grid layout."""


@dataclass(frozen=True)
class GridCell:
    """One cell: its place (x column, y row, z page), its image file, axes and scores."""

    x: int
    y: int
    z: int
    file: str
    axes: dict[str, str]
    scores: dict[str, float]


@dataclass(frozen=True)
class GridLayout:
    """The whole sweep: its axes, cells and the best cells of every row, column and page."""

    sweep: str
    rank: str
    axis_labels: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    """Each axis's value labels, x first."""
    cells: dict[tuple[int, int, int], GridCell]
    best: tuple[tuple[int, int] | None, ...]
    """Per page: the best (x, y) of the grid."""
    best_in_row: tuple[tuple[tuple[int, int] | None, ...], ...]
    best_in_column: tuple[tuple[tuple[int, int] | None, ...], ...]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(columns, rows, pages): 1 where an axis is absent."""
        sizes = [len(values) for values in self.values] + [1, 1, 1]
        return sizes[0], sizes[1], sizes[2]

    def heads(self, axis: int) -> list[str]:
        """The headings of axis 0 (columns), 1 (rows) or 2 (pages): "CFG scale: 5"."""
        if axis >= len(self.values):
            return [""]
        return [f"{self.axis_labels[axis]}: {value}" for value in self.values[axis]]

    @property
    def rank_name(self) -> str:
        return RANK_NAMES.get(self.rank, self.rank)

    def score(self, cell: GridCell) -> float | None:
        """The cell's score by the sweep's ranking scorer (None: not scored)."""
        return cell.scores.get(self.rank)

    def marks(self, cell: GridCell) -> str:
        """★ best of its page, ▲ best in its column, ◀ best in its row (as many as hold)."""
        place = (cell.x, cell.y)
        found = ""
        if self.best[cell.z] == place:
            found += BEST
        if self.best_in_column[cell.z][cell.x] == place:
            found += BEST_IN_COLUMN
        if self.best_in_row[cell.z][cell.y] == place:
            found += BEST_IN_ROW
        return found

    def caption(self, cell: GridCell) -> str:
        """What a cell says under its picture: its marks and score."""
        score = self.score(cell)
        shown = f"{score:.1f}" if score is not None else "no score"
        return f"{self.marks(cell)} {shown}".strip()

    def legend(self) -> str:
        """The marks explained, and which scorer ranks them."""
        if not any(self.score(cell) is not None for cell in self.cells.values()):
            return f"no cell has a {self.rank_name} yet: nothing is marked best"
        return (
            f"{BEST} best of the grid · {BEST_IN_COLUMN} best in its column · "
            f"{BEST_IN_ROW} best in its row · ranked by {self.rank_name}"
        )

    def ranked(self) -> list[GridCell]:
        """Every cell, best first; cells without a score last, in plan order."""
        order = sorted(self.cells.values(), key=lambda c: (c.z, c.y, c.x))
        return sorted(order, key=lambda c: -s if (s := self.score(c)) is not None else float("inf"))

    def where(self, cell: GridCell) -> str:
        """The cell's axis values in words: "CFG scale 5, Seed 2"."""
        return ", ".join(f"{axis} {value}" for axis, value in cell.axes.items())


def _place(value: Any) -> tuple[int, int] | None:
    return (int(value[0]), int(value[1])) if value is not None else None


def read_layout(path: Path) -> GridLayout:
    """The layout sidecar at `path`; LayoutError says what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayoutError(f"no grid at {path.name}: its sweep has not finished") from None
    except (OSError, ValueError) as error:
        raise LayoutError(f"cannot read the grid {path.name}: {error}") from None
    try:
        cells = {
            (int(c["x"]), int(c["y"]), int(c["z"])): GridCell(
                int(c["x"]),
                int(c["y"]),
                int(c["z"]),
                str(c["file"]),
                {str(k): str(v) for k, v in c["axes"].items()},
                {str(k): float(v) for k, v in c["scores"].items()},
            )
            for c in data["cells"]
        }
        grids = data["grids"]
        layout = GridLayout(
            sweep=str(data["sweep"]),
            rank=str(data["rank"]),
            axis_labels=tuple(str(axis["label"]) for axis in data["axes"]),
            values=tuple(tuple(str(v) for v in axis["values"]) for axis in data["axes"]),
            cells=cells,
            best=tuple(_place(grid["best"]) for grid in grids),
            best_in_row=tuple(tuple(_place(p) for p in grid["best_in_row"]) for grid in grids),
            best_in_column=tuple(
                tuple(_place(p) for p in grid["best_in_column"]) for grid in grids
            ),
        )
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise LayoutError(f"{path.name} is not a genai-tui grid layout ({error!r})") from None
    columns, rows, pages = layout.shape
    if len(cells) != columns * rows * pages or len(layout.best) != pages:
        raise LayoutError(f"{path.name} does not hold every cell of its grid")
    return layout
