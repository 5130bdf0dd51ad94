"""What writers killed with kill -9 leave in a session, and two processes adding images at once:
the next open cleans what is abandoned, never what a live writer is writing, and no image name is
ever written by two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

import genai_tui
from genai_tui.session.atomic import write_atomically
from genai_tui.session.leftovers import STALE_AFTER
from genai_tui.session.store import SessionError, SessionStore
from tests.unit.test_session_store import make_record, on_disk, pixel

REPO = Path(genai_tui.__file__).resolve().parents[1]


def python(script: str, *args: str) -> subprocess.Popen[bytes]:
    """Run `script` in a new interpreter on this checkout's code."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=REPO, env=env)


def wait_for(path: Path, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, "the writer ended before it was caught mid-write"
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def temporaries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*.tmp"))


# A writer that stops for good once its bytes are written and not yet renamed into place:
# the moment a kill -9 does the most harm.
STUCK_WRITER = """
import os, sys, time
from pathlib import Path
from PIL import Image
from genai_tui.session.models import EditorState
from genai_tui.session.store import SessionStore
from tests.unit.test_session_store import make_record
root, what, ready = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
store = SessionStore.open(root, "s", create=False)
def stuck(fd):
    ready.touch()
    time.sleep(600)
os.fsync = stuck
if what == "save":
    store.set_editor(EditorState(prompt="never saved"))
    store.save()
else:
    store.add_image(make_record(seed=42), Image.new("RGB", (8, 8)), "test")
"""


@pytest.mark.parametrize("what", ["save", "image"])
def test_a_writer_killed_mid_write_leaves_nothing_after_the_next_open(
    tmp_path: Path, what: str
) -> None:
    store = SessionStore.open(tmp_path, "s")
    kept = store.add_image(make_record(seed=1), pixel(), "test")
    before = on_disk(tmp_path, "s")
    ready = tmp_path / "ready"
    writer = python(STUCK_WRITER, str(tmp_path), what, str(ready))
    try:
        wait_for(ready, writer)
        left = temporaries(tmp_path / "s")
        assert len(left) == 1
        claimed = tmp_path / "s" / "images" / "0002-42.png"
        assert claimed.exists() == (what == "image")  # the image's name is claimed, empty

        SessionStore.open(tmp_path, "s")  # while it is alive: what it writes is left alone
        assert temporaries(tmp_path / "s") == left
        assert claimed.exists() == (what == "image")
    finally:
        writer.kill()  # SIGKILL: no cleanup of any kind runs in the writer
        writer.wait(timeout=30)

    again = SessionStore.open(tmp_path, "s")
    assert temporaries(tmp_path / "s") == []
    assert not claimed.exists()
    assert on_disk(tmp_path, "s") == before  # nothing recorded was lost or changed
    assert [i.file for i in again.session.images] == [kept.file]
    assert (tmp_path / "s" / kept.file).stat().st_size > 0


def test_a_live_writer_in_this_process_keeps_its_temporary(tmp_path: Path) -> None:
    SessionStore.open(tmp_path, "s").save()
    started, finish = threading.Event(), threading.Event()
    target = tmp_path / "s" / "images" / "0001-1.png"

    def slow(f: object) -> None:
        started.set()
        finish.wait(30)
        Image.new("RGB", (8, 8)).save(f, format="PNG")  # type: ignore[call-overload]

    writing = threading.Thread(target=write_atomically, args=(target, slow))
    writing.start()
    try:
        assert started.wait(30)
        SessionStore.open(tmp_path, "s")
        assert len(temporaries(tmp_path / "s")) == 1
    finally:
        finish.set()
        writing.join(30)
    assert Image.open(target).size == (8, 8)  # the write finished in place
    assert temporaries(tmp_path / "s") == []


def test_only_our_abandoned_files_are_removed(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path, "s")
    recorded = store.add_image(make_record(seed=1), pixel(), "test")
    folder = tmp_path / "s"
    long_ago = time.time() - STALE_AFTER - 60
    # Left by a version before writers locked their temporaries: removed once old enough.
    old = [folder / ".session.json.0a1b2c3d.tmp", folder / "images" / ".0007-5.png.12345678.tmp"]
    fresh = folder / ".session.json.ffffffff.tmp"
    # Ours by name, made by writers long dead (their pid is in the name; nobody holds them).
    dead = [folder / ".session.json.999999-0a1b2c3d.tmp", folder / "images" / "0003-9.png"]
    kept = [
        fresh,
        folder / "notes.txt",
        folder / ".hidden",
        folder / "images" / ".DS_Store",
        folder / "images" / "draft.tmp",
        folder / "images" / "0004-1.png",  # a PNG with bytes in it, though not recorded
        folder / "loras" / ".x.safetensors.0a1b2c3d.tmp",  # not a folder we tidy
    ]
    for path in [*old, *dead, *kept]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" if path.name != "0003-9.png" else b"")
    for path in [*old, kept[-1]]:
        os.utime(path, (long_ago, long_ago))
    empty_recorded = folder / recorded.file
    empty_recorded.write_bytes(b"")  # damaged, but the record points at it: not ours to drop

    SessionStore.open(tmp_path, "s")
    assert [p for p in [*old, *dead] if p.exists()] == []
    assert [p for p in [*kept, empty_recorded] if not p.exists()] == []


def test_a_read_only_session_still_opens_with_its_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SessionStore.open(tmp_path, "s").save()
    leftover = tmp_path / "s" / ".session.json.999999-0a1b2c3d.tmp"
    leftover.write_bytes(b"{}")

    def refuse(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)
    assert SessionStore.open(tmp_path, "s").session.name == "s"
    assert leftover.exists()


ADDER = """
import sys, time
from pathlib import Path
from PIL import Image
from genai_tui.session.store import SessionStore
from tests.unit.test_session_store import make_record
root = Path(sys.argv[1])
store = SessionStore.open(root, "s", create=False)
while not (root / "go").exists():  # both start adding at the same moment
    time.sleep(0.01)
for i in range(int(sys.argv[2])):
    store.add_image(make_record(seed=1000, prompt=sys.argv[3]), Image.new("RGB", (8, 8)), "t")
"""


def test_two_processes_with_the_same_seed_never_write_the_same_image(tmp_path: Path) -> None:
    SessionStore.open(tmp_path, "s").save()
    each = 15
    adders = [python(ADDER, str(tmp_path), str(each), who) for who in ("tui", "cli")]
    time.sleep(1.5)  # both imported and waiting
    (tmp_path / "go").touch()
    assert [p.wait(timeout=120) for p in adders] == [0, 0]

    images = SessionStore.open(tmp_path, "s", create=False).session.images
    pngs = sorted((tmp_path / "s" / "images").glob("*.png"))
    assert len(images) == len(pngs) == 2 * each
    assert len({i.file for i in images}) == 2 * each
    # Each PNG is the one its record describes (its own prompt is in it), none written over.
    for record in images:
        png = json.loads(Image.open(tmp_path / "s" / record.file).text["genai-tui"])
        assert png["prompt"] == record.prompt


def test_an_image_that_fails_to_write_gives_its_name_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SessionStore.open(tmp_path, "s")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("genai_tui.session.store.save_png", full)
    with pytest.raises(SessionError, match="No space left") as caught:
        store.add_image(make_record(seed=3), pixel(), "test")
    assert "disk is full" in caught.value.hint
    assert list((tmp_path / "s" / "images").iterdir()) == []  # no empty PNG stays behind
