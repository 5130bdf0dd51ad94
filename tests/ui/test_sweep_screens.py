"""The sweep form and the grid viewer on their own: no model, a sweep made of coloured squares."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input, Label, OptionList, Select, Static

from genai_tui.engine.params import GenerateParams
from genai_tui.ui.grid_layout import LayoutError, read_layout
from genai_tui.ui.images import ImageDrawing
from genai_tui.ui.screens.dialogs import ConfirmDialog
from genai_tui.ui.screens.grid_viewer import GridChoice, GridScreen, GridSlot
from genai_tui.ui.screens.sweep_form import SweepForm, SweepRequest, estimate, session_rate
from tests.ui.sweep_fixtures import OneScreen, make_sweep

SIZE = (120, 36)
BASE = GenerateParams(prompt="a red circle", steps=6)


def shown(app: OneScreen, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def test_the_estimate_uses_the_sessions_last_rate() -> None:
    assert estimate(9, None) == "no rate yet"
    assert estimate(9, 2.0) == "about 18.0 s at 2.0 s/image"
    assert session_rate([]) is None


async def test_the_form_counts_cells_as_they_are_typed_and_says_what_is_wrong() -> None:
    app = OneScreen(lambda: SweepForm(BASE, rate=2.0))
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen
        assert isinstance(form, SweepForm)
        run = form.query_one("#run", Button)
        assert "choose an axis for X" in shown(app, "#sweep-count") and run.disabled
        form.query_one("#axis-x", Select).value = "steps"
        form.query_one("#values-x", Input).focus()
        await pilot.press(*"1-5")
        await pilot.pause()
        assert shown(app, "#sweep-count").startswith("5 cells · about 10.0 s at 2.0 s/image")
        assert "denoising steps" in str(form.query_one("#help-x", Label).render())
        form.query_one("#axis-y", Select).value = "cfg"
        form.query_one("#values-y", Input).focus()
        await pilot.press(*"5,abc")
        await pilot.pause()
        assert "'abc' is not a number" in shown(app, "#sweep-error")
        assert run.disabled
        await pilot.press("backspace", "backspace", "backspace", *"9")
        await pilot.pause()
        assert shown(app, "#sweep-count").startswith("5 x 2 = 10 cells")
        assert shown(app, "#sweep-error") == "" and not run.disabled
        await pilot.press("enter")
        await pilot.pause()
        assert app.answers == [SweepRequest(("steps=1-5", "cfg=5,9"), 10)]


async def test_a_y_axis_without_x_is_refused() -> None:
    app = OneScreen(lambda: SweepForm(BASE, rate=None))
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#axis-y", Select).value = "seed"
        app.screen.query_one("#values-y", Input).value = "1,2"
        await pilot.pause()
        assert "X first" in shown(app, "#sweep-error")
        assert app.screen.query_one("#run", Button).disabled


async def test_over_a_thousand_cells_asks_first() -> None:
    app = OneScreen(lambda: SweepForm(BASE, rate=None, last=("seed=1-100", "steps=1-20")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "100 x 20 = 2,000 cells · no rate yet" in shown(app, "#sweep-count")
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await pilot.pause()
        assert app.answers == [SweepRequest(("seed=1-100", "steps=1-20"), 2000, yes=True)]


def grid_app(tmp_path: Path, **options: object) -> OneScreen:
    layout, records = make_sweep(tmp_path, **options)  # type: ignore[arg-type]
    drawing = ImageDrawing("halfcell")
    drawing.load()
    return OneScreen(lambda: GridScreen(read_layout(layout), tmp_path, drawing, records))


def captions(app: OneScreen) -> dict[tuple[int, int], str]:
    return {slot.place: str(slot.query_one(Label).render()) for slot in app.screen.query(GridSlot)}


async def test_the_grid_marks_the_best_cells_and_arrows_choose_one(tmp_path: Path) -> None:
    app = grid_app(tmp_path)  # scores: (0,0) 20, (1,0) 25, (0,1) 30, (1,1) 22
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GridScreen)
        assert captions(app) == {
            (0, 0): "20.0",
            (1, 0): "▲◀ 25.0",
            (0, 1): "★▲◀ 30.0",
            (1, 1): "22.0",
        }
        assert "★ best of the grid" in shown(app, "#grid-legend")
        assert "ranked by CLIP score" in shown(app, "#grid-legend")
        heads = [str(label.render()) for label in screen.query(".head")]
        assert heads == ["", "Steps: 2", "Steps: 3"]
        assert (screen.column, screen.row) == (0, 1)  # it opens on the best cell
        await pilot.press("up", "right")
        assert (screen.column, screen.row) == (1, 0)
        assert screen.query_one("#cell-1-0").has_class("-cursor")
        assert "Steps 3, CFG scale 5" in shown(app, "#grid-selected")
        await pilot.click("#cell-1-1")
        assert (screen.column, screen.row) == (1, 1)
        await pilot.press("up")
        await pilot.press("enter")
        await pilot.pause()
        [choice] = app.answers
        assert choice == GridChoice("open", choice.record)
        assert (choice.record.steps, choice.record.cfg_scale) == (3, 5.0)


async def test_the_cells_listed_best_first_and_p_reuses_one(tmp_path: Path) -> None:
    app = grid_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        listing = app.screen.query_one("#grid-ranked", OptionList)
        assert listing.display and listing.has_focus
        lines = [str(listing.get_option_at_index(i).prompt) for i in range(4)]
        assert [line.split()[1] for line in lines] == ["30.00", "25.00", "22.00", "20.00"]
        await pilot.press("down")  # the second best: (1, 0)
        await pilot.press("p")
        await pilot.pause()
        [choice] = app.answers
        assert choice.action == "reuse" and choice.record.steps == 3


async def test_z_values_are_pages_and_export_needs_a_checkpoint_axis(tmp_path: Path) -> None:
    app = grid_app(tmp_path, axes=("steps=2,3", "cfg=5,9", "seed=1,2"))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, GridScreen)
        assert "Seed: 1 (1/2" in shown(app, "#grid-title")
        await pilot.press("]")
        assert "Seed: 2 (2/2" in shown(app, "#grid-title") and screen.page == 1
        await pilot.press("tab")
        assert screen.page == 0
        await pilot.press("e")
        await pilot.pause()
        assert app.answers == [] and isinstance(app.screen, GridScreen)


def test_an_unfinished_sweep_has_no_grid_yet(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="has not finished"):
        read_layout(tmp_path / "grids" / "nothing.json")
    (tmp_path / "bad.json").write_text('{"sweep": "x"}')
    with pytest.raises(LayoutError, match="not a genai-tui grid layout"):
        read_layout(tmp_path / "bad.json")
