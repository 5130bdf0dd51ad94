"""The log panel: what the worker does — model loading, jobs, warnings, errors."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.widgets import RichLog

STYLES = {"info": "", "ok": "green", "warning": "yellow", "error": "bold red", "detail": "dim"}


class LogPanel(RichLog):
    """A scrolling, timestamped log; ctrl+l hides and shows it."""

    DEFAULT_CSS = """
    LogPanel { height: 8; border-top: solid $primary; background: $surface; }
    LogPanel.hidden { display: none; }
    """

    clock: Callable[[], str] = staticmethod(lambda: time.strftime("%H:%M:%S"))
    """The time shown on each line (tests pin it, so snapshots stay stable)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, max_lines=2000)

    def add(self, message: str, level: str = "info") -> None:
        """Write one line (or a block, for tracebacks) at a level: info, ok, warning, error."""
        line = Text(f"{self.clock()} ", style="dim")
        line.append(message, style=STYLES.get(level, ""))
        self.write(line)
