"""Two processes on one session (the TUI open while `genai-tui train` runs under nohup): neither
loses what the other recorded."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from genai_tui.session.models import EditorState, LoraRecord, TrainRun
from genai_tui.session.store import SessionStore
from tests.unit.test_session_store import make_record

LORA_FIELDS = {"webui_file": "x", "diffusers_file": "y", "base_model": "demo", "rank": 4}


def lora(name: str) -> LoraRecord:
    return LoraRecord(name=name, folder=f"loras/{name}", alpha=4.0, steps=10, **LORA_FIELDS)


def test_a_lora_trained_headless_survives_the_tui_saving_its_editor(tmp_path: Path) -> None:
    tui = SessionStore.open(tmp_path, "s")
    tui.save()
    headless = SessionStore.open(tmp_path, "s", create=False)
    tui.set_editor(EditorState(prompt="typed in the TUI"))
    tui.remember_prompt("typed in the TUI")
    headless.remember_prompt("from the command line")
    headless.add_lora(lora("stars"))  # written at once, with its prompt history
    headless.save_run(TrainRun(name="stars-1", lora="stars", status="finished"))
    tui.save()  # the TUI's debounced editor save comes after

    again = SessionStore.open(tmp_path, "s", create=False).session
    assert [x.name for x in again.loras] == ["stars"]
    assert [r.name for r in again.runs] == ["stars-1"]
    assert again.editor.prompt == "typed in the TUI"
    assert again.prompt_history == ["from the command line", "typed in the TUI"]


def test_images_from_another_process_can_be_scored_and_trashed_here(tmp_path: Path) -> None:
    tui = SessionStore.open(tmp_path, "s")
    tui.save()
    headless = SessionStore.open(tmp_path, "s", create=False)
    theirs = headless.add_image(make_record(seed=1), Image.new("RGB", (8, 8)), "test")
    mine = tui.add_image(make_record(seed=2), Image.new("RGB", (8, 8)), "test")
    assert theirs.file != mine.file
    tui.update_image(theirs.file, clip_score=42.0)  # the TUI never had it in memory
    headless.trash_image(mine.file)

    saved = SessionStore.open(tmp_path, "s", create=False).session.images
    assert [(i.file, i.clip_score) for i in saved] == [(theirs.file, 42.0)]


WRITER = """
import sys, time
from pathlib import Path
from genai_tui.session.models import LoraRecord
from genai_tui.session.store import SessionStore
store = SessionStore.open(Path(sys.argv[1]), "s", create=False)
while not (Path(sys.argv[1]) / "go").exists():  # both start writing at the same moment
    time.sleep(0.01)
for i in range(100):
    name = f"{sys.argv[2]}-{i}"
    store.add_lora(LoraRecord(name=name, folder=name, webui_file="x", diffusers_file="y",
                              base_model="demo", rank=4, alpha=4, steps=1))
"""


def test_two_processes_writing_at_once_keep_every_record(tmp_path: Path) -> None:
    SessionStore.open(tmp_path, "s").save()
    runs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), who])
        for who in ("tui", "cli")
    ]
    time.sleep(1.5)  # both imported and waiting
    (tmp_path / "go").touch()
    assert [p.wait(timeout=120) for p in runs] == [0, 0]
    names = {x.name for x in SessionStore.open(tmp_path, "s", create=False).session.loras}
    assert len(names) == 200
