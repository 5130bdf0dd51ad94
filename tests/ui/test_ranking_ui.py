"""Ranking in the app: scores on thumbnails, best first, rank by text, best-of, hidden images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from genai_tui.session.models import ImageRecord
from genai_tui.ui.app import GenaiApp
from genai_tui.ui.screens.dialogs import NameDialog
from genai_tui.ui.widgets.gallery import Gallery, caption
from genai_tui.ui.widgets.gallery_order import GalleryOrder
from genai_tui.ui.widgets.slider import Slider
from tests.ui.conftest import wait_for, wait_ready

AppFactory = Callable[..., GenaiApp]


def record(file: str, score: float | None, hidden: bool = False) -> ImageRecord:
    return ImageRecord(
        file=file,
        prompt="p",
        steps=1,
        cfg_scale=1,
        seed=int(file[:4]),
        width=8,
        height=8,
        scheduler="Euler",
        model="demo",
        clip_score=score,
        hidden=hidden,
    )


def test_best_first_then_unscored_newest_first() -> None:
    order = GalleryOrder(
        records=[
            record("0001", 20.0),
            record("0002", None),
            record("0003", 31.5),
            record("0004", None),
            record("0005", 25.0, hidden=True),
        ]
    )
    assert [r.file for r in order.shown()] == ["0003", "0001", "0004", "0002"]
    order.show_hidden = True
    assert [r.file for r in order.shown()][:3] == ["0003", "0005", "0001"]
    order.mode = "time"
    assert [r.file for r in order.shown()] == ["0005", "0004", "0003", "0002", "0001"]


def test_ranking_by_text_uses_its_own_scores() -> None:
    order = GalleryOrder(records=[record("0001", 30.0), record("0002", 10.0)])
    order.text, order.text_scores = "a blue square", {"0001": 5.0, "0002": 22.0}
    assert [r.file for r in order.shown()] == ["0002", "0001"]
    assert caption(order.records[1], order.score_of(order.records[1])) == "2 ★22.0"


async def test_new_images_are_scored_and_shown_best_first(
    make_app: AppFactory, tiny_clip_dir: Path
) -> None:
    app = make_app(clip=str(tiny_clip_dir))
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"a red circle")
        app.query_one("#batch", Slider).set_value(4)
        app.query_one("#steps", Slider).set_value(3)
        await pilot.press("ctrl+g")
        gallery = app.query_one(Gallery)
        await wait_for(
            pilot,
            lambda: (
                len(gallery.records) == 4
                and all(r.clip_score is not None for r in gallery.records)
                and not app.jobs.busy
            ),
        )
        scores = [r.clip_score or 0.0 for r in gallery.records]
        assert scores == sorted(scores, reverse=True)
        assert "best CLIP score first" in str(gallery.border_title)
        gallery.focus()
        await pilot.press("o")  # by time: newest (highest seed) first
        seeds = [r.seed for r in gallery.records]
        assert seeds == sorted(seeds, reverse=True)


async def test_rank_by_text_reorders_and_an_empty_text_goes_back(
    make_app: AppFactory, tiny_clip_dir: Path
) -> None:
    app = make_app(clip=str(tiny_clip_dir))
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"a red circle")
        app.query_one("#batch", Slider).set_value(4)
        app.query_one("#steps", Slider).set_value(3)
        await pilot.press("ctrl+g")
        gallery = app.query_one(Gallery)
        await wait_for(pilot, lambda: len(gallery.records) == 4 and not app.jobs.busy)
        await pilot.press("ctrl+f")
        assert isinstance(app.screen, NameDialog)
        await pilot.press(*"a blue square", "enter")
        await wait_for(pilot, lambda: gallery.order.text == "a blue square")
        by_text = [gallery.order.text_scores[r.file] for r in gallery.records]
        assert by_text == sorted(by_text, reverse=True)
        assert "a blue square" in str(gallery.border_title)
        await pilot.press("ctrl+f")
        dialog_input = app.screen.query_one("#name")
        dialog_input.value = ""  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert gallery.order.text is None


async def test_best_of_keeps_the_best_and_hides_the_rest(
    make_app: AppFactory, tiny_clip_dir: Path, tmp_path: Path
) -> None:
    app = make_app(clip=str(tiny_clip_dir))
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        await pilot.press(*"a green triangle")
        app.query_one("#steps", Slider).set_value(2)
        app.query_one("#best-of", Slider).set_value(3)
        app.query_one("#keep", Slider).set_value(1)
        await pilot.press("ctrl+g")
        gallery = app.query_one(Gallery)
        await wait_for(
            pilot, lambda: sum(r.hidden for r in gallery.order.records) == 2 and not app.jobs.busy
        )
        assert len(gallery.records) == 1
        assert "2 hidden" in str(gallery.border_subtitle)
        images = tmp_path / "sessions" / "test" / "images"
        assert len(list(images.glob("*.png"))) == 3  # nothing thrown away
        gallery.focus()
        await pilot.press("h")
        assert len(gallery.records) == 3


def test_reusing_an_images_parameters_sets_every_knob_and_locks_its_seed() -> None:
    from genai_tui.jobs.editor import editor_for_image
    from genai_tui.session.models import EditorState, LoraUse

    made = record("0007", 30.0).model_copy(
        update={
            "prompt": "a blue square",
            "negative_prompt": "blurry",
            "steps": 12,
            "cfg_scale": 5.5,
            "scheduler": "Euler a",
            "loras": [LoraUse(name="zst", weight=0.8)],
        }
    )
    state = editor_for_image(made, EditorState(prompt="something else", batch_size=3))
    assert (state.prompt, state.negative_prompt, state.steps, state.cfg_scale) == (
        "a blue square",
        "blurry",
        12,
        5.5,
    )
    assert state.seed == 7 and state.seed_locked and state.scheduler == "Euler a"
    assert state.loras == {"zst": 0.8}
    assert state.batch_size == 3  # what the image does not fix stays as the user had it
