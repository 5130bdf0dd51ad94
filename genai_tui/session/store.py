"""Session folders on disk: open, save, add and trash images, list what is there.

A session lives in `<root>/<name>/` (see ARCHITECTURE.md, "Sessions"). `session.json` is only
ever replaced whole and atomically; a file this version cannot read is reported and left as it is.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from genai_tui.session import runs
from genai_tui.session.atomic import claim, probe, release, write_atomically
from genai_tui.session.errors import SessionError as SessionError  # where callers import it
from genai_tui.session.errors import write_failed
from genai_tui.session.folder import Unreadable, not_a_folder, prove_readable
from genai_tui.session.folder import read_session as read_session
from genai_tui.session.history import remembered
from genai_tui.session.leftovers import remove_leftovers
from genai_tui.session.models import (
    EditorState,
    ImageRecord,
    LoraRecord,
    Session,
    TrainRun,
    now_iso,
)
from genai_tui.session.names import IMAGES_DIR, SESSION_FILE, TRASH_DIR
from genai_tui.session.names import SESSIONS_DIR_ENV as SESSIONS_DIR_ENV
from genai_tui.session.names import sessions_root as sessions_root
from genai_tui.session.names import validate_name as validate_name
from genai_tui.session.numbering import free_trash_path, image_name, next_number
from genai_tui.session.pngmeta import PngRecordError, replace_png_record, save_png
from genai_tui.session.sync import locked, merge, stamp


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

    @classmethod
    def open(cls, root: Path, name: str, *, create: bool = True) -> SessionStore:
        """Open session `name` under `root`.

        A session.json that is not JSON, not a valid session or of a newer schema raises
        SessionError and is never changed. A missing session raises SessionError unless
        `create`; then a new one is kept in memory and nothing is written before `save()`.
        An existing session is tidied: what killed writers left is removed, and training runs
        whose process is gone are marked interrupted (see `resume_offers`).
        """
        validate_name(name)
        root = Path(root)
        session = read_session(root, name)
        if session is None:
            if not create:
                raise SessionError(f'session "{name}" does not exist in {root}')
            return cls(root, name, Session(name=name))
        store = cls(root, name, session)
        store._tidy()
        return store

    def _tidy(self) -> None:
        # Best effort, and never a wait: a session that cannot be written (read-only disk)
        # opens as it is, and one another process is writing is tidied at a later open.
        try:
            with self._lock, locked(self.path, wait=False) as held:
                if not held:
                    return
                # As in _changing(), but written only when a run was marked.
                self._refresh()
                remove_leftovers(self.path, {image.file for image in self._session.images})
                marked = [self._interrupted(run) for run in self._session.runs]
                if marked != self._session.runs:
                    self._session.runs = marked
                    self._write()
        except (OSError, SessionError):
            pass

    def _interrupted(self, run: TrainRun) -> TrainRun:
        reason = runs.why_dead(run)
        return run if reason is None else runs.mark_interrupted(run, reason, self.path)

    def check_writable(self) -> None:
        """Raise SessionError (with the OS's reason and what to do) unless this session can be
        saved: call it before starting work that would otherwise fail only at its end.

        Creates the session folder, and writes, syncs and removes a small file there and in
        images/ (when it exists), under the session's lock.
        """
        try:
            with locked(self.path):
                probe(self.path)
                if (self.path / IMAGES_DIR).is_dir():
                    probe(self.path / IMAGES_DIR)
        except (NotADirectoryError, FileExistsError):
            raise not_a_folder(self._root, self._name) from None
        except OSError as e:
            raise write_failed(self._name, f"cannot write in {self.path}", e) from e

    def resume_offers(self) -> list[runs.ResumeOffer]:
        """Interrupted training runs that can go on from a checkpoint, newest run last."""
        with self._lock:
            found = (
                runs.resume_offer(run, self.path)
                for run in self._session.runs
                if run.status == runs.INTERRUPTED
            )
            return [offer for offer in found if offer is not None]

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

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        """Make the changes in this block with one write of session.json (a batch's scores)."""
        with self._changing():
            yield

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

    def catch_up(self) -> None:
        """Re-read session.json if another process changed it, without reporting that: the
        next take_in_changes still says it changed (whoever polls it still refreshes)."""
        with self._lock:
            if stamp(self.path / SESSION_FILE) not in (None, self._stamp):
                with locked(self.path):
                    self._refresh()

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
                    # What was given is proved on the way in, so this is a last resort. Shallow
                    # copies: records are replaced, never changed in place.
                    before = (list(self._session.images), list(self._session.loras))
                    runs_before = list(self._session.runs)
                    yield
                    try:
                        self._write()
                    except Unreadable:
                        # Drop the change that cannot be saved, or every later save would fail.
                        self._session.images, self._session.loras = before
                        self._session.runs = runs_before
                        raise
            except OSError as e:
                raise write_failed(self._name, f"cannot save {SESSION_FILE}", e) from e
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
        # Image records are proved one by one as they come in (add_image, update_image, or read
        # from disk): proving thousands again at every write would triple its cost.
        head = self._session.model_copy(update={"images": []})
        prove_readable(head, self._name, SESSION_FILE)
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
        in images/, trash/ and the records, so a number never points at two images; the name is
        claimed on disk first, so two processes never write the same one. `sampler_names`:
        A1111's "Sampler" and "Schedule type" for the PNG's text (see `a1111_parameters`).
        """
        final = record.model_copy(deep=True)
        prove_readable(final, self._name, "image record")  # before anything is written
        fd, final.file = self._claim_name(record.seed)
        png = self.path / final.file
        written = False
        try:
            # Encoding a PNG takes a while; the locks stay free for the UI meanwhile.
            if lora_hashes is None and final.loras:
                # A1111's "Lora hashes" from the record's own LoRAs (those with a known hash).
                lora_hashes = {use.name: use.hash for use in final.loras if use.hash}
            save_png(image, png, final, app_version, lora_hashes, sampler_names)  # over the claim
            written = True
        except OSError as e:
            raise write_failed(self._name, f"cannot save {final.file}", e) from e
        finally:
            release(fd, png, written=written)
        # PNG first, then session.json: a crash in between leaves a PNG that carries its own
        # record (read_png_record), and its number is still taken when numbering scans images/.
        with self._changing():
            self._session.images.append(final)
        return final.model_copy(deep=True)

    def _claim_name(self, seed: int) -> tuple[int, str]:
        """A free `images/NNNN-<seed>.png`, taken on disk under both locks: (claim, name)."""
        try:
            with self._lock, locked(self.path):
                self._refresh()
                (self.path / IMAGES_DIR).mkdir(exist_ok=True)
                number = next_number(self.path, (image.file for image in self._session.images))
                while True:
                    name = image_name(number, seed)
                    fd = claim(self.path / name)
                    if fd is not None:
                        return fd, name
                    number += 1  # taken by a writer that does not claim (an older version)
        except OSError as e:
            raise write_failed(self._name, f"cannot save an image in {IMAGES_DIR}/", e) from e

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
            prove_readable(updated, self._name, "image record")
            png = self._image_path(updated.file)
            try:
                replace_png_record(png, updated)
            except FileNotFoundError as e:
                raise SessionError(f'session "{self._name}": {file} is missing from disk') from e
            except PngRecordError as e:
                raise SessionError(f'session "{self._name}": {e}') from e
            except OSError as e:
                raise write_failed(self._name, f"cannot update {file}", e) from e
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
            target = free_trash_path(trash, source.name)
            if source.exists():
                try:
                    trash.mkdir(parents=True, exist_ok=True)
                    os.replace(source, target)
                except OSError as e:
                    raise write_failed(self._name, f"cannot move {file} to trash", e) from e
            del self._session.images[index]
        return target

    def set_editor(self, editor: EditorState) -> None:
        """Remember the editor's values (in memory; call save()).

        Raises SessionError for values that could not be saved, keeping the previous ones.
        """
        prove_readable(editor, self._name, "editor")
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
        prove_readable(record, self._name, "LoRA record")
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
        """Add or replace (by name) a training run's record, stamp it updated, and save.

        A running run is saved by the process training it, so it is stamped with that process
        too: when the process dies without saying how, the next open marks it interrupted.
        """
        changes: dict[str, Any] = {"updated": now_iso()}
        if run.status == runs.RUNNING:
            changes.update(runs.this_process())
        with self._changing():
            stamped = TrainRun.model_validate({**run.model_dump(), **changes})
            known = self._session.runs
            index = next((i for i, old in enumerate(known) if old.name == run.name), None)
            if index is None:
                known.append(stamped)
            else:
                known[index] = stamped
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
