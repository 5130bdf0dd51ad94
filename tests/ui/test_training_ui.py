"""Training a LoRA from the app: the form, the live curve, cancel and resume, the LoRA sliders."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from textual.widgets import Input, Select

from genai_tui.engine.params import LoraWeight
from genai_tui.jobs.editor import lora_weights
from genai_tui.ui.app import GenaiApp
from genai_tui.ui.screens.training import TrainingScreen
from genai_tui.ui.widgets.gallery import Gallery
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.lora_panel import LoraPanel
from genai_tui.ui.widgets.lora_slider import LoraSlider
from genai_tui.ui.widgets.loss_plot import LossPlot
from genai_tui.ui.widgets.slider import Slider
from genai_tui.ui.widgets.train_form import TrainForm
from tests.fixtures.lora_data import make_lora_data, single_thread
from tests.ui.conftest import wait_for, wait_opened, wait_ready

one_thread = pytest.fixture(scope="module", autouse=True)(single_thread)

AppFactory = Callable[..., GenaiApp]
SIZE = (160, 50)


def log_text(panel: LogPanel) -> str:
    return "\n".join(strip.text for strip in panel.lines)


def status_text(screen: TrainingScreen) -> str:
    return str(screen.query_one("#data-status").render())


async def open_training(pilot) -> TrainingScreen:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+t")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TrainingScreen)
    return screen


def fill_form(screen: TrainingScreen, data: Path, name: str, **knobs: float) -> None:
    form = screen.query_one(TrainForm)
    screen.query_one("#data-folder", Input).value = str(data)
    screen.query_one("#lora-name", Input).value = name
    screen.query_one("#knob-learning_rate", Input).value = "5e-2"
    screen.query_one("#knob-validation_prompts", Input).value = "a red sks circle"
    values = {"rank": 4, "alpha": 2, "validation_steps": 2, **knobs}
    for field, value in values.items():
        form.set_knob(field, value)


async def test_train_watch_the_curve_and_use_the_lora(make_app: AppFactory, tmp_path: Path) -> None:
    data = make_lora_data(tmp_path / "data")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = await open_training(pilot)
        fill_form(screen, data, "circles", steps=4, validation_every=2, checkpoint_every=2)
        await wait_for(pilot, lambda: "4 images, 4 captions" in status_text(screen))
        await pilot.press("ctrl+g")
        # 4 steps of the tiny model can be over by the time the key press is processed.
        assert screen.job_id is not None
        await wait_for(pilot, lambda: not screen.running, 180)

        log = log_text(screen.query_one("#train-log", LogPanel))
        assert "failed" not in log, log
        assert "step 4/4" in log and "loss" in log
        assert "LoRA circles is ready" in log
        plot = screen.query_one(LossPlot)
        assert plot.steps[-1] == 4 and len(plot.smoothed) == len(plot.losses)
        assert "step 4/4" in str(screen.query_one("#train-progress").render())
        explained = str(screen.query_one("#train-explain").render())
        assert "UNet parameters" in explained and "%" in explained
        caption = str(screen.query_one("#samples-caption").render())
        assert "samples at step 4, CLIP ★" in caption

        await pilot.press("ctrl+t")  # back; the screen and its log stay
        assert not isinstance(app.screen, TrainingScreen)
        # The samples are in the gallery with their scores, ranked like any image.
        gallery = app.query_one(Gallery)
        samples = [r for r in gallery.order.shown() if r.train_run]
        assert len(samples) == 4 and all(r.clip_score is not None for r in samples)
        panel = app.query_one(LoraPanel)
        await wait_for(pilot, lambda: len(app.query(LoraSlider)) == 1)
        slider = app.query_one(LoraSlider)
        assert slider.name_or_path == "circles" and slider.value == 0
        assert panel.selected() == ()
        slider.focus()
        await pilot.press("space")  # switched on at the default weight
        assert panel.selected() == (LoraWeight("circles", 0.8),)
        await pilot.press("right")
        assert panel.selected() == (LoraWeight("circles", 0.85),)
        assert lora_weights(app.main_screen.editor_state()) == (LoraWeight("circles", 0.85),)

        await pilot.press("ctrl+t")
        assert app.screen is screen and screen.query_one(LossPlot).steps[-1] == 4
        await pilot.press("ctrl+t")
        await pilot.press("ctrl+q")

    saved = json.loads((tmp_path / "sessions" / "test" / "session.json").read_text())
    assert saved["editor"]["loras"] == {"circles": 0.85}
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(again.query(LoraSlider)) == 1)
        assert again.query_one(LoraSlider).value == 0.85
        assert again.query_one(LoraPanel).selected() == (LoraWeight("circles", 0.85),)
        await wait_ready(pilot)


async def test_cancel_writes_a_checkpoint_that_can_be_resumed(
    make_app: AppFactory, tmp_path: Path
) -> None:
    data = make_lora_data(tmp_path / "data")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        screen = await open_training(pilot)
        fill_form(screen, data, "stopped", steps=500)
        await pilot.press("ctrl+g")
        plot = screen.query_one(LossPlot)
        await wait_for(pilot, lambda: len(plot.steps) >= 2, 120)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.running, 120)
        assert isinstance(app.screen, TrainingScreen)  # escape cancelled; it did not leave
        log = log_text(screen.query_one("#train-log", LogPanel))
        assert "cancelled at step" in log and "checkpoint at step" in log

        resume = screen.query_one("#resume", Select)
        options = [folder for _label, folder in screen.query_one(TrainForm).checkpoints]
        assert len(options) == 1 and "checkpoint-" in options[0]
        screen.query_one("#data-folder", Input).value = ""
        resume.value = options[0]
        await pilot.pause()
        assert screen.query_one("#data-folder", Input).value == str(data.resolve())
        assert screen.query_one("#lora-name", Input).value == "stopped"
        assert screen.query_one("#knob-steps", Slider).value == 500
        assert screen.query_one(TrainForm).resume == options[0]
        await pilot.press("escape")  # idle: back to the main screen
        assert not isinstance(app.screen, TrainingScreen)


async def test_a_bad_data_folder_is_explained_and_nothing_starts(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_opened(pilot)
        screen = await open_training(pilot)
        folder = screen.query_one("#data-folder", Input)
        folder.value = str(tmp_path / "missing")
        await wait_for(pilot, lambda: "no such folder" in status_text(screen))
        await pilot.press("ctrl+g")
        assert screen.job_id is None
        assert any("no such folder" in n.message for n in app._notifications)

        mixed = make_lora_data(tmp_path / "mixed", captions=False)
        (mixed / "notes.png").write_bytes(b"not really a png")
        folder.value = str(mixed)
        await wait_for(pilot, lambda: "no .txt caption" in status_text(screen))
        assert "skipped: notes.png (not an image)" in status_text(screen)
        assert "4 images, 0 captions" in status_text(screen)

        screen.query_one("#caption-mode", Select).value = "instance"
        screen.query_one("#instance-prompt", Input).value = "a sks circle"
        await wait_for(pilot, lambda: "no .txt caption" not in status_text(screen))
        assert screen.query_one(TrainForm).params().instance_prompt == "a sks circle"

        screen.query_one("#knob-learning_rate", Input).value = "fast"
        await pilot.press("ctrl+g")
        assert screen.job_id is None
        assert any("learning rate" in n.message for n in app._notifications)
        await wait_ready(pilot)


async def test_a_lora_file_gets_a_slider_and_is_saved(make_app: AppFactory, tmp_path: Path) -> None:
    lora = tmp_path / "style.safetensors"
    save_file({"lora_unet_x.lora_down.weight": np.zeros((1, 1), np.float32)}, str(lora))
    other = tmp_path / "plain.safetensors"
    save_file({"weight": np.zeros((1, 1), np.float32)}, str(other))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_opened(pilot)
        panel = app.query_one(LoraPanel)
        field = app.query_one("#lora-path", Input)
        field.focus()
        field.value = str(other)
        await pilot.press("enter")
        assert "holds no LoRA weights" in str(app.query_one("#lora-error").render())
        field.value = str(lora)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.query(LoraSlider)) == 1)
        assert panel.selected() == (LoraWeight(str(lora), 0.8),)
        assert field.value == ""
        slider = app.query_one(LoraSlider)
        slider.focus()
        await pilot.press("space")  # off, but the file keeps its slider
        assert panel.selected() == ()
        await wait_ready(pilot)
        await pilot.press("ctrl+q")
    saved = json.loads((tmp_path / "sessions" / "test" / "session.json").read_text())
    assert saved["editor"]["loras"] == {str(lora): 0.0}
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(again.query(LoraSlider)) == 1)
        assert again.query_one(LoraSlider).name_or_path == str(lora)
        await wait_ready(pilot)


async def test_on_the_demo_model_the_form_starts_from_its_recipe(
    make_app: AppFactory,
) -> None:
    """A new user on the demo model gets settings that teach the sample set in about a minute,
    and the form says so; on another model the generic defaults stay."""
    from genai_tui.engine.lora.recipes import DEMO_RECIPE

    app = make_app(model="demo")
    async with app.run_test(size=SIZE) as pilot:
        await wait_opened(pilot)
        screen = await open_training(pilot)
        form = screen.query_one(TrainForm)
        assert "demo model's recipe" in str(screen.query_one("#recipe-note").render())
        assert screen.query_one("#knob-rank", Slider).value == DEMO_RECIPE.rank
        assert screen.query_one("#knob-lora_layers", Select).value == "transformer"
        screen.query_one("#data-folder", Input).value = "x"
        assert form.params().snr_gamma == DEMO_RECIPE.snr_gamma
        assert form.params().validation_prompts == DEMO_RECIPE.validation_prompts


async def test_the_form_opens_at_its_top_and_tab_stops_only_on_fields(
    make_app: AppFactory,
) -> None:
    """The data folder has the keys, the recipe note above it in view; tab and shift+tab go
    from field to field (the form's own scroll area, which shows no focus, is no stop)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_opened(pilot)
        screen = await open_training(pilot)
        await pilot.pause()
        assert app.focused is screen.query_one("#data-folder", Input)
        assert screen.query_one(TrainForm).scroll_y == 0  # the note and Resume in view
        await pilot.press("shift+tab")
        assert app.focused is screen.query_one("#resume", Select)
        await pilot.press("shift+tab")
        assert not isinstance(app.focused, TrainForm)
        await pilot.press("tab", "tab", "tab")
        assert app.focused is screen.query_one("#caption-mode", Select)


async def test_the_lora_layers_choice_reaches_the_run(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_opened(pilot)
        screen = await open_training(pilot)
        form = screen.query_one(TrainForm)
        assert "diffusers LoRA example" in str(screen.query_one("#recipe-note").render())
        assert form.params().lora_layers == "attention"
        screen.query_one("#knob-lora_layers", Select).value = "transformer"
        await pilot.pause()
        assert form.params().lora_layers == "transformer"


async def test_a_training_started_elsewhere_while_the_user_types_leaves_the_keys_where_they_go(
    make_app: AppFactory,
) -> None:
    """`genai-tui train` in another shell, on this session: the app said so but had pushed the
    training screen, and the prompt's next keys went into its data folder field."""
    from genai_tui.jobs.events import TrainingStarted, TrainStep
    from genai_tui.ui.messages import WorkerEvent
    from genai_tui.ui.widgets.prompt_editor import PromptEditor

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("a")
        started = TrainingStarted("t", "r", "lo", 10, 100, 0, 50, 10, 64, "cpu")
        app.post_message(WorkerEvent(started))
        app.post_message(WorkerEvent(TrainStep("t", "r", 1, 50, 0.5, 1e-4, 2.0, 25.0)))
        await pilot.pause()
        await pilot.press("b")
        assert app.screen is app.main_screen
        assert app.query_one("#prompt", PromptEditor).text.endswith("ab")
        assert any("ctrl+t shows it" in n.message for n in app._notifications)
        screen = await open_training(pilot)
        await wait_for(pilot, lambda: screen.query_one(LossPlot).steps == [1])
        assert screen.running  # shown as the run it is, from its first events


async def test_a_taken_lora_name_is_refused_before_queueing_and_the_default_name_made_free(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """A second run on a folder failed in the daemon after queueing: "already has a LoRA named
    circles", the name the form had picked itself."""
    data = make_lora_data(tmp_path / "circles")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        store = app.workspace.store
        assert store is not None
        theirs = store.path / "loras" / "circles" / "circles.safetensors"
        theirs.parent.mkdir(parents=True)
        theirs.write_bytes(b"the user's LoRA")
        screen = await open_training(pilot)
        fill_form(screen, data, "circles", steps=2, validation_every=0, checkpoint_every=0)
        await wait_for(pilot, lambda: "4 images, 4 captions" in status_text(screen))
        await pilot.press("ctrl+g")
        assert screen.job_id is None and not screen.running  # nothing queued
        assert any("already has a LoRA named 'circles'" in n.message for n in app._notifications)
        screen.query_one("#lora-name", Input).value = ""  # the default: the folder's name
        await pilot.press("ctrl+g")
        assert screen.job_id is not None
        await wait_for(pilot, lambda: not screen.running, 180)
        log = log_text(screen.query_one("#train-log", LogPanel))
        assert "LoRA circles-2 is ready" in log, log
    assert theirs.read_bytes() == b"the user's LoRA"


async def test_a_data_folder_typed_key_by_key_is_looked_at_once_the_typing_pauses(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/data/photos on the way to /data/photos/dog may hold thousands of files: the form looks
    at the folder after a pause, not at each key."""
    from genai_tui.ui.screens import training

    data = make_lora_data(tmp_path / "dogs")
    looked_at: list[str] = []
    scan = training.scan_folder
    monkeypatch.setattr(training, "scan_folder", lambda f: looked_at.append(str(f)) or scan(f))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_opened(pilot)
        screen = await open_training(pilot)
        await pilot.pause(0.5)
        looked_at.clear()
        for key in str(data):
            await pilot.press(key)  # the data folder field has the focus
        await wait_for(pilot, lambda: "4 images" in status_text(screen))
        assert looked_at == [str(data)]
        await wait_ready(pilot)
