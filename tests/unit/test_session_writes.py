"""The store never writes what it cannot read back, and a folder it cannot write in is found
before any work starts, with the OS's reason and a fix that fits (the file is not damaged)."""

from __future__ import annotations

import errno
import math
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from genai_tui.jobs.hints import describe
from genai_tui.session.errors import DAMAGED_HINT
from genai_tui.session.listing import list_sessions
from genai_tui.session.models import EditorState, LoraRecord, TrainRun
from genai_tui.session.store import SessionError, SessionStore
from tests.fixtures.cli_run import run
from tests.unit.test_session_store import all_files, make_record, on_disk, pixel

NOT_FINITE = [math.nan, math.inf, -math.inf]


# --- numbers JSON cannot hold ------------------------------------------------------------------


@pytest.mark.parametrize("value", NOT_FINITE)
def test_a_number_that_is_not_finite_is_refused_where_it_is_made(value: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        EditorState(cfg_scale=value)
    with pytest.raises(ValidationError, match="finite"):
        make_record(cfg_scale=value)
    editor = EditorState()
    with pytest.raises(ValidationError, match="finite"):
        editor.cfg_scale = value
    assert editor.cfg_scale == 7.0


@pytest.mark.parametrize("value", NOT_FINITE)
def test_an_unreadable_record_is_never_written(tmp_path: Path, value: float) -> None:
    store = SessionStore.open(tmp_path, "s")
    good = store.add_image(make_record(seed=1), pixel(), "test")
    before = on_disk(tmp_path, "s")
    files = all_files(tmp_path / "s")
    # model_copy(update=...) skips validation: the store's own check must catch it.
    bad = make_record(seed=2).model_copy(update={"cfg_scale": value})
    with pytest.raises(SessionError, match="cfg_scale") as caught:
        store.add_image(bad, pixel(), "test")
    assert "repair" not in caught.value.hint
    assert on_disk(tmp_path, "s") == before
    assert all_files(tmp_path / "s") == files  # no PNG, no claimed name
    # The store is not stuck with it: the next image is saved and the session reopens.
    store.add_image(make_record(seed=3), pixel(), "test")
    again = SessionStore.open(tmp_path, "s", create=False).session
    assert [i.seed for i in again.images] == [good.seed, 3]


def test_an_unreadable_editor_is_refused_and_the_file_stays_readable(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    store.set_editor(EditorState(prompt="kept", cfg_scale=5.0))
    store.save()
    with pytest.raises(SessionError, match=r"editor not saved.*cfg_scale"):
        store.set_editor(EditorState().model_copy(update={"cfg_scale": math.nan}))
    store.save()
    again = SessionStore.open(tmp_path, "s", create=False).session
    assert (again.editor.prompt, again.editor.cfg_scale) == ("kept", 5.0)


def test_the_last_check_before_writing_catches_what_slipped_in(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    store.save()
    before = on_disk(tmp_path, "s")
    unreadable = pytest.raises(SessionError, match=r"session\.json not saved.*editor\.cfg_scale")
    with unreadable, store._changing():  # a change made without going through a public method
        store._session.editor = EditorState().model_construct(cfg_scale=math.inf)
    assert on_disk(tmp_path, "s") == before


def test_a_loss_that_diverged_is_recorded_as_unknown(tmp_path: Path) -> None:
    # Refusing it would fail a finished training's records; NaN is no number to show anyway.
    store = SessionStore.open(tmp_path, "s")
    lora = LoraRecord(
        name="x", folder="loras/x", webui_file="a", diffusers_file="b", base_model="demo",
        rank=4, alpha=4.0, steps=1, final_loss=math.nan,
    )  # fmt: skip
    store.add_lora(lora)
    diverged = TrainRun(name="r", lora="x").model_copy(update={"last_loss": math.inf})
    store.save_run(diverged)
    again = SessionStore.open(tmp_path, "s", create=False).session
    assert (again.loras[0].final_loss, again.runs[0].last_loss) == (None, None)


# --- finding a folder that cannot be written, before work starts --------------------------------


def test_check_writable_leaves_nothing_but_the_folder(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "new")
    store.check_writable()
    assert [p.name for p in (tmp_path / "new").iterdir()] == [".lock"]
    assert store.session.images == []


def failing_temporaries(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Make every temporary file fail with `code`, as the OS would."""
    real_open, real_write = os.open, os.write

    def fake_open(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        if str(path).endswith(".tmp") and code != errno.ENOSPC:
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, mode, **kw)

    def fake_write(fd: int, data: Any) -> int:
        if code == errno.ENOSPC:
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "write", fake_write)


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (errno.EROFS, "read-only disk: choose another --sessions-dir"),
        (errno.EACCES, "read-only for you: fix its permissions or choose another --sessions-dir"),
        (errno.ENOSPC, "the disk is full"),
    ],
)
def test_a_folder_that_cannot_be_written_is_named_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, hint: str
) -> None:
    store = SessionStore.open(tmp_path, "s")
    failing_temporaries(monkeypatch, code)
    with pytest.raises(SessionError) as caught:
        store.check_writable()
    assert os.strerror(code) in str(caught.value)
    assert hint in caught.value.hint
    category, _, job_hint = describe(caught.value)
    assert (category, job_hint) == ("session", caught.value.hint)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_a_read_only_folder_is_found_for_real(tmp_path: Path) -> None:
    SessionStore.open(tmp_path, "s").save()
    (tmp_path / "s").chmod(0o555)
    try:
        with pytest.raises(SessionError, match="Permission denied"):
            SessionStore.open(tmp_path, "s").check_writable()
    finally:
        (tmp_path / "s").chmod(0o755)


def test_a_failed_save_blames_the_disk_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SessionStore.open(tmp_path, "s")
    store.save()
    before = on_disk(tmp_path, "s")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    store.remember_prompt("a cat")
    with pytest.raises(SessionError, match="No space left") as caught:
        store.save()
    assert caught.value.hint != DAMAGED_HINT and "disk is full" in caught.value.hint
    monkeypatch.undo()
    assert on_disk(tmp_path, "s") == before
    assert not list((tmp_path / "s").glob(".*.tmp"))


def test_a_damaged_file_still_hints_repair(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "session.json").write_text("{not json")
    with pytest.raises(SessionError) as caught:
        SessionStore.open(tmp_path, "s")
    assert caught.value.hint == DAMAGED_HINT


def test_a_sessions_root_that_is_a_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "notes.txt"
    root.write_text("not sessions")
    with pytest.raises(SessionError, match="is a file, not a folder"):
        list_sessions(root)
    with pytest.raises(SessionError, match="is a file, not a folder"):
        SessionStore.open(root, "s")
    store = SessionStore.open(tmp_path / "later", "s")
    (tmp_path / "later").write_text("made after the session was opened")
    with pytest.raises(SessionError, match="is a file, not a folder"):
        store.check_writable()
    code, out, err = run(capsys, "sessions", "--sessions-dir", str(root))
    assert code == 2 and out == ""
    assert "is a file, not a folder (choose another --sessions-dir)" in err
    assert list_sessions(tmp_path / "missing") == []  # nothing yet: not an error
    assert root.read_text() == "not sessions"


def test_an_old_session_file_opens_unchanged(tmp_path: Path) -> None:
    # As the previous version wrote it: runs without a process, schema 1.
    (tmp_path / "s").mkdir()
    text = (
        '{"schema_version": 1, "name": "s", "editor": {"cfg_scale": 6.5}, "images": [], '
        '"runs": [{"name": "r", "lora": "x", "status": "finished", "last_loss": null}]}'
    )
    (tmp_path / "s" / "session.json").write_text(text)
    session = SessionStore.open(tmp_path, "s", create=False).session
    assert session.editor.cfg_scale == 6.5 and session.runs[0].pid is None
    assert (tmp_path / "s" / "session.json").read_text() == text
