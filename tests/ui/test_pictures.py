"""Every picture keeps its shape (preview, gallery, viewer, session picker), and f2 switches
how the preview is made."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image
from textual.pilot import Pilot
from textual.widgets import Checkbox

from genai_tui.ui.app import GenaiApp
from genai_tui.ui.images import cell_pixels, fit_cells
from genai_tui.ui.screens.session_picker import SessionPicker
from genai_tui.ui.screens.viewer import ViewerScreen
from genai_tui.ui.widgets.gallery import Gallery, Slot
from genai_tui.ui.widgets.picture import Picture
from genai_tui.ui.widgets.preview import PREVIEW_PIXELS, PreviewPane, frame_side, tile
from genai_tui.ui.widgets.prompt_editor import PromptEditor
from genai_tui.ui.widgets.slider import Slider
from tests.ui.conftest import wait_for, wait_ready

AppFactory = Callable[..., GenaiApp]


@pytest.mark.parametrize(
    ("picture", "box", "cell", "fitted"),
    [
        ((32, 32), (28, 26), (10, 20), (28, 14)),  # a square in a tall pane: as wide, half as tall
        ((64, 32), (28, 26), (10, 20), (28, 7)),
        ((32, 64), (28, 26), (10, 20), (26, 26)),  # tall: the height is the limit
        ((512, 512), (16, 7), (10, 20), (14, 7)),  # a gallery slot
        ((512, 512), (40, 20), (8, 16), (40, 20)),
        ((512, 512), (10, 10), (7, 15), (10, 5)),
        ((10, 1000), (5, 5), (10, 20), (1, 5)),  # never narrower than one cell
        ((0, 0), (28, 26), (10, 20), (0, 0)),
        ((32, 32), (0, 26), (10, 20), (0, 0)),
    ],
)
def test_the_box_has_the_pictures_shape(
    picture: tuple[int, int], box: tuple[int, int], cell: tuple[int, int], fitted: tuple[int, int]
) -> None:
    assert fit_cells(picture, box, cell) == fitted


def test_a_batch_is_tiled_in_cells_of_its_shape() -> None:
    wide = [Image.new("RGB", (128, 64), "red") for _ in range(6)]
    assert tile(wide).size == (4 * 64, 2 * 32)
    assert tile([Image.new("RGB", (32, 64))] * 2, size=128).size == (2 * 64, 128)
    assert tile([Image.new("RGB", (8, 8))]).size == (64, 64)


def test_preview_frames_are_sent_no_larger_than_the_pane_shows() -> None:
    big = Image.new("RGB", (512, 512))
    assert frame_side((big,)) == PREVIEW_PIXELS
    assert frame_side((big,) * 4) * 4 <= PREVIEW_PIXELS
    assert frame_side((Image.new("RGB", (8, 8)),)) == 64  # latents blown up, never blurred


def assert_drawn_at_shape(picture: Picture, size: tuple[int, int]) -> None:
    """The widget's cell box has the picture's aspect ratio (within a cell), fills the box one
    way and sits in its middle."""
    columns, rows = picture.drawn_cells
    cell_width, cell_height = cell_pixels()
    width, height = size
    assert columns > 0 and rows > 0
    assert abs(rows - columns * cell_width * height / (width * cell_height)) <= 1
    box = picture.content_region
    view = picture.query_one(".picture-view").region
    assert columns == box.width or rows == box.height
    left, right = view.x - box.x, box.right - view.right
    top, bottom = view.y - box.y, box.bottom - view.bottom
    assert abs(left - right) <= 1 and abs(top - bottom) <= 1


async def make_one(pilot: Pilot[None], width: int, height: int) -> None:
    app = pilot.app
    await pilot.press(*"a red circle")
    for name, value in (("#width", width), ("#height", height), ("#steps", 2)):
        app.query_one(name, Slider).set_value(value)
    app.query_one("#score", Checkbox).value = False
    await pilot.press("ctrl+g")
    gallery = app.query_one(Gallery)
    await wait_for(pilot, lambda: len(gallery.records) == 1 and not app.jobs.busy)  # type: ignore[attr-defined]
    await pilot.pause(0.2)


@pytest.mark.parametrize("images", ["halfcell", "unicode"])
async def test_the_preview_keeps_the_shape_of_a_square_and_a_wide_image(
    make_app: AppFactory, images: str
) -> None:
    app = make_app(images=images)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        pane = app.query_one(PreviewPane)
        for size in ((32, 32), (64, 32)):
            pane.show_image(Image.new("RGB", size, "red"), "shown")
            await pilot.pause()
            assert_drawn_at_shape(app.query_one("#preview-image", Picture), size)


def count_layouts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, a 1 in the list returned for each layout pass of the whole screen."""
    from textual.screen import Screen

    layouts: list[int] = []
    lay_out = Screen._refresh_layout

    def counted(screen: Screen[None], *args: object, **kwargs: object) -> None:
        layouts.append(1)
        lay_out(screen, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    return layouts


async def test_preview_frames_repaint_the_picture_without_laying_out_the_screen(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layout pass of the whole screen per frame was what a typist waited for while
    generating (bench/daemon_bench.py keys); a frame of the same shape needs a repaint only.
    The frames still land: the picture shows the last one."""
    app = make_app(images="halfcell")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        pane = app.query_one(PreviewPane)
        # The first frame gives the picture its shape: a layout.
        pane.show_step(1, 9, 3.0, (Image.new("RGB", (32, 32), "red"),), "preview: VAE")
        await pilot.pause()
        layouts = count_layouts(monkeypatch)
        picture = app.query_one("#preview-image", Picture)
        for step, colour in enumerate(("blue", "green", "yellow"), start=2):
            pane.show_step(step, 9, 3.0, (Image.new("RGB", (32, 32), colour),), "preview: VAE")
            await pilot.pause()
        assert layouts == []
        shown = picture.image
        assert shown is not None and shown.getpixel((shown.width // 2, shown.height // 2)) == (
            255,
            255,
            0,
        )
        assert_drawn_at_shape(picture, (32, 32))


async def test_a_batch_lands_in_its_tile_and_the_next_batch_lays_nothing_out(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finished images take their frames' places, left to right: the pane shows the whole
    batch, keeps its shape, and the next batch's first step (a key typed then waited 30-40 ms
    for its layout) and the bar coming and going need no layout pass."""
    app = make_app(images="halfcell")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        pane = app.query_one(PreviewPane)
        picture = app.query_one("#preview-image", Picture)

        def batch(*colours: str) -> tuple[Image.Image, ...]:
            return tuple(Image.new("RGB", (32, 32), colour) for colour in colours)

        pane.reset_progress()
        pane.show_step(1, 9, 3.0, batch("red", "red"), "preview: VAE")
        await pilot.pause()
        layouts = count_layouts(monkeypatch)
        pane.show_step(9, 9, 3.0, batch("red", "red"), "preview: VAE")
        for colour, name in (("blue", "0001-1.png"), ("lime", "0002-2.png")):
            pane.show_image(Image.new("RGB", (512, 512), colour), f"saved {name}")
        await pilot.pause()
        shown = picture.image
        assert shown is not None
        middle = shown.height // 2
        assert shown.getpixel((shown.width // 4, middle)) == (0, 0, 255)
        assert shown.getpixel((3 * shown.width // 4, middle)) == (0, 255, 0)
        assert "saved 0002-2.png" in str(pane.query_one("#preview-status").render())
        assert_drawn_at_shape(picture, (64, 32))
        pane.reset_progress()  # the next job starts
        pane.show_step(1, 9, 3.0, batch("yellow", "yellow"), "preview: VAE")
        await pilot.pause()
        assert layouts == []
        assert_drawn_at_shape(picture, (64, 32))


async def test_thumbnails_the_viewer_and_the_picker_keep_the_shape(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        await make_one(pilot, 128, 64)  # 2:1, made by the app
        assert_drawn_at_shape(app.query_one("#preview-image", Picture), (128, 64))
        assert_drawn_at_shape(app.query_one(Slot).query_one(Picture), (128, 64))
        app.query_one(Gallery).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ViewerScreen))
        await pilot.pause()
        assert_drawn_at_shape(app.screen.query_one("#viewer-image", Picture), (128, 64))
        await pilot.press("escape")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionPicker))
        await pilot.pause(0.2)
        assert_drawn_at_shape(app.screen.query_one("#picker-thumb", Picture), (128, 64))


async def test_f2_cycles_the_preview_mode_of_the_next_generation(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        pane = app.query_one(PreviewPane)
        assert pane.border_subtitle == "preview: auto"
        await pilot.press("f2")  # typed into the prompt, which keeps its text
        assert pane.border_subtitle == "preview: VAE decode"
        await make_one(pilot, 32, 32)
        # Shown as the job made it: asked for, not auto's choice ("VAE decode (auto)").
        assert pane.border_subtitle == "preview: VAE decode"
        assert app.query_one("#prompt", PromptEditor).text == "a red circle"
        for label in ("TAESD (approximate)", "latent (approximate)", "auto"):
            await pilot.press("f2")
            assert pane.border_subtitle == f"preview: {label}"
