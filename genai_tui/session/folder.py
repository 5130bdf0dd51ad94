"""A session folder's names and layout, and reading session.json.

A file this version cannot read is reported with what is wrong and left exactly as it is; a
model about to be written is first proved to read back (so the store never writes what it
could not open again).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from genai_tui.session.errors import DAMAGED_HINT, OTHER_FOLDER, SessionError, read_hint
from genai_tui.session.models import SCHEMA_VERSION, Session
from genai_tui.session.names import SESSION_FILE


def read_session(root: Path, name: str) -> Session | None:
    """The session stored at `<root>/<name>/session.json`, None when there is none."""
    file = root / name / SESSION_FILE
    prefix = f'session "{name}": {SESSION_FILE}'
    where = f"left untouched at {file}"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise not_a_folder(root, name) from None
    except UnicodeDecodeError:
        raise SessionError(f"{prefix} is not UTF-8 text: {where}", DAMAGED_HINT) from None
    except OSError as e:
        message = f"{prefix} cannot be read ({e.strerror or e}): {where}"
        raise SessionError(message, read_hint(e)) from e
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as e:
        raise SessionError(
            f"{prefix} is not valid JSON (line {e.lineno}): {where}", DAMAGED_HINT
        ) from None
    if not isinstance(data, dict):
        raise SessionError(f"{prefix} does not hold a JSON object: {where}", DAMAGED_HINT)
    # Checked before validation: a newer file may fail our model only because it is newer.
    version = data.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise SessionError(
            f"{prefix} was written by a newer genai-tui (schema {version}, this version reads "
            f"up to {SCHEMA_VERSION}): {where}",
            "open it with that version, or open another session",
        )
    try:
        session = Session.model_validate(data)
    except ValidationError as e:
        raise SessionError(
            f"{prefix} is not a valid session ({first_error(e)}): {where}", DAMAGED_HINT
        ) from None
    # The folder name is the session's name, even if the folder was renamed by hand.
    session.name = name
    return session


def first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "top level"
    return f"{loc}: {first['msg']}"


def not_a_folder(root: Path, name: str) -> SessionError:
    """For a path where a folder should be but a file is."""
    where = root if root.exists() and not root.is_dir() else root / name
    return SessionError(f"{where} is a file, not a folder", f"move it away or {OTHER_FOLDER}")


class Unreadable(SessionError):
    """A value that would be written as something that cannot be read back."""


def prove_readable(model: BaseModel, session: str, what: str) -> None:
    """Raise Unreadable unless `model`'s JSON validates as `model`'s type again.

    Models refuse NaN and infinity, but model_copy(update=...) and model_construct skip
    validation; JSON would hold null there and the file could never be opened again.
    """
    try:
        type(model).model_validate_json(model.model_dump_json())
    except ValidationError as e:
        raise Unreadable(
            f'session "{session}": {what} not saved: a value would not read back '
            f"({first_error(e)})",
            "nothing was written; give a finite number",
        ) from None
