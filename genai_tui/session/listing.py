"""The sessions under a root folder, for the session picker and `genai-tui sessions`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from genai_tui.session.errors import OTHER_FOLDER, SessionError
from genai_tui.session.folder import read_session
from genai_tui.session.names import SESSION_FILE, validate_name


@dataclass(frozen=True)
class SessionSummary:
    """One row of the session list."""

    name: str
    path: Path
    images: int
    updated: str
    error: str | None
    """Why the session cannot be opened, or None when it can."""


def _sort_time(updated: str) -> float:
    try:
        moment = datetime.fromisoformat(updated)
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def list_sessions(root: Path) -> list[SessionSummary]:
    """Every folder of `root` holding a session.json, newest first; none for a missing root.

    A session that cannot be read is listed with its error (and its file's time) rather than
    raised, so one bad folder never hides the others. A root that is a file, or that cannot be
    read, raises SessionError: "no sessions" would hide the mistake.
    """
    try:
        folders = [p for p in Path(root).iterdir() if (p / SESSION_FILE).is_file()]
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise SessionError(
            f"the sessions folder {root} is a file, not a folder", OTHER_FOLDER
        ) from None
    except OSError as e:
        raise SessionError(
            f"the sessions folder {root} cannot be read: {e.strerror or e}",
            f"fix its permissions or {OTHER_FOLDER}",
        ) from e
    summaries: list[SessionSummary] = []
    for folder in folders:
        if folder.name.startswith("."):
            continue
        try:
            session = read_session(folder.parent, validate_name(folder.name))
        except SessionError as e:
            try:
                mtime = (folder / SESSION_FILE).stat().st_mtime
            except OSError:
                mtime = 0.0
            updated = datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
            summaries.append(SessionSummary(folder.name, folder, 0, updated, str(e)))
            continue
        if session is not None:
            summaries.append(
                SessionSummary(folder.name, folder, len(session.images), session.updated, None)
            )
    summaries.sort(key=lambda s: s.name)
    summaries.sort(key=lambda s: _sort_time(s.updated), reverse=True)
    return summaries


def most_recent(root: Path) -> str | None:
    """The name of the most recently updated session that can be opened, or None."""
    for summary in list_sessions(root):
        if summary.error is None:
            return summary.name
    return None
