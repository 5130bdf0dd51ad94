"""Session folders: what a user sees on disk after opening, generating, scoring and trashing."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from genai_tui.session.history import PROMPT_HISTORY_LIMIT
from genai_tui.session.listing import list_sessions, most_recent
from genai_tui.session.models import SCHEMA_VERSION, EditorState, ImageRecord
from genai_tui.session.pngmeta import read_parameters, read_png_record
from genai_tui.session.store import (
    SessionError,
    SessionStore,
    sessions_root,
    validate_name,
)


def make_record(**overrides: Any) -> ImageRecord:
    values: dict[str, Any] = {
        "file": "",
        "prompt": "a red circle",
        "steps": 4,
        "cfg_scale": 7.5,
        "seed": 42,
        "width": 8,
        "height": 8,
        "scheduler": "Euler a",
        "model": "demo",
    }
    values.update(overrides)
    return ImageRecord(**values)


def pixel() -> Image.Image:
    return Image.new("RGB", (8, 8), "green")


def on_disk(root: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / name / "session.json").read_text("utf-8"))
    return data


def all_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --- names and the root ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["my session-1", "a", "cats_v2.1", "-x", "x" * 64])
def test_plain_names_are_accepted(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["../x", "a/b", "a\\b", ".hidden", ".", "..", "", " lead", "trail ", "x" * 65, "é", "a\nb"],
)
def test_path_like_names_are_refused(name: str) -> None:
    with pytest.raises(SessionError, match="letters, digits") as caught:
        validate_name(name)
    assert "\n" not in str(caught.value)


def test_open_refuses_a_path_as_name(tmp_path: Path) -> None:
    with pytest.raises(SessionError):
        SessionStore.open(tmp_path, "../escape")
    assert list(tmp_path.parent.glob("escape")) == []


def test_sessions_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GENAI_TUI_SESSIONS_DIR", raising=False)
    assert sessions_root() == (tmp_path / "sessions").resolve()
    monkeypatch.setenv("GENAI_TUI_SESSIONS_DIR", str(tmp_path / "from-env"))
    assert sessions_root() == (tmp_path / "from-env").resolve()
    assert sessions_root("cli") == (tmp_path / "cli").resolve()
    assert sessions_root(tmp_path / "cli2") == (tmp_path / "cli2").resolve()
    assert sessions_root("relative").is_absolute()
    monkeypatch.setenv("GENAI_TUI_SESSIONS_DIR", "")
    assert sessions_root() == (tmp_path / "sessions").resolve()


# --- opening and saving ------------------------------------------------------------------------


def test_new_session_writes_nothing_until_saved(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    store = SessionStore.open(root, "fresh")
    store.set_model("demo")
    store.remember_prompt("a cat")
    assert not root.exists()
    store.save()
    # .lock: the empty file other processes on this session wait on (see session/sync.py)
    assert all_files(root) == ["fresh/.lock", "fresh/session.json"]
    data = on_disk(root, "fresh")
    assert data["name"] == "fresh"
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["model"] == "demo"
    assert data["prompt_history"] == ["a cat"]


def test_missing_session_without_create(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match='session "nope" does not exist'):
        SessionStore.open(tmp_path, "nope", create=False)
    assert list(tmp_path.iterdir()) == []


def test_reopen_restores_everything(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    store.set_editor(EditorState(prompt="a fox", steps=30, seed=7, seed_locked=True))
    store.set_model("stable-diffusion-v1-5/stable-diffusion-v1-5")
    store.add_image(make_record(), pixel(), "0.1.0")
    store.save()
    again = SessionStore.open(tmp_path, "s", create=False).session
    assert again.editor.prompt == "a fox" and again.editor.seed_locked
    assert again.model == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert [r.file for r in again.images] == ["images/0001-42.png"]


def test_save_is_atomic_and_updates_time(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    store.save()
    first = on_disk(tmp_path, "s")
    first_json = (tmp_path / "s" / "session.json").read_text()
    # Force an older time, as if saved long ago, to see save() move it.
    (tmp_path / "s" / "session.json").write_text(
        first_json.replace(first["updated"], "2000-01-01T00:00:00+00:00")
    )
    store = SessionStore.open(tmp_path, "s")
    store.save()
    assert on_disk(tmp_path, "s")["updated"] > "2000-01-01T00:00:00+00:00"
    assert all_files(tmp_path) == ["s/.lock", "s/session.json"]


def test_unknown_keys_survive_a_save(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    store.save()
    data = on_disk(tmp_path, "s")
    data["from_a_newer_minor"] = {"keep": True}
    (tmp_path / "s" / "session.json").write_text(json.dumps(data))
    SessionStore.open(tmp_path, "s").save()
    assert on_disk(tmp_path, "s")["from_a_newer_minor"] == {"keep": True}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{\n  "name": "s",\n  "images": [,]\n}', r"is not valid JSON \(line 3\)"),
        ('{"name": "s", "images": [{"file": "x.png"}]}', r"is not a valid session \(images\.0\."),
        ('{"name": "s", "editor": {"steps": "many"}}', r"is not a valid session \(editor\.steps"),
        ("[1, 2]", "does not hold a JSON object"),
        (
            json.dumps({"schema_version": SCHEMA_VERSION + 1, "name": "s", "new": {}}),
            rf"newer genai-tui \(schema {SCHEMA_VERSION + 1}",
        ),
    ],
)
def test_unreadable_session_is_reported_and_left_untouched(
    tmp_path: Path, content: str, message: str
) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "session.json").write_text(content)
    before = (folder / "session.json").read_bytes()
    with pytest.raises(SessionError, match=message) as caught:
        SessionStore.open(tmp_path, "s")
    text = str(caught.value)
    assert text.startswith('session "s": session.json ')
    assert f"left untouched at {folder / 'session.json'}" in text
    assert "\n" not in text
    assert (folder / "session.json").read_bytes() == before
    assert all_files(tmp_path) == ["s/session.json"]


def test_non_utf8_session_is_reported(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "session.json").write_bytes(b'{"name": "\xff"}')
    with pytest.raises(SessionError, match="not UTF-8"):
        SessionStore.open(tmp_path, "s")


# --- images ------------------------------------------------------------------------------------


def test_add_image_writes_png_then_record(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    record = store.add_image(make_record(file="ignored.png", seed=1234), pixel(), "0.1.0")
    assert record.file == "images/0001-1234.png"
    png = tmp_path / "s" / record.file
    assert read_png_record(png) == record
    parameters = read_parameters(png)
    assert parameters is not None and "Seed: 1234" in parameters
    assert on_disk(tmp_path, "s")["images"][0]["file"] == "images/0001-1234.png"
    assert all_files(tmp_path / "s") == [".lock", "images/0001-1234.png", "session.json"]


def test_session_copy_cannot_change_the_store(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    store.add_image(make_record(), pixel(), "1")
    copy = store.session
    copy.images.clear()
    copy.editor.prompt = "changed"
    assert len(store.session.images) == 1
    assert store.session.editor.prompt == ""


def test_numbers_are_never_reused(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    files = [store.add_image(make_record(seed=s), pixel(), "1").file for s in (5, 6, 7)]
    assert files == ["images/0001-5.png", "images/0002-6.png", "images/0003-7.png"]

    moved = store.trash_image("images/0003-7.png")
    assert moved == tmp_path / "s" / "trash" / "0003-7.png"
    assert moved.is_file() and not (tmp_path / "s" / files[2]).exists()
    assert [r["file"] for r in on_disk(tmp_path, "s")["images"]] == files[:2]
    assert store.add_image(make_record(seed=8), pixel(), "1").file == "images/0004-8.png"

    reopened = SessionStore.open(tmp_path, "s", create=False)
    assert reopened.add_image(make_record(seed=9), pixel(), "1").file == "images/0005-9.png"


def test_numbering_counts_pngs_without_records(tmp_path: Path) -> None:
    # As after a crash between writing the PNG and saving session.json.
    (tmp_path / "s" / "images").mkdir(parents=True)
    pixel().save(tmp_path / "s" / "images" / "0041-3.png")
    store = SessionStore.open(tmp_path, "s")
    assert store.add_image(make_record(), pixel(), "1").file == "images/0042-42.png"


def test_numbers_grow_past_four_digits(tmp_path: Path) -> None:
    (tmp_path / "s" / "images").mkdir(parents=True)
    pixel().save(tmp_path / "s" / "images" / "9999-1.png")
    store = SessionStore.open(tmp_path, "s")
    assert store.add_image(make_record(), pixel(), "1").file == "images/10000-42.png"
    assert store.add_image(make_record(), pixel(), "1").file == "images/10001-42.png"


def test_trash_keeps_an_existing_trashed_file(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    store.add_image(make_record(), pixel(), "1")
    (tmp_path / "s" / "trash").mkdir()
    (tmp_path / "s" / "trash" / "0001-42.png").write_bytes(b"older")
    moved = store.trash_image("images/0001-42.png")
    assert moved.name == "0001-42.1.png"
    assert (tmp_path / "s" / "trash" / "0001-42.png").read_bytes() == b"older"


def test_unknown_image_is_an_error(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    with pytest.raises(SessionError, match=r"has no image images/0009-1\.png"):
        store.trash_image("images/0009-1.png")
    with pytest.raises(SessionError, match="has no image"):
        store.update_image("images/0009-1.png", clip_score=0.2)


def test_update_image_changes_json_and_png(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    record = store.add_image(make_record(prompt="猫, cat"), pixel(), "0.1.0")
    png = tmp_path / "s" / record.file
    parameters = read_parameters(png)

    updated = store.update_image(record.file, clip_score=0.287, clip_model="demo")
    assert (updated.clip_score, updated.clip_model) == (0.287, "demo")
    assert on_disk(tmp_path, "s")["images"][0]["clip_score"] == 0.287
    assert read_png_record(png) == updated
    assert read_parameters(png) == parameters
    assert all_files(tmp_path / "s") == [".lock", "images/0001-42.png", "session.json"]
    with Image.open(png) as image:
        assert image.getpixel((0, 0)) == (0, 128, 0)

    with pytest.raises(ValueError, match="clip_scroe"):
        store.update_image(record.file, clip_scroe=0.3)


def test_update_of_a_missing_png_is_reported(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    record = store.add_image(make_record(), pixel(), "1")
    (tmp_path / "s" / record.file).unlink()
    with pytest.raises(SessionError, match="missing"):
        store.update_image(record.file, clip_score=0.1)
    assert store.session.images[0].clip_score is None


def test_record_outside_the_session_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"precious")
    (tmp_path / "root" / "s").mkdir(parents=True)
    bad = make_record(file="../../victim.png").model_dump()
    session_file = tmp_path / "root" / "s" / "session.json"
    session_file.write_text(json.dumps({"name": "s", "images": [bad]}))
    store = SessionStore.open(tmp_path / "root", "s")
    with pytest.raises(SessionError, match="outside the session"):
        store.trash_image("../../victim.png")
    assert victim.read_bytes() == b"precious"


def test_two_threads_adding_images_get_distinct_numbers(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    per_thread = 8
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(seed: int) -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                results.append(store.add_image(make_record(seed=seed), pixel(), "1").file)
                store.remember_prompt(f"prompt {seed}")
                store.save()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(int(Path(f).name.split("-")[0]) for f in results)
    assert numbers == list(range(1, 2 * per_thread + 1))
    saved = {r["file"] for r in on_disk(tmp_path, "s")["images"]}
    assert saved == set(results)
    assert len(os.listdir(tmp_path / "s" / "images")) == 2 * per_thread


# --- memory-only changes -----------------------------------------------------------------------


def test_prompt_history(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    for prompt in ["a", "b", "a", "a", "", "   ", "c"]:
        store.remember_prompt(prompt)
    assert store.session.prompt_history == ["b", "a", "c"]
    for i in range(PROMPT_HISTORY_LIMIT + 10):
        store.remember_prompt(f"p{i}")
    history = store.session.prompt_history
    assert len(history) == PROMPT_HISTORY_LIMIT == 500
    assert history[-1] == f"p{PROMPT_HISTORY_LIMIT + 9}"
    assert not (tmp_path / "s").exists()


def test_editor_is_copied_in(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    editor = EditorState(prompt="x")
    store.set_editor(editor)
    editor.prompt = "changed later"
    assert store.session.editor.prompt == "x"


# --- listing -----------------------------------------------------------------------------------


def write_session(root: Path, name: str, updated: str, images: int = 0) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    records = [make_record(file=f"images/{i:04d}-1.png").model_dump() for i in range(images)]
    data = {"name": name, "updated": updated, "images": records}
    (folder / "session.json").write_text(json.dumps(data))


def test_list_sessions_newest_first_with_corrupt_ones(tmp_path: Path) -> None:
    write_session(tmp_path, "old", "2024-01-01T00:00:00+00:00", images=2)
    write_session(tmp_path, "new", "2025-06-01T12:00:00+00:00", images=1)
    write_session(tmp_path, "middle", "2025-06-01T13:00:00+02:00")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "session.json").write_text("{not json")
    (tmp_path / "just-a-folder").mkdir()
    (tmp_path / "notes.txt").write_text("x")

    summaries = list_sessions(tmp_path)
    assert [s.name for s in summaries] == ["broken", "new", "middle", "old"]
    broken, new, _, old = summaries
    assert broken.error is not None and "not valid JSON" in broken.error
    assert (new.images, new.error, new.path) == (1, None, tmp_path / "new")
    assert old.images == 2
    assert most_recent(tmp_path) == "new"


def test_listing_an_empty_or_missing_root(tmp_path: Path) -> None:
    assert list_sessions(tmp_path / "missing") == []
    assert most_recent(tmp_path / "missing") is None
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "session.json").write_text("[]")
    assert most_recent(tmp_path) is None


def test_saved_session_is_listed(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "mine")
    assert list_sessions(tmp_path) == []
    store.add_image(make_record(), pixel(), "1")
    [summary] = list_sessions(tmp_path)
    assert (summary.name, summary.images, summary.error) == ("mine", 1, None)
    assert summary.updated == store.session.updated
