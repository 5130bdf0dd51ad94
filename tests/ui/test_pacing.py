"""A key typed comes before a job's progress: while keys come, the preview, a training's step
line, loss curve and the header's training step wait for a pause in the typing, or go out just
after a key's echo at most once a TYPING_MAX_WAIT, and show the newest."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image
from textual.widgets import Input, Label

from genai_tui.jobs.events import Progress, TrainingStarted, TrainStep
from genai_tui.ui.app import GenaiApp
from genai_tui.ui.pacing import STEP_INTERVAL, TYPING_MAX_WAIT, TYPING_PAUSE, ProgressPace
from genai_tui.ui.screens.training import TrainingScreen
from genai_tui.ui.widgets.loss_plot import REDRAW_INTERVAL, LossPlot
from genai_tui.ui.widgets.picture import Picture
from genai_tui.ui.widgets.preview import PreviewPane
from genai_tui.ui.widgets.prompt_editor import PromptEditor
from genai_tui.ui.widgets.status_header import StatusHeader
from tests.ui.conftest import wait_ready

AppFactory = Callable[..., GenaiApp]


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_drawn_every_step_interval_and_while_typing_only_after_a_key() -> None:
    clock = Clock()
    pace = ProgressPace(clock)
    drawn: list[tuple[float, int]] = []
    for tick in range(200):  # 2 s of steps every 10 ms, a key every 50 ms in the second half
        clock.now = 100.0 + tick * 0.01
        pace.offer("preview", lambda tick=tick: drawn.append((round(clock.now - 100, 2), tick)))
        if tick >= 100 and tick % 5 == 0:
            pace.key_pressed()
            for draw in pace.key_handled():  # the app runs these once the key's echo is out
                draw()
    quiet = [t for t, _ in drawn if t < 1.0]
    typing = [(t, step) for t, step in drawn if t >= 1.0]
    assert len(quiet) == 1.0 / STEP_INTERVAL
    # While keys come: only with a key, at most once a TYPING_MAX_WAIT, and then the newest step
    assert len(typing) <= 1 / TYPING_MAX_WAIT + 1
    assert all(round(t * 100) % 5 == 0 and step == round(t * 100) for t, step in typing)
    clock.now += TYPING_PAUSE  # the typing paused: drawn again at once
    pace.offer("preview", lambda: drawn.append((-1, -1)))
    assert drawn[-1] == (-1, -1)
    pace.offer("preview", lambda: drawn.append((-2, -2)), last=True)  # the last step never waits
    assert drawn[-1] == (-2, -2)
    pace.offer("loss plot", lambda: drawn.append((-3, -3)))  # each thing drawn keeps its time
    assert drawn[-1] == (-3, -3)


def test_a_step_held_for_a_key_is_not_drawn_once_its_job_ended() -> None:
    clock = Clock()
    pace = ProgressPace(clock)
    drawn: list[str] = []
    pace.key_pressed()
    pace.offer("preview", lambda: drawn.append("step 7"))  # typing: held for a key
    pace.drop("preview")  # the job was cancelled
    clock.now += TYPING_MAX_WAIT
    pace.key_pressed()
    assert pace.key_handled() == []
    pace.offer("preview", lambda: drawn.append("step 8"))
    clock.now += TYPING_MAX_WAIT
    later = pace.key_handled()  # to run once the key's echo is out...
    pace.drop("preview")  # ...but the job ended first
    for draw in later:
        draw()
    assert drawn == []


async def test_while_keys_come_a_training_holds_its_step_line_curve_and_header(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(images="halfcell")
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_ready(pilot)
        clock = Clock()
        app.workspace.pace = ProgressPace(clock)
        await pilot.press("ctrl+t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        plot = screen.query_one(LossPlot)
        header = app.main_screen.query_one(StatusHeader)
        screen.show_event(TrainingStarted("t", "r", "lo", 1000, 10**5, 0, 100, 10, 64, "cpu"))

        def step(n: int) -> None:
            for shown_on in (screen, app.main_screen):  # the app gives every screen each event
                shown_on.show_event(TrainStep("t", "r", n, 100, 1 / n, 1e-4, 2.0, 50.0))

        def line() -> str:
            return str(screen.query_one("#train-progress", Label).render())

        clock.now += TYPING_PAUSE + 0.01  # ctrl+t was a key too
        step(1)
        await pilot.pause(2 * REDRAW_INTERVAL)
        assert "step 1/100" in line() and "training 1/100" in str(header.status)
        redrawn: list[int] = []
        refresh = plot.refresh
        monkeypatch.setattr(plot, "refresh", lambda *a, **k: redrawn.append(1) or refresh(*a, **k))
        for n, key in zip(range(2, 9), "runs-on", strict=True):
            clock.now += 0.1
            await pilot.press(key)
            step(n)
        await pilot.pause(2 * REDRAW_INTERVAL)  # the plot's timer came round, and found keys
        assert "step 1/100" in line() and "training 1/100" in str(header.status)
        assert redrawn == [] and plot.steps[-1] == 8  # kept, not drawn
        assert screen.query_one("#data-folder", Input).value.endswith("runs-on")
        clock.now += TYPING_PAUSE + 0.01  # the typing paused
        step(9)
        await pilot.pause(2 * REDRAW_INTERVAL)
        assert redrawn and "step 9/100" in line() and "training 9/100" in str(header.status)
        clock.now += 0.01
        step(100)  # the last step, however soon
        assert "step 100/100" in line() and "training 100/100" in str(header.status)


def status(app: GenaiApp) -> str:
    return str(app.query_one("#preview-status", Label).render())


async def test_while_keys_come_the_preview_waits_then_shows_the_newest_step_and_frame(
    make_app: AppFactory,
) -> None:
    app = make_app(images="halfcell")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        clock = Clock()
        app.workspace.pace = ProgressPace(clock)
        screen = app.main_screen
        red, blue = Image.new("RGB", (32, 32), "red"), Image.new("RGB", (32, 32), "blue")

        def step(n: int, *frames: Image.Image) -> None:
            screen.show_event(Progress("j", n, 100, n / 10, frames, "vae"))

        step(1, red)
        await pilot.pause()
        assert "step 1/100" in status(app)
        for n, key in zip(range(2, 9), "a red s", strict=True):
            clock.now += 0.1
            await pilot.press(key if key != " " else "space")
            step(n, *([blue] if n == 4 else []))
            await pilot.pause()
            assert "step 1/100" in status(app)  # held back while the user types
        assert app.query_one("#prompt", PromptEditor).text.endswith("a red s")
        clock.now = 100.0 + TYPING_MAX_WAIT  # keys still come, but progress waited long enough
        await pilot.press("q")  # drawn after this key's echo: the newest step held
        await pilot.pause()
        assert "step 8/100" in status(app)
        assert app.query_one("#prompt", PromptEditor).text.endswith("a red sq")
        shown = app.query_one("#preview-image", Picture).image
        assert shown is not None and shown.getpixel((shown.width // 2, shown.height // 2)) == (
            0,
            0,
            255,
        )  # the frame that came while the user typed
        step(9)  # keys still come: held for the next key a TYPING_MAX_WAIT on
        await pilot.press("u")
        await pilot.pause()
        assert "step 8/100" in status(app)
        clock.now += TYPING_PAUSE + 0.01  # the typing paused: each STEP_INTERVAL again
        step(11)
        await pilot.pause()
        assert "step 11/100" in status(app)
        step(100)  # the last step, however soon
        await pilot.pause()
        assert "step 100/100" in status(app)
        header = str(app.query_one(StatusHeader).status)
        assert "step" not in header  # the step is said once, in the pane, not also a second late


@pytest.mark.parametrize("size", [(80, 24), (140, 42)])  # the pane is narrowest at 140x42
async def test_a_step_repaints_the_bar_the_step_line_and_the_frame_and_arranges_nothing(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """Per step the whole preview pane was repainted (its subtitle set again) and, where the pane
    was too narrow for the bar's percentage, Textual arranged the whole screen again: the waits
    a typist had while generating (bench/daemon_bench.py keys)."""
    from textual._compositor import Compositor
    from textual.screen import Screen

    app = make_app(images="halfcell")
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        clock = Clock()
        app.workspace.pace = ProgressPace(clock)
        screen = app.main_screen
        frame = Image.new("RGB", (32, 32), "red")
        screen.show_event(Progress("j", 1, 100, 0.1, (frame,), "vae"))  # shows the bar: laid out
        await pilot.pause(0.5)
        arranged: list[int] = []
        painted: list[int] = []
        arrange, paint = Compositor._arrange_root, Screen._compositor_refresh

        def counted_arrange(*args: object, visible_only: bool = True) -> object:
            if not visible_only:  # the map of every widget, rebuilt after an unseen one changed
                arranged.append(1)
            return arrange(*args, visible_only=visible_only)  # type: ignore[arg-type]

        def counted_paint(self: Screen[None]) -> None:
            # Within the pane: the prompt's blinking cursor repaints too, whatever the steps do.
            pane = app.query_one(PreviewPane).region
            painted.extend(pane.intersection(r).area for r in self._compositor._dirty_regions)
            paint(self)

        monkeypatch.setattr(Compositor, "_arrange_root", counted_arrange)
        monkeypatch.setattr(Screen, "_compositor_refresh", counted_paint)
        picture = app.query_one("#preview-image", Picture).query_one(".picture-view").region
        for step in range(2, 12):
            clock.now += STEP_INTERVAL + 0.01
            frames = (Image.new("RGB", (32, 32), (step * 20, 0, 0)),) if step % 2 else ()
            screen.show_event(Progress("j", step, 100, step / 10, frames, "vae"))
            await pilot.pause()
        assert "step 11/100" in status(app)
        assert arranged == []
        line = app.query_one(PreviewPane).content_region.width
        assert sum(painted) <= 10 * (2 * line) + 5 * picture.area
