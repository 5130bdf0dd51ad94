"""What goes wrong between a genai-tui process and its daemon, in one line each."""

from __future__ import annotations


class DaemonUnavailable(Exception):
    """No daemon could be reached or started; str() is one line, `hint` what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class DaemonError(Exception):
    """The daemon refused a request; str() is its one line, `hint` what to do."""

    def __init__(self, message: str, hint: str = "", *, idle_other_version: bool = False) -> None:
        super().__init__(message)
        self.hint = hint
        self.idle_other_version = idle_other_version
        """The daemon speaks another protocol version and runs no job: safe to replace."""
