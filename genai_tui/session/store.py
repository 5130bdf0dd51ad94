"""Session folders on disk: open, save, add and trash images, list what is there.

A session lives in `<root>/<name>/` (see ARCHITECTURE.md, "Sessions"). `session.json` is only
ever replaced whole and atomically; a file this version cannot read is reported and left as it is.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import ValidationError

from genai_tui.session.history import remembered
from genai_tui.session.models import (
    SCHEMA_VERSION,
    EditorState,
    ImageRecord,
    LoraRecord,
    Session,
    TrainRun,
    now_iso,
)
from genai_tui.session.pngmeta import PngRecordError, replace_png_record, save_png, write_atomically
from genai_tui.session.sync import locked, merge, stamp

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
_NUMBERED = re.compile(r"^(\d{4,})-")


class SessionError(Exception):
    """A session that cannot be opened, read or saved; str() is one line for the user."""

    def __init__(self, message: str) -> None:
        # Keep it to one line whatever the cause (pydantic and OS messages can hold newlines).
        super().__init__(" ".join(message.split()))


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


def read_session(root: Path, name: str) -> Session | None:
    """The session stored at `<root>/<name>/session.json`, None when there is none."""
    file = root / name / SESSION_FILE
    prefix = f'session "{name}": {SESSION_FILE}'
    where = f"left untouched at {file}"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise SessionError(f"{prefix} is not UTF-8 text: {where}") from None
    except OSError as e:
        raise SessionError(f"{prefix} cannot be read ({e.strerror or e}): {where}") from e
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as e:
        raise SessionError(f"{prefix} is not valid JSON (line {e.lineno}): {where}") from None
    if not isinstance(data, dict):
        raise SessionError(f"{prefix} does not hold a JSON object: {where}")
    # Checked before validation: a newer file may fail our model only because it is newer.
    version = data.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise SessionError(
            f"{prefix} was written by a newer genai-tui (schema {version}, this version reads "
            f"up to {SCHEMA_VERSION}): {where}"
        )
    try:
        session = Session.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "top level"
        raise SessionError(
            f"{prefix} is not a valid session ({loc}: {first['msg']}): {where}"
        ) from None
    # The folder name is the session's name, even if the folder was renamed by hand.
    session.name = name
    return session


class SessionStore:
    """One open session; every method is safe to call from the UI thread and workers at once."""

    def __init__(self, root: Path, name: str, session: Session) -> None:
        """Use `SessionStore.open`; this only wires up an already-read session."""
        self._root = root
        self._name = name
        self._session = session
        self._lock = threading.RLock()
        # The session.json version our copy matches: another process's write changes it.
        self._stamp = stamp(self.path / SESSION_FILE)
        self._local_changes = False  # editor, history or model changed since the last write
        self._depth = 0  # nesting of _changing() blocks on this thread
        # Times another process's writes were taken in, and how many take_in_changes reported.
        self._taken_in = self._reported = 0
        # Numbers handed to add_image calls still writing their PNG, so a second caller
        # never picks the same one.
        self._reserved: set[int] = set()

    @classmethod
    def open(cls, root: Path, name: str, *, create: bool = True) -> SessionStore:
        """Open session `name` under `root`.

        A session.json that is not JSON, not a valid session or of a newer schema raises
        SessionError and is never changed. A missing session raises SessionError unless
        `create`; then a new one is kept in memory and nothing is written before `save()`.
        """
        validate_name(name)
        root = Path(root)
        session = read_session(root, name)
        if session is None:
            if not create:
                raise SessionError(f'session "{name}" does not exist in {root}')
            session = Session(name=name)
        return cls(root, name, session)

    @property
    def name(self) -> str:
        """The session's name (its folder's name)."""
        return self._name

    @property
    def path(self) -> Path:
        """The session folder."""
        return self._root / self._name

    @property
    def session(self) -> Session:
        """A deep copy of the session: changing it changes nothing here."""
        with self._lock:
            return self._session.model_copy(deep=True)

    def save(self) -> None:
        """Write session.json atomically (creating the folder if needed), with whatever other
        processes recorded meanwhile."""
        with self._changing():
            pass

    def take_in_changes(self) -> bool:
        """Whether another process's writes came in since the last call (re-reading
        session.json now if it changed). Cheap when nothing did: a UI calls it on a timer.
        """
        with self._lock:
            if stamp(self.path / SESSION_FILE) not in (None, self._stamp):
                with locked(self.path):
                    self._refresh()
            changed = self._taken_in != self._reported
            self._reported = self._taken_in
            return changed

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Change the session: under both locks, on top of the file as it is now; written at
        the end of the outermost block (not when it raises)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                with locked(self.path):
                    self._depth = 1
                    self._refresh()
                    yield
                    self._write()
            except OSError as e:
                raise SessionError(self._os_message(f"cannot save {SESSION_FILE}", e)) from e
            finally:
                self._depth = 0

    def _refresh(self) -> None:
        """Take in what another process wrote since our last read or write."""
        now = stamp(self.path / SESSION_FILE)
        if now is None or now == self._stamp:
            return
        theirs = read_session(self._root, self._name)
        if theirs is not None:
            self._session = merge(self._session, theirs, self._local_changes)
            self._taken_in += 1
        self._stamp = now

    def _write(self) -> None:
        self._session.updated = now_iso()
        payload = (self._session.model_dump_json(indent=2) + "\n").encode("utf-8")
        write_atomically(self.path / SESSION_FILE, lambda f: f.write(payload))
        self._stamp = stamp(self.path / SESSION_FILE)
        self._local_changes = False

    def add_image(
        self,
        record: ImageRecord,
        image: Image.Image,
        app_version: str,
        lora_hashes: dict[str, str] | None = None,
        sampler_names: tuple[str, str] | None = None,
    ) -> ImageRecord:
        """Save a generated image as `images/NNNN-<seed>.png` and record it; returns the record.

        `record.file` is ignored and set here. Numbers continue after the highest one ever seen
        in images/, trash/ and the records, so a number never points at two images.
        `sampler_names`: A1111's "Sampler" and "Schedule type" for the PNG's text (see
        `a1111_parameters`)."""
        with self._lock:
            number = self._next_number()
            self._reserved.add(number)
        final = record.model_copy(deep=True)
        final.file = f"{IMAGES_DIR}/{number:04d}-{record.seed}.png"
        try:
            # Encoding a PNG takes a while; the lock stays free for the UI meanwhile.
            if lora_hashes is None and final.loras:
                # A1111's "Lora hashes" from the record's own LoRAs (those with a known hash).
                lora_hashes = {use.name: use.hash for use in final.loras if use.hash}
            save_png(image, self.path / final.file, final, app_version, lora_hashes, sampler_names)
        except BaseException as e:
            with self._lock:
                self._reserved.discard(number)
            if isinstance(e, OSError):
                raise SessionError(self._os_message(f"cannot save {final.file}", e)) from e
            raise
        # PNG first, then session.json: a crash in between leaves a PNG that carries its own
        # record (read_png_record), and its number is still taken when numbering scans images/.
        with self._changing():
            self._reserved.discard(number)
            self._session.images.append(final)
        return final.model_copy(deep=True)

    def update_image(self, file: str, **changes: Any) -> ImageRecord:
        """Change fields of an image's record (e.g. clip_score, clip_model) in both places.

        Rewrites the PNG's genai-tui chunk atomically, then saves session.json. Raises
        SessionError for an unknown file, ValueError for a field ImageRecord does not have.
        """
        # An unknown name is a typo, not an extra field to keep. ("file" cannot arrive here: it
        # is the first parameter, so the record's identity never changes.)
        refused = sorted(k for k in changes if k not in ImageRecord.model_fields)
        if refused:
            raise ValueError(f"cannot update image record field(s): {', '.join(refused)}")
        with self._changing():
            index = self._index_of(file)
            current = self._session.images[index]
            updated = ImageRecord.model_validate({**current.model_dump(), **changes})
            png = self._image_path(updated.file)
            try:
                replace_png_record(png, updated)
            except FileNotFoundError as e:
                raise SessionError(f'session "{self._name}": {file} is missing from disk') from e
            except PngRecordError as e:
                raise SessionError(f'session "{self._name}": {e}') from e
            except OSError as e:
                raise SessionError(self._os_message(f"cannot update {file}", e)) from e
            self._session.images[index] = updated
        return updated.model_copy(deep=True)

    def trash_image(self, file: str) -> Path:
        """Move an image to `<session>/trash/`, drop its record and save; returns the new path.

        Nothing is ever deleted. When the PNG is already gone, only the record is removed.
        """
        with self._changing():
            index = self._index_of(file)
            source = self._image_path(self._session.images[index].file)
            trash = self.path / TRASH_DIR
            target = trash / source.name
            # A file of the same name already in the trash (e.g. put back by hand) is kept.
            count = 1
            while target.exists():
                target = trash / f"{source.stem}.{count}{source.suffix}"
                count += 1
            if source.exists():
                try:
                    trash.mkdir(parents=True, exist_ok=True)
                    os.replace(source, target)
                except OSError as e:
                    raise SessionError(self._os_message(f"cannot move {file} to trash", e)) from e
            del self._session.images[index]
        return target

    def set_editor(self, editor: EditorState) -> None:
        """Remember the editor's values (in memory; call save())."""
        with self._lock:
            self._session.editor = editor.model_copy(deep=True)
            self._local_changes = True

    def remember_prompt(self, prompt: str) -> None:
        """Put a prompt at the end of the history, once (in memory; call save()).

        The rule is history.remembered's: empty prompts are ignored, an identical earlier entry
        moves to the end, only the newest PROMPT_HISTORY_LIMIT are kept.
        """
        if not prompt.strip():
            return
        with self._lock:
            self._session.prompt_history = remembered(self._session.prompt_history, prompt)
            self._local_changes = True

    def set_model(self, ref: str) -> None:
        """Remember the model reference last used (in memory; call save())."""
        with self._lock:
            self._session.model = ref
            self._local_changes = True

    def add_lora(self, record: LoraRecord) -> LoraRecord:
        """Record a LoRA (replacing one of the same name) and save; returns a copy."""
        with self._changing():
            kept = [lora for lora in self._session.loras if lora.name != record.name]
            self._session.loras = [*kept, record.model_copy(deep=True)]
        return record.model_copy(deep=True)

    def lora(self, name: str) -> LoraRecord | None:
        """The session's LoRA called `name`, if any (a copy)."""
        with self._lock:
            found = next((lora for lora in self._session.loras if lora.name == name), None)
            return found.model_copy(deep=True) if found else None

    def save_run(self, run: TrainRun) -> TrainRun:
        """Add or replace (by name) a training run's record, stamp it updated, and save."""
        with self._changing():
            stamped = run.model_copy(deep=True, update={"updated": now_iso()})
            runs = self._session.runs
            index = next((i for i, old in enumerate(runs) if old.name == run.name), None)
            if index is None:
                runs.append(stamped)
            else:
                runs[index] = stamped
        return stamped.model_copy(deep=True)

    def run(self, name: str) -> TrainRun | None:
        """The training run called `name`, if any (a copy)."""
        with self._lock:
            found = next((run for run in self._session.runs if run.name == name), None)
            return found.model_copy(deep=True) if found else None

    def _index_of(self, file: str) -> int:
        for i, image in enumerate(self._session.images):
            if image.file == file:
                return i
        raise SessionError(f'session "{self._name}" has no image {file}')

    def _image_path(self, file: str) -> Path:
        # session.json is user-editable: a record must not reach outside its session folder.
        path = (self.path / file).resolve()
        if not path.is_relative_to(self.path.resolve()):
            raise SessionError(f'session "{self._name}": image path {file} is outside the session')
        return path

    def _next_number(self) -> int:
        highest = max(self._reserved, default=0)
        for image in self._session.images:
            highest = max(highest, _number_of(Path(image.file).name))
        for folder in (self.path / IMAGES_DIR, self.path / TRASH_DIR):
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for file_name in names:
                highest = max(highest, _number_of(file_name))
        return highest + 1

    def _os_message(self, what: str, error: OSError) -> str:
        return f'session "{self._name}": {what}: {error.strerror or error}'


def _number_of(file_name: str) -> int:
    match = _NUMBERED.match(file_name)
    return int(match.group(1)) if match else 0
