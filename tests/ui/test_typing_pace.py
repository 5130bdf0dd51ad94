"""Keys first: while the user types, preview frames wait (issue 12's key latency)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PIL import Image
from textual.app import App, ComposeResult

from genai_tui.ui import typing_pace
from genai_tui.ui.graphics import TerminalFacts
from genai_tui.ui.images import ImageDrawing
from genai_tui.ui.widgets.picture import Picture
from genai_tui.ui.widgets.preview import PreviewPane
from tests.ui.conftest import wait_opened


class PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PreviewPane(ImageDrawing("halfcell", TerminalFacts()))


async def test_frames_wait_while_keys_come_and_the_last_step_is_always_drawn() -> None:
    red, blue, green = (Image.new("RGB", (8, 8), c) for c in ("red", "blue", "green"))
    app = PaneApp()
    async with app.run_test(size=(60, 30)):
        pane = app.query_one(PreviewPane)
        picture = pane.query_one("#preview-image", Picture)
        pane.show_step(1, 10, 1.0, (red,))
        assert picture.image is not None and picture.image.getpixel((0, 0))[0] > 200
        typing_pace.key_pressed()  # what genai-tui's app does with every key (below)
        time.sleep(0.25)  # a frame is due again by the preview's own pace...
        pane.show_step(2, 10, 1.0, (blue,))
        assert picture.image.getpixel((0, 0))[2] < 200  # ...but waits: the red one stays
        assert "step 2/10" in str(pane.query_one("#preview-status").render())  # the bar moves
        pane.show_step(10, 10, 1.0, (green,))  # the last step is drawn whatever
        assert picture.image.getpixel((0, 0))[1] > 100


async def test_the_app_notes_every_key_even_those_a_widget_takes(
    make_app: Callable[..., Any],
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_opened(pilot)
        time.sleep(typing_pace.QUIET_SECONDS)
        assert not typing_pace.typing()
        await pilot.press("a")  # typed into the prompt, which keeps it
        assert typing_pace.typing()
        assert app.query_one("#prompt").text == "a"
