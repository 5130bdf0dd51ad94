"""The help screen (f1): every knob explained, and the keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Markdown

from genai_tui.ui.help_text import HELP_MARKDOWN


class HelpScreen(ModalScreen[None]):
    """Scrollable help; escape, q or f1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen Markdown { width: 90%; max-width: 110; height: 90%; border: round $accent;
                          overflow-y: auto; background: $surface; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape,q,f1", "app.pop_screen", "Close", id="help.close"),
    ]

    def __init__(self, markdown: str = HELP_MARKDOWN) -> None:
        super().__init__()
        self._markdown = markdown

    def compose(self) -> ComposeResult:
        yield Markdown(self._markdown)

    def on_mount(self) -> None:
        self.query_one(Markdown).focus()
