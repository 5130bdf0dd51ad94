"""A training run's checkpoints ranked by their mean score over a comparison's cells; `e` keeps
the chosen one as a LoRA of the session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

if TYPE_CHECKING:
    from genai_tui.jobs.checkpoints import CheckpointScore


class CheckpointRanking(DataTable[str]):
    """One row per checkpoint, best first; the best is marked ★."""

    DEFAULT_CSS = """
    CheckpointRanking {
        height: auto;
        max-height: 9;
        display: none;
    }
    CheckpointRanking.-shown {
        display: block;
    }
    """

    BINDINGS = [
        Binding("e", "export", "Export as LoRA", tooltip="Keep this checkpoint as a session LoRA")
    ]

    @dataclass
    class Export(Message):
        """Keep checkpoint `step` of run `run` as a LoRA."""

        run: str
        step: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.run = ""
        self.ranked: list[CheckpointScore] = []

    def on_mount(self) -> None:
        self.add_columns("", "step", "CLIP (mean)", "cells")

    def show(self, run: str, ranked: list[CheckpointScore]) -> None:
        """Fill the table for `run` (best first) and show it."""
        self.run, self.ranked = run, ranked
        self.clear()
        for place, checkpoint in enumerate(ranked):
            mark = "★ best" if place == 0 and checkpoint.score is not None else ""
            score = f"{checkpoint.score:.2f}" if checkpoint.score is not None else "-"
            self.add_row(mark, str(checkpoint.step), score, str(checkpoint.cells))
        self.border_title = f"checkpoints of {run}: e exports the chosen one as a LoRA"
        self.add_class("-shown")

    @property
    def chosen(self) -> CheckpointScore | None:
        """The checkpoint under the cursor."""
        if not self.ranked or not 0 <= self.cursor_row < len(self.ranked):
            return None
        return self.ranked[self.cursor_row]

    def action_export(self) -> None:
        """Ask the screen to export the chosen checkpoint."""
        if (chosen := self.chosen) is not None:
            self.post_message(self.Export(self.run, chosen.step))
