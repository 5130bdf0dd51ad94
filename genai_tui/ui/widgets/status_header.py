"""The header: session name, model, device and what the worker is doing."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class StatusHeader(Widget):
    """One line at the top; every field is a reactive the app sets from worker events."""

    DEFAULT_CSS = """
    StatusHeader { dock: top; height: 1; background: $panel; color: $text; }
    """

    session: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    device: reactive[str] = reactive("")
    state: reactive[str] = reactive("starting")

    def render(self) -> Text:
        text = Text(" genai-tui ", style="bold reverse")
        text.append(f"  session: {self.session}", style="bold")
        text.append(f"  model: {self.model or '…'}")
        if self.device:
            text.append(f" ({self.device})", style="dim")
        busy = self.state not in {"idle", "ready"}
        text.append(f"  ● {self.state}", style="yellow" if busy else "green")
        return text
