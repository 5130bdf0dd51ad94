"""Parts of the training UI on their own: the loss curve, the data scan, help, imports."""

from __future__ import annotations

from pathlib import Path

from genai_tui.ui.data_scan import IGNORED_SUFFIXES, scan_folder
from genai_tui.ui.help_text import HELP_MARKDOWN
from genai_tui.ui.widgets.loss_plot import LossPlot, draw_loss, smooth
from tests.fixtures.lora_data import make_lora_data


def plot_rows(text: str) -> list[str]:
    """The plot rows of a drawing, without the header, the labels and the step axis."""
    return [line.split("┤")[-1].split("│")[-1] for line in text.splitlines()[1:-1]]


def test_smoothing_starts_at_the_first_value_and_follows_slowly() -> None:
    values = [1.0, 0.0, 0.0, 0.0]
    averaged = smooth(values, 0.9)
    assert averaged[0] == 1.0  # debiased: no pull towards zero at the start
    assert 1.0 > averaged[1] > averaged[2] > averaged[3] > 0.0
    assert smooth([2.0, 2.0, 2.0]) == [2.0, 2.0, 2.0]


def test_a_falling_curve_goes_from_top_left_to_bottom_right() -> None:
    steps = list(range(1, 101))
    losses = [1.0 / step for step in steps]
    drawn = draw_loss(steps, losses, smooth(losses), 0, 100, 60, 12).plain
    lines = drawn.splitlines()
    assert lines[0].startswith("loss 0.0100") and "step 100/100" in lines[0]
    assert lines[1].strip().startswith("1┤")  # the highest loss labels the top row
    assert "0.01┤" in lines[-2]  # the lowest the bottom row
    assert "step 0" in lines[-1] and lines[-1].rstrip().endswith("100")
    rows = plot_rows(drawn)
    assert len(rows) == 10 and all(len(row) == 50 for row in rows)
    blank = chr(0x2800)
    top, bottom = rows[0], rows[-1]
    assert top[:3].strip(blank) and not top[-10:].strip(blank)
    assert bottom[-10:].strip(blank) and not bottom[:3].strip(blank)


def test_many_points_draw_in_the_plot_width_and_nothing_waits_for_steps() -> None:
    steps = list(range(20_000))
    losses = [0.1 + (step % 7) / 100 for step in steps]
    drawn = draw_loss(steps, losses, smooth(losses), 0, 20_000, 40, 8).plain
    assert all(len(row) == 30 for row in plot_rows(drawn))
    assert "waiting" in draw_loss([], [], [], 0, 10, 40, 8).plain


def test_the_widget_keeps_the_points_and_their_smoothed_curve() -> None:
    plot = LossPlot()
    plot.reset(10, 20)  # a run resumed at step 10
    for step, loss in zip(range(11, 15), [0.5, 0.4, 0.3, 0.2], strict=True):
        plot.add(step, loss)
    assert plot.steps == [11, 12, 13, 14]
    assert plot.smoothed == smooth(plot.losses)


def test_the_scan_skips_what_training_skips(tmp_path: Path) -> None:
    assert ".md" in IGNORED_SUFFIXES  # the training-folder rules, engine.lora.folder's
    folder = make_lora_data(tmp_path / "data", count=3)
    (folder / "notes.md").write_text("ignored")
    (folder / "broken.png").write_bytes(b"nope")
    scan = scan_folder(folder)
    assert scan.images == ("circle-0.png", "circle-1.png", "circle-2.png")
    assert scan.unreadable == ("broken.png",) and scan.captions == 3
    assert scan.problem("") is None
    assert "no images" in (scan_folder(tmp_path / "data" / "..").error or "")


def test_the_help_explains_what_lora_trains() -> None:
    assert "Y = W X + (alpha / r) · B A X" in HELP_MARKDOWN and "B: d×r, A: r×k" in HELP_MARKDOWN
    assert "to_q, to_k, to_v, to_out.0" in HELP_MARKDOWN


def test_the_training_ui_loads_no_ml_library() -> None:
    from tests.test_import_hygiene import HEAVY, modules_after_import

    loaded = modules_after_import("genai_tui.ui.screens.training")
    assert not [name for name in HEAVY if name in loaded]


async def test_the_form_takes_the_loaded_models_recipe_unless_the_user_changed_it() -> None:
    """The training screen can open before the default model is known (it loads in the
    daemon): its starting values follow the model that loads, but never overwrite a user's."""
    from textual.app import App, ComposeResult

    from genai_tui.engine.lora.recipes import recipe_note, recommended_params
    from genai_tui.ui.widgets.train_form import TrainForm

    class FormApp(App[None]):
        def compose(self) -> ComposeResult:
            yield TrainForm(recommended_params(None), recipe_note(None))

    app = FormApp()
    async with app.run_test(size=(100, 60)) as pilot:
        form = app.query_one(TrainForm)
        form.use_recipe(recommended_params("demo"), recipe_note("demo"))
        await pilot.pause()
        assert form.params().steps == recommended_params("demo").steps
        note = str(app.query_one("#recipe-note").render())
        assert "demo model's recipe" in note
        form.set_knob("steps", 77)
        form.use_recipe(recommended_params(None), recipe_note(None))
        await pilot.pause()
        assert form.params().steps == 77  # the user's value stays
