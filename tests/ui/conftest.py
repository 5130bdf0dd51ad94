"""Driving the real app: the tiny model, a private sessions folder, text-only images."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from genai_tui.ui.app import AppOptions, GenaiApp
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.status_header import StatusHeader


@pytest.fixture(autouse=True)
def _stable_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Log lines carry a fixed time, so screens compare equal between runs."""
    monkeypatch.setattr(LogPanel, "clock", staticmethod(lambda: "12:00:00"))


@pytest.fixture
def make_app(tmp_path: Path, tiny_model_dir: Path) -> Callable[..., GenaiApp]:
    def build(**overrides: object) -> GenaiApp:
        values: dict[str, object] = {
            "sessions_root": tmp_path / "sessions",
            "session": "test",
            "model": str(tiny_model_dir),
            "images": "halfcell",
            "in_process": True,  # the daemon's own tests start daemons; these test the screens
        }
        values.update(overrides)
        return GenaiApp(AppOptions(**values))  # type: ignore[arg-type]

    return build


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 90) -> None:
    """Let the app run until `condition` holds (the worker thread needs real time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


async def wait_opened(pilot: Pilot[None]) -> None:
    """Until the whole main screen is mounted and the session shown (just after the first
    frame, which has only the prompt)."""
    app = pilot.app
    assert isinstance(app, GenaiApp)
    await wait_for(pilot, lambda: app.workspace.store is not None)


async def wait_ready(pilot: Pilot[None]) -> None:
    """Until the model is loaded and no job runs."""
    app = pilot.app
    assert isinstance(app, GenaiApp)
    header = app.main_screen.query_one(StatusHeader)
    await wait_for(pilot, lambda: not header.status.busy and not app.jobs.busy)
