"""What the screens look like: main screen after a generation, viewer, help, session picker.

Times, durations and paths are pinned so a screen compares equal run after run; images are
drawn as half-cell text so they are part of the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from genai_tui import words
from genai_tui.session import models
from genai_tui.ui.app import AppOptions, GenaiApp
from genai_tui.ui.screens.viewer import ViewerScreen
from genai_tui.ui.widgets.gallery import Gallery
from genai_tui.ui.widgets.prompt_editor import PromptEditor
from genai_tui.ui.widgets.slider import Slider
from genai_tui.ui.widgets.status_header import Activity, StatusHeader
from tests.ui.conftest import wait_for, wait_ready

SIZE = (150, 46)


class PinnedTime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> PinnedTime:
        return cls(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def snapshot_app(
    tmp_path: Path, tiny_model_dir: Path, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], GenaiApp]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(models, "datetime", PinnedTime)
    monkeypatch.setattr(words, "duration", lambda value: "1.0 s")

    def build() -> GenaiApp:
        return GenaiApp(
            AppOptions(
                sessions_root=tmp_path / "sessions",
                session="snap",
                model=str(tiny_model_dir),
                images="halfcell",
                clip=str(tiny_clip_dir),
                in_process=True,
                preview="vae",  # auto decides by the machine's speed: not the same every run
            )
        )

    return build


async def steady(pilot: Pilot[None]) -> None:
    """The model loaded, its job's end shown (the header goes "ready", then "idle" once the
    job's end arrives) and the text cursors not blinking (a blink is a different screen)."""
    await wait_ready(pilot)
    header = pilot.app.query_one(StatusHeader)
    await wait_for(pilot, lambda: header.status.activity is Activity.IDLE)
    for editor in pilot.app.query(PromptEditor):
        editor.cursor_blink = False


async def generate_two(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, GenaiApp)
    await steady(pilot)
    await pilot.press(*"a red circle on a white background")
    app.query_one("#seed").value = "42"  # type: ignore[attr-defined]
    app.query_one("#steps", Slider).set_value(6)
    app.query_one("#batch", Slider).set_value(2)
    await pilot.press("ctrl+g")
    gallery = app.query_one(Gallery)
    await wait_for(
        pilot,
        lambda: (
            len(gallery.records) == 2
            and all(r.clip_score is not None for r in gallery.records)
            and not app.jobs.busy
        ),
    )
    app.clear_notifications()
    await pilot.pause(0.3)


def test_main_screen_after_a_generation(snap_compare: Any, snapshot_app: Any) -> None:
    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=generate_two)


def test_image_viewer(snap_compare: Any, snapshot_app: Any) -> None:
    async def open_viewer(pilot: Pilot[None]) -> None:
        await generate_two(pilot)
        pilot.app.query_one(Gallery).focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ViewerScreen))
        await pilot.pause(0.3)

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=open_viewer)


def test_help_screen(snap_compare: Any, snapshot_app: Any) -> None:
    async def open_help(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await pilot.press("f1")
        await pilot.pause(0.3)

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=open_help)


def test_session_picker(snap_compare: Any, snapshot_app: Any) -> None:
    async def open_picker(pilot: Pilot[None]) -> None:
        await generate_two(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause(0.5)

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=open_picker)


def test_training_screen(snap_compare: Any, snapshot_app: Any) -> None:
    """The LoRA form with the demo recipe's note, the idle explanation and an empty curve."""

    async def open_training(pilot: Pilot[None]) -> None:
        await steady(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause(0.5)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False

    assert snap_compare(snapshot_app(), terminal_size=SIZE, run_before=open_training)


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 60)])
def test_main_screen_fits_the_terminal(
    snap_compare: Any, snapshot_app: Any, size: tuple[int, int]
) -> None:
    """80x24 (most terminals' default): prompt, knobs, preview and gallery side by side with
    the log hidden; 120x36: the common knobs without scrolling; 200x60: room for everything."""
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=generate_two)
