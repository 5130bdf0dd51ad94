"""Show what another process adds to the open session (e.g. `genai-tui train` under nohup).

Every few seconds the app asks the store whether session.json changed under it; when it did,
the gallery and the LoRA list are shown again from the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genai_tui.jobs.loras import session_loras
from genai_tui.session.store import SessionError
from genai_tui.ui.widgets.gallery import Gallery
from genai_tui.ui.widgets.lora_panel import LoraPanel

if TYPE_CHECKING:
    from genai_tui.ui.app import GenaiApp

WATCH_SECONDS = 2.0


class SessionWatch:
    """Checks the open session on a timer; a file it cannot read is reported once."""

    def __init__(self, app: GenaiApp) -> None:
        self.app = app
        self._last_error = ""

    def check(self) -> None:
        """Show the session again if another process changed it since the last check."""
        app, store = self.app, self.app.store
        if store is None:
            return
        try:
            changed = store.take_in_changes()
        except SessionError as error:  # e.g. the other process left a file we cannot read
            if str(error) != self._last_error:
                self._last_error = str(error)
                app.log_line(str(error), "warning")
            return
        if not changed:
            return
        session = store.session
        app.query_one(Gallery).set_records(session.images, store.path)
        app.query_one(LoraPanel).refresh_loras(session_loras(store))
        app.log_line("the session changed on disk (another genai-tui process): shown again")
