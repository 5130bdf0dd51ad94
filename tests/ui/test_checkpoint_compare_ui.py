"""Comparing a run's checkpoints from the training screen, and keeping the best as a LoRA."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from genai_tui.ui.app import GenaiApp
from genai_tui.ui.screens.grid_viewer import GridScreen
from genai_tui.ui.widgets.checkpoint_ranking import CheckpointRanking
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.lora_slider import LABEL_WIDTH, LoraSlider, short_label
from tests.fixtures.lora_data import make_lora_data, single_thread
from tests.ui.conftest import wait_for, wait_ready
from tests.ui.test_training_ui import SIZE, fill_form, log_text, open_training, status_text

one_thread = pytest.fixture(scope="module", autouse=True)(single_thread)


async def test_compare_checkpoints_then_export_the_chosen_one(
    make_app: Callable[..., GenaiApp], tmp_path: Path
) -> None:
    data = make_lora_data(tmp_path / "data")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = await open_training(pilot)
        await pilot.press("f6")  # nothing trained yet: said, nothing queued
        assert any("No training run" in n.message for n in app._notifications)
        fill_form(screen, data, "circles", steps=4, validation_every=0, checkpoint_every=2)
        await wait_for(pilot, lambda: "4 images, 4 captions" in status_text(screen))
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: not screen.running, 180)

        await pilot.press("f6")
        table = screen.query_one(CheckpointRanking)
        await wait_for(pilot, lambda: table.row_count == 2, 180)
        log = log_text(screen.query_one("#train-log", LogPanel))
        assert "failed" not in log, log
        assert "queued: compare 2 checkpoints" in log and "best checkpoint of" in log
        assert log.count(": grid ") == 1 and log.count("cell 4 of 4") == 1, log
        await wait_for(pilot, lambda: table.has_focus, 10)  # focus moves at the next refresh
        assert table.display
        ranked = table.ranked
        assert {c.step for c in ranked} == {2, 4} and all(c.cells == 2 for c in ranked)
        assert ranked[0].score is not None and ranked[0].score >= (ranked[1].score or 0)
        assert str(table.get_row_at(0)[0]) == "★ best"

        # The grid opened over the screen, its best cell chosen: e keeps that checkpoint.
        await wait_for(pilot, lambda: isinstance(app.screen, GridScreen), 30)
        await pilot.pause(0.3)
        # Not told to find a grid that is open in front of them.
        assert not any("is ready: g on" in n.message for n in app._notifications)
        store = app.workspace.store
        assert store is not None
        await pilot.press("e")  # the grid closes, back on the training screen
        in_grid = [f"circles-step{step}" for step in (2, 4)]
        await wait_for(pilot, lambda: any(store.lora(name) for name in in_grid), 120)
        kept = next(name for name in in_grid if store.lora(name) is not None)
        assert app.screen is screen

        await wait_for(pilot, lambda: table.has_focus, 10)
        other = next(c.step for c in ranked if f"circles-step{c.step}" != kept)
        if ranked[0].step != other:
            await pilot.press("down")  # the other checkpoint, to keep it from the ranking
        await pilot.press("e")
        await wait_for(pilot, lambda: store.lora(f"circles-step{other}") is not None, 120)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: len(app.query(LoraSlider)) == 3)
        weights = {slider.name_or_path: slider.value for slider in app.query(LoraSlider)}
        # The checkpoint kept last is the one the main screen uses, at the weight the grid
        # rendered it; the run's other LoRAs are off.
        assert weights == {"circles": 0, kept: 0, f"circles-step{other}": 1.0}, weights
        assert app.main_screen.editor_state().loras == {f"circles-step{other}": 1.0}
        await pilot.press("ctrl+q")


def test_the_sliders_of_a_runs_checkpoints_tell_them_apart() -> None:
    names = ["zst-star", "zst-star-step200", "zst-star-step400", "/x/my-long-lora-v2.safetensors"]
    labels = [short_label(name) for name in names]
    assert labels == ["zst-star", "zst-…p200", "zst-…p400", "my-l…a-v2"]
    assert all(len(label) < LABEL_WIDTH for label in labels)  # a space before the bar
