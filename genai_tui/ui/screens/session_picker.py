"""The session picker: every session with its image count, last change and a thumbnail."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from genai_tui.session.listing import SessionSummary, list_sessions
from genai_tui.session.store import SessionError, SessionStore
from genai_tui.ui.images import ImageDrawing, ThumbnailCache, show_picture
from genai_tui.ui.widgets.picture import Picture
from genai_tui.words import shown_path


def latest_image(summary: SessionSummary) -> Path | None:
    """The newest image of a session, for its thumbnail."""
    try:
        session = SessionStore.open(summary.path.parent, summary.name, create=False).session
    except Exception:
        return None
    return summary.path / session.images[-1].file if session.images else None


class SessionPicker(ModalScreen[str | None]):
    """Choose a session to open; n starts a new one."""

    DEFAULT_CSS = """
    SessionPicker { align: center middle; }
    SessionPicker > Vertical { width: 90%; max-width: 120; height: 80%; border: thick $accent;
                               background: $surface; }
    SessionPicker Horizontal { height: 1fr; }
    SessionPicker DataTable { width: 2fr; }
    SessionPicker #picker-thumb { width: 1fr; height: 1fr; }
    SessionPicker #picker-help { color: $text-muted; height: 1; }
    """

    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel", id="picker.cancel"),
        Binding("n", "new", "New session", id="picker.new"),
    ]

    def __init__(self, root: Path, drawing: ImageDrawing) -> None:
        super().__init__()
        self._root = root
        self._drawing = drawing
        try:
            self._summaries = list_sessions(root)
            self._problem = ""
        except SessionError as error:  # the sessions folder itself cannot be read
            self._summaries = []
            self._problem = str(error)
        self._thumbs = ThumbnailCache(size=160)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._problem or f"Sessions in {shown_path(self._root)}", id="picker-title")
            with Horizontal():
                yield DataTable(cursor_type="row", zebra_stripes=True)
                yield Picture(self._drawing, id="picker-thumb")
            yield Label("enter open · n new · escape cancel", id="picker-help")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Session", "Images", "Last change")
        for summary in self._summaries:
            images = "?" if summary.error else str(summary.images)
            when = "unreadable" if summary.error else summary.updated.replace("T", " ")[:16]
            table.add_row(summary.name, images, when, key=summary.name)
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        summary = self._summaries[event.cursor_row] if self._summaries else None
        path = latest_image(summary) if summary else None
        show_picture(self.query_one("#picker-thumb"), self._thumbs.get(path) if path else None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        summary = self._summaries[event.cursor_row]
        if summary.error:
            self.notify(f"{summary.name}: {summary.error}", severity="error")
            return
        self.dismiss(summary.name)

    def action_new(self) -> None:
        self.dismiss("")  # the app asks for the new name

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
