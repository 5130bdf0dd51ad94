"""The multi-line prompt editor, with prompt history on up/down at its first and last line."""

from __future__ import annotations

from textual.events import Key
from textual.widgets import TextArea

from genai_tui.session.history import remembered


class PromptEditor(TextArea):
    """A TextArea that walks the session's prompt history when the cursor is at an edge.

    Up on the first line shows the previous prompt, down on the last line the next one; the
    text being typed is kept as the newest entry, so walking back and forth loses nothing.
    """

    DEFAULT_CSS = """
    PromptEditor { height: 3; background: $boost; margin-bottom: 1; }
    PromptEditor:focus { background: $surface-lighten-1; }
    """

    def __init__(self, text: str = "", *, id: str | None = None, placeholder: str = "") -> None:
        super().__init__(
            text,
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,  # the editor column's border already frames it
        )
        self.placeholder = placeholder
        self.prompt_history: list[str] = []
        self._position: int | None = None  # index into history while walking it
        self._draft = ""

    def set_history(self, history: list[str]) -> None:
        """Replace the history (oldest first), e.g. when a session is opened."""
        self.prompt_history = list(history)
        self._position = None

    def remember(self, prompt: str) -> None:
        """Add a prompt to the end of the history, by the session's own rule."""
        self.prompt_history = remembered(self.prompt_history, prompt)
        self._position = None

    def _walk(self, direction: int) -> bool:
        if not self.prompt_history:
            return False
        if self._position is None:
            if direction > 0:
                return False
            self._draft = self.text
            self._position = len(self.prompt_history)
        target = self._position + direction
        if target < 0:
            return True  # at the oldest: stay, but swallow the key
        if target >= len(self.prompt_history):
            self._position = None
            self.load_text(self._draft)
        else:
            self._position = target
            self.load_text(self.prompt_history[target])
        self.move_cursor(self.document.end if direction > 0 else (0, 0))
        return True

    async def _on_key(self, event: Key) -> None:
        row, _ = self.cursor_location
        at_top = row == 0 and event.key == "up"
        at_bottom = row == self.document.line_count - 1 and event.key == "down"
        if (at_top and self._walk(-1)) or (at_bottom and self._walk(1)):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)
