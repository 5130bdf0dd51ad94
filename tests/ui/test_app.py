"""The app as a user drives it: type, generate, watch, open, reuse, cancel, reopen."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label

from genai_tui.jobs.events import Progress
from genai_tui.session.store import SessionStore
from genai_tui.ui.app import GenaiApp
from genai_tui.ui.commands import palette_actions
from genai_tui.ui.screens.help import HelpScreen
from genai_tui.ui.screens.viewer import ViewerScreen
from genai_tui.ui.widgets.gallery import Gallery
from genai_tui.ui.widgets.knob_widgets import KnobSlider
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.param_panel import ParamPanel
from genai_tui.ui.widgets.prompt_editor import PromptEditor
from genai_tui.ui.widgets.slider import Slider
from genai_tui.ui.widgets.status_header import StatusHeader
from tests.ui.conftest import wait_for, wait_opened, wait_ready

AppFactory = Callable[..., GenaiApp]


async def test_opens_with_the_prompt_focused_and_the_session_in_the_header(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        assert isinstance(app.focused, PromptEditor) and app.focused.id == "prompt"
        assert app.query_one(StatusHeader).session == "test"
        await wait_ready(pilot)
        assert app.query_one(StatusHeader).model.startswith("tiny-sd")
        status = app.query_one("#preview-status", Label)
        await wait_for(pilot, lambda: "ready on cpu" in str(status.render()))
        await pilot.pause(0.3)  # the load's end came too: it said "done in 4.0 s" over it
        assert str(status.render()).startswith("tiny-sd") and "done" not in str(status.render())


async def test_type_generate_and_thumbnails_arrive(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"a red circle")
        app.query_one("#batch", Slider).set_value(2)
        app.query_one("#steps", Slider).set_value(4)
        await pilot.press("ctrl+g")
        gallery = app.query_one(Gallery)
        await wait_for(pilot, lambda: len(gallery.records) == 2 and not app.jobs.busy)
        for record in gallery.records:
            assert (tmp_path / "sessions" / "test" / record.file).is_file()
            assert record.prompt == "a red circle" and record.steps == 4
        assert gallery.records[0].seed == gallery.records[1].seed + 1  # newest first


async def test_open_the_viewer_and_reuse_a_seed(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"a blue square")
        app.query_one("#steps", Slider).set_value(3)
        await pilot.press("ctrl+g")
        gallery = app.query_one(Gallery)
        await wait_for(pilot, lambda: len(gallery.records) == 1 and not app.jobs.busy)
        gallery.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, ViewerScreen)
        await pilot.press("s")
        assert not isinstance(app.screen, ViewerScreen)
        panel = app.query_one(ParamPanel)
        assert panel.seed == gallery.records[0].seed
        assert panel.read("", "").seed_locked


async def test_cancel_mid_way_keeps_nothing(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Steps of the tiny model slowed to a pace escape can overtake (150 of them take far less
    # than a key press otherwise, whatever the machine).
    from genai_tui.engine import generate as engine

    generate = engine.generate

    def slow(model: Any, params: Any, on_step: Callable[[Any], None], *a: Any, **k: Any) -> Any:
        def step(info: Any) -> None:
            time.sleep(0.02)
            on_step(info)

        return generate(model, params, step, *a, **k)

    monkeypatch.setattr(engine, "generate", slow)
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"a tree")
        app.query_one("#steps", Slider).set_value(150)
        steps: list[int] = []
        original = app.main_screen.show_event

        def spy(event: object) -> None:
            if isinstance(event, Progress):
                steps.append(event.step)
            original(event)  # type: ignore[arg-type]

        app.main_screen.show_event = spy  # type: ignore[method-assign]
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: len(steps) >= 2)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.jobs.busy)
        assert max(steps) < 150
        assert app.query_one(Gallery).records == []
        assert "cancelled" in str(app.query_one("#preview-status").render())


async def test_a_failing_job_leaves_the_app_usable(
    make_app: AppFactory, tiny_model_dir: Path, tmp_path: Path
) -> None:
    app = make_app(model=str(tmp_path / "missing.safetensors"))
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_for(pilot, lambda: not app.jobs.busy and bool(app._notifications))
        assert any("missing.safetensors" in n.message for n in app._notifications)
        app.workspace.model_ref = str(tiny_model_dir)  # as if the user picked another model
        await pilot.press(*"a dog", "ctrl+g")
        gallery = app.query_one(Gallery)
        await wait_for(pilot, lambda: len(gallery.records) == 1 and not app.jobs.busy, 120)


async def test_reopening_restores_the_session(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"a yellow star")
        app.query_one("#steps", Slider).set_value(3)
        await pilot.press("ctrl+g")
        await wait_for(
            pilot, lambda: len(app.query_one(Gallery).records) == 1 and not app.jobs.busy
        )
        app.query_one("#negative", PromptEditor).load_text("blurry")
        app.query_one("#cfg", Slider).set_value(9.5, notify=True)
        await pilot.press("ctrl+q")
    again = make_app()
    async with again.run_test(size=(140, 42)) as pilot:
        await wait_opened(pilot)
        # The session opens just after the first frame is drawn (its models load then).
        await wait_for(pilot, lambda: again.workspace.store is not None)
        assert again.query_one("#prompt", PromptEditor).text == "a yellow star"
        assert again.query_one("#negative", PromptEditor).text == "blurry"
        assert again.query_one("#cfg", Slider).value == 9.5
        assert again.query_one("#steps", Slider).value == 3
        assert len(again.query_one(Gallery).records) == 1
        assert again.query_one("#prompt", PromptEditor).prompt_history == ["a yellow star"]
        await wait_ready(pilot)
    store = SessionStore.open(tmp_path / "sessions", "test", create=False)
    store.set_editor(store.session.editor.model_copy(update={"steps": 600}))  # by a script
    store.save()
    third = make_app()
    async with third.run_test(size=(140, 42)) as pilot:
        await wait_for(pilot, lambda: third.workspace.store is not None)
        assert third.query_one("#steps", Slider).value == 600  # past the slider's 150, kept
        assert third.query_one(ParamPanel).values()["steps"] == 600
        steps = third.query_one("#steps", KnobSlider)
        steps.show(25)  # another session's usual value: the usual end again
        assert steps.scale.maximum == 150


async def test_prompt_history_walks_with_up_and_down(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_for(pilot, lambda: app.workspace.store is not None)  # it sets the history
        editor = app.query_one("#prompt", PromptEditor)
        editor.set_history(["first prompt", "second prompt"])
        await pilot.press(*"draft")
        await pilot.press("up")
        assert editor.text == "second prompt"
        await pilot.press("up")
        assert editor.text == "first prompt"
        await pilot.press("down", "down")
        assert editor.text == "draft"
        await wait_ready(pilot)


async def test_tab_walks_from_the_prompts_to_the_knobs_with_no_stop_on_nothing(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("tab")
        assert app.focused is app.query_one("#negative", PromptEditor)
        await pilot.press("tab")
        assert app.focused is app.query_one("#steps", Slider)  # the panel holding it is none
        await pilot.press("right")
        assert app.query_one("#steps", Slider).value == 26


async def test_sliders_move_with_arrows_and_take_typed_values(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_opened(pilot)
        steps = app.query_one("#steps", Slider)
        steps.focus()
        await pilot.press("right")
        assert steps.value == 26
        await pilot.press("shift+right")
        assert steps.value == 36
        await pilot.press("1", "2", "enter")
        assert steps.value == 12
        await pilot.press("9", "9", "9", "enter")
        assert steps.value == 150  # clamped to the range
        width = app.query_one("#width", Slider)
        width.focus()
        await pilot.press("5", "0", "0", "enter")
        assert width.value == 496  # sizes snap to multiples of 8
        cfg = app.query_one("#cfg", Slider)
        cfg.focus()
        await pilot.press("left")
        assert cfg.value == 6.5
        await wait_ready(pilot)


async def test_delete_from_the_viewer_moves_the_file_to_trash(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"a cat")
        app.query_one("#steps", Slider).set_value(2)
        await pilot.press("ctrl+g")
        gallery = app.query_one(Gallery)
        await wait_for(pilot, lambda: len(gallery.records) == 1 and not app.jobs.busy)
        name = Path(gallery.records[0].file).name
        gallery.focus()
        await pilot.press("enter", "delete", "y")
        await pilot.pause()
        assert gallery.records == []
        assert (tmp_path / "sessions" / "test" / "trash" / name).is_file()


async def test_help_explains_the_knobs(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_opened(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await wait_ready(pilot)


async def test_every_action_is_in_the_command_palette(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_opened(pilot)
        titles = {command.title for command in palette_actions(app.screen)}
        assert {"Generate", "Cancel", "Reuse seed", "Open", "New", "Log", "Help", "Sweep"} <= titles
        await wait_ready(pilot)


async def test_a_bad_seed_field_falls_back_to_random(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_opened(pilot)
        app.query_one("#seed", Input).value = "99999999999"
        assert app.query_one(ParamPanel).seed is None
        await wait_ready(pilot)


async def test_what_another_process_adds_to_the_session_shows_up(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """`genai-tui train` or `generate` under nohup writing to the session the TUI has open:
    its images and LoRAs appear within a few seconds, and the TUI's own saves keep them."""
    from PIL import Image

    from genai_tui.session.models import LoraRecord
    from genai_tui.session.store import SessionStore
    from genai_tui.ui.widgets.lora_panel import LoraPanel
    from tests.unit.test_session_store import make_record

    app = make_app()
    async with app.run_test(size=(150, 46)) as pilot:
        await wait_ready(pilot)
        other = SessionStore.open(tmp_path / "sessions", "test")
        added = other.add_image(make_record(seed=7), Image.new("RGB", (8, 8), "red"), "test")
        (other.path / "loras" / "stars").mkdir(parents=True)
        (other.path / "loras" / "stars" / "stars.safetensors").write_bytes(b"")
        other.add_lora(
            LoraRecord(
                name="stars", folder="loras/stars", webui_file="loras/stars/stars.safetensors",
                diffusers_file="x", base_model="demo", rank=4, alpha=4.0, steps=1,
            )
        )  # fmt: skip
        gallery = app.query_one(Gallery)
        await wait_for(pilot, lambda: [r.file for r in gallery.records] == [added.file], 10)
        await wait_for(pilot, lambda: "stars" in app.query_one(LoraPanel).shown, 10)
        log = "\n".join(line.text for line in app.query_one(LogPanel).lines)
        assert "the session changed on disk (another process)" in log
        await pilot.press(*"typed here")
        await pilot.press("ctrl+q")
    saved = SessionStore.open(tmp_path / "sessions", "test", create=False).session
    assert [i.file for i in saved.images] == [added.file] and saved.loras[0].name == "stars"
    assert saved.editor.prompt == "typed here"


async def test_a_damaged_session_is_left_alone_and_no_empty_sessions_pile_up(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """Asked for a session whose file is damaged, the app says so and opens the most recent
    good session; starting it again the same way opens that one again, not a new one."""
    root = tmp_path / "sessions"
    (root / "broken").mkdir(parents=True)
    damaged = b'{"name": "broken", "images": ['
    (root / "broken" / "session.json").write_bytes(damaged)
    for attempt in range(2):
        app = make_app(session="broken")
        async with app.run_test(size=(140, 42)) as pilot:
            await wait_for(pilot, lambda: app.workspace.store is not None)  # noqa: B023
            opened = app.workspace.store
            assert opened is not None and opened.name != "broken"
            assert any("left as it was" in n.message for n in app._notifications)
            await wait_ready(pilot)
            await pilot.press("ctrl+q")
        names = sorted(p.name for p in root.iterdir())
        assert names == ["broken", opened.name], (attempt, names)
    assert (root / "broken" / "session.json").read_bytes() == damaged


async def test_an_interrupted_training_run_is_offered_for_resuming(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """A run whose trainer died (kill -9, a dropped link) is named on opening, with the
    checkpoint it can go on from."""
    import json
    import socket

    from genai_tui.session.store import SessionStore

    root = tmp_path / "sessions"
    store = SessionStore.open(root, "test")
    store.save()
    (store.path / "runs" / "stars-1" / "checkpoint-2").mkdir(parents=True)
    raw = store.session.model_dump()
    dead = {"status": "running", "pid": 2**22 + 12345, "host": socket.gethostname(), "step": 3}
    checkpoints = ["runs/stars-1/checkpoint-2"]
    raw["runs"] = [{"name": "stars-1", "lora": "stars", "checkpoints": checkpoints, **dead}]
    (store.path / "session.json").write_text(json.dumps(raw))
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        log = "\n".join(strip.text for strip in app.query_one(LogPanel).lines)
        assert 'training run "stars-1" was interrupted: resume from checkpoint 2' in log
        assert any("Resume" in n.message for n in app._notifications)
