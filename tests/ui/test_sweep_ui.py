"""A sweep as a user runs it in the app: f4, two axes, Run; the cells arrive, the grid opens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input, Label, Select

from genai_tui.jobs.events import Event
from genai_tui.ui.app import GenaiApp
from genai_tui.ui.screens.grid_viewer import GridScreen, GridSlot
from genai_tui.ui.screens.sweep_form import SweepForm
from genai_tui.ui.screens.viewer import ViewerScreen
from genai_tui.ui.widgets.gallery import Gallery
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.param_panel import ParamPanel
from genai_tui.ui.widgets.slider import Slider
from genai_tui.ui.widgets.status_header import StatusHeader
from tests.ui.conftest import wait_for, wait_ready

AppFactory = Callable[..., GenaiApp]


def captions(grid: GridScreen) -> list[str]:
    return [str(slot.query_one(Label).render()) for slot in grid.query(GridSlot)]


def is_grid_shown(app: GenaiApp) -> bool:
    """The grid viewer is on top and drawn (its cells composed and captioned)."""
    screen = app.screen
    return isinstance(screen, GridScreen) and any(captions(screen)) and all(captions(screen))


async def fill_form(app: GenaiApp, x: str, y: str) -> SweepForm:
    form = app.screen
    assert isinstance(form, SweepForm)
    for letter, spec in (("x", x), ("y", y)):
        name, _, values = spec.partition("=")
        form.query_one(f"#axis-{letter}", Select).value = name
        form.query_one(f"#values-{letter}", Input).value = values
    return form


async def test_a_2x2_sweep_lands_four_images_and_opens_its_grid(
    make_app: AppFactory, tiny_clip_dir: Path
) -> None:
    app = make_app(clip=str(tiny_clip_dir))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"a red circle")
        app.query_one("#steps", Slider).set_value(2)
        header = app.main_screen.query_one(StatusHeader)
        statuses: list[str] = []
        original = app.main_screen.show_event

        def spy(event: Event) -> None:
            original(event)
            statuses.append(str(header.status))

        app.main_screen.show_event = spy  # type: ignore[method-assign]
        await pilot.press("f4")
        await fill_form(app, "steps=2,3", "cfg=5,9")
        await pilot.pause()
        assert "2 x 2 = 4 cells" in str(app.screen.query_one("#sweep-count").render())
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: is_grid_shown(app), 120)
        grid = app.screen
        assert isinstance(grid, GridScreen)
        gallery = app.main_screen.query_one(Gallery)
        assert len(gallery.records) == 4 and all(r.sweep for r in gallery.records)
        assert {(r.steps, r.cfg_scale) for r in gallery.records} == {
            (2, 5.0), (3, 5.0), (2, 9.0), (3, 9.0)
        }  # fmt: skip
        log = "\n".join(line.text for line in app.main_screen.query_one(LogPanel).lines)
        assert "queued sweep of 4 cells" in log and "cell 4 of 4" in log
        assert "cell 1 of 4" in statuses and "cell 4 of 4" in statuses  # the step: in the pane
        labels = captions(grid)
        assert sum("★" in label for label in labels) == 1  # the best cell, CLIP-scored
        best = grid.cell
        assert "★" in grid.sweep.marks(best)  # the grid opens on it

        await pilot.press("left" if grid.column else "right")
        moved = grid.cell
        assert moved != best and grid.query_one(f"#cell-{moved.x}-{moved.y}").has_class("-cursor")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ViewerScreen))
        viewer = app.screen
        assert isinstance(viewer, ViewerScreen) and viewer.record.file == moved.file
        await pilot.press("escape")  # back to the grid, on the same cell
        await wait_for(pilot, lambda: is_grid_shown(app))
        grid = app.screen
        assert isinstance(grid, GridScreen) and grid.cell.file == moved.file
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ViewerScreen))
        await pilot.press("g")  # the viewer's way to a cell's grid
        await wait_for(pilot, lambda: is_grid_shown(app))
        grid = app.screen
        assert isinstance(grid, GridScreen) and grid.cell.file == moved.file
        await pilot.press("p")
        await wait_for(pilot, lambda: app.screen is app.main_screen)
        record = next(r for r in gallery.records if r.file == moved.file)
        state = app.main_screen.editor_state()
        assert (state.steps, state.cfg_scale, state.seed) == (
            record.steps,
            record.cfg_scale,
            record.seed,
        )
        assert app.query_one(ParamPanel).read("", "").seed_locked

        gallery.focus()  # g on a cell in the gallery opens its grid again
        await pilot.press("g")
        await wait_for(pilot, lambda: is_grid_shown(app))
