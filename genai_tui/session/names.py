"""Where sessions live and what a session may be called: plain rules, no models loaded.

The UI and the CLI check a name or a sessions folder before anything heavier is imported.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from genai_tui.session.errors import SessionError

SESSIONS_DIR_ENV = "GENAI_TUI_SESSIONS_DIR"
"""Environment variable naming the sessions root when `--sessions-dir` is not given."""

SESSION_FILE = "session.json"
IMAGES_DIR = "images"
TRASH_DIR = "trash"

_NAME = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9 _.\-]{0,63}")
_NAME_RULE = (
    'use 1-64 letters, digits, spaces, "-", "_" or ".", '
    'not starting with "." or a space and not ending with a space'
)


def sessions_root(cli_value: str | Path | None = None) -> Path:
    """The sessions root: the CLI value, else $GENAI_TUI_SESSIONS_DIR, else ./sessions."""
    chosen = cli_value or os.environ.get(SESSIONS_DIR_ENV) or "sessions"
    return Path(chosen).expanduser().resolve()


def validate_name(name: str) -> str:
    """Return `name` if it is a plain session name, else raise SessionError saying what is allowed.

    Names are folder names, never paths: no "/" or "\\", no "." or "..".
    """
    # A trailing space is refused too: "foo " and "foo" would look the same in every list.
    if not _NAME.fullmatch(name) or name.endswith(" "):
        raise SessionError(f"session name {name!r} is not allowed: {_NAME_RULE}")
    return name
