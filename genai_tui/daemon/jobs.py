"""The one way a TUI or a command gets its jobs client: the daemon's, or this process's."""

from __future__ import annotations

import os
from pathlib import Path

from genai_tui.daemon.api import JobsClient, Listener

IN_PROCESS_ENV = "GENAI_TUI_IN_PROCESS"
"""Set to 1 to run jobs in the calling process by default (as `--in-process` does)."""


def in_process_default() -> bool:
    """Whether jobs run in-process unless asked otherwise (the environment says so)."""
    return os.environ.get(IN_PROCESS_ENV, "") not in {"", "0"}


def open_jobs(
    root: Path, listener: Listener | None, *, in_process: bool, watch_all: bool = True
) -> JobsClient:
    """A jobs client for `root`, not yet started (`start()` connects or starts the worker)."""
    if in_process:
        from genai_tui.daemon.local import InProcessJobs

        return InProcessJobs(root, listener)
    from genai_tui.daemon.client import DaemonClient

    return DaemonClient(root, listener, watch_all=watch_all)
