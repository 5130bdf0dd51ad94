"""What the sweep form and the grid viewer look like (120x36, and the form at 80x24)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from genai_tui.jobs import specs
from genai_tui.ui.app import GenaiApp
from genai_tui.ui.screens.grid_viewer import GridScreen
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.slider import Slider
from tests.ui.conftest import wait_for
from tests.ui.test_snapshots import snapshot_app, steady

__all__ = ["snapshot_app"]  # the fixture, shared with the other screens' snapshots


@pytest.fixture(autouse=True)
def _pinned_sweep_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep's id (its title, its grid's name) is new every run unless pinned."""
    monkeypatch.setattr(specs, "new_job_id", lambda: "snap")


async def open_form(pilot: Pilot[None]) -> None:
    app = pilot.app
    await steady(pilot)
    app.query_one(LogPanel).clear()  # its lines name the test's temporary model folder
    await pilot.press(*"a red circle on a white background")
    app.query_one("#seed").value = "42"  # type: ignore[attr-defined]
    app.query_one("#seed-lock").value = True  # type: ignore[attr-defined]
    app.query_one("#steps", Slider).set_value(2)
    await pilot.press("f4")
    await pilot.pause()
    form = app.screen
    for letter, name, values in (("x", "steps", "2,3"), ("y", "cfg", "5,9")):
        form.query_one(f"#axis-{letter}", Select).value = name
        form.query_one(f"#values-{letter}", Input).value = values
    form.query_one("#axis-z", Select).focus()
    for field in form.query(Input):
        field.cursor_blink = False
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_sweep_form(
    snap_compare: Any, snapshot_app: Callable[[], GenaiApp], size: tuple[int, int]
) -> None:
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=open_form)


def test_grid_viewer(snap_compare: Any, snapshot_app: Callable[[], GenaiApp]) -> None:
    async def run_sweep(pilot: Pilot[None]) -> None:
        await open_form(pilot)
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, GridScreen), 120)
        await wait_for(pilot, lambda: not pilot.app.jobs.busy)
        pilot.app.clear_notifications()
        await pilot.pause(0.3)

    assert snap_compare(snapshot_app(), terminal_size=(120, 36), run_before=run_sweep)
