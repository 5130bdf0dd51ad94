"""The gallery sorts by the scorer chosen (s cycles it), and says so; CLIP stands in on the demo."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from genai_tui.engine.scorers import PICKSCORE_REPO
from genai_tui.jobs.records import save_image
from genai_tui.session.store import SessionStore
from genai_tui.ui.app import GenaiApp
from genai_tui.ui.help_text import HELP_MARKDOWN
from genai_tui.ui.widgets.gallery import Gallery
from genai_tui.ui.widgets.gallery_order import GalleryOrder
from genai_tui.ui.widgets.prompt_editor import PromptEditor
from genai_tui.ui.widgets.slider import Slider
from tests.fixtures.tiny_clip import as_hub_cache
from tests.ui.conftest import wait_for, wait_ready
from tests.unit.test_session_store import make_record

AppFactory = Callable[..., GenaiApp]

# (seed, CLIP score, PickScore): the two scorers disagree.
SCORES = [(1, 30.0, 18.5), (2, 20.0, 21.0), (3, 25.0, 19.0)]


def scored_session(root: Path, model: str) -> SessionStore:
    store = SessionStore.open(root, "test")
    for seed, clip, pick in SCORES:
        saved = save_image(
            store, make_record(seed=seed, model=model), Image.new("RGB", (8, 8), "red")
        )
        store.update_image(saved.file, clip_score=clip, scores={"pickscore": pick})
    return store


async def test_s_sorts_the_gallery_by_pickscore_and_back(
    make_app: AppFactory, tmp_path: Path, tiny_model_dir: Path
) -> None:
    scored_session(tmp_path / "sessions", str(tiny_model_dir))
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        gallery = app.query_one(Gallery)
        await wait_for(pilot, lambda: len(gallery.records) == 3)
        assert [r.seed for r in gallery.records] == [1, 3, 2]  # best CLIP score first
        assert str(gallery.border_title) == "Gallery · best CLIP score first"
        gallery.focus()
        await pilot.press("s")
        assert [r.seed for r in gallery.records] == [2, 3, 1]  # best PickScore first
        assert str(gallery.border_title) == "Gallery · best PickScore first"
        await pilot.press("s")
        assert [r.seed for r in gallery.records] == [1, 3, 2]


async def test_images_without_a_pickscore_get_one_when_the_gallery_sorts_by_it(
    make_app: AppFactory,
    tmp_path: Path,
    tiny_model_dir: Path,
    tiny_pickscore_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    as_hub_cache(tiny_pickscore_dir, tmp_path / "hub", PICKSCORE_REPO)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    store = SessionStore.open(tmp_path / "sessions", "test")
    for seed, colour in ((1, "red"), (2, "blue"), (3, "green")):
        saved = save_image(
            store,
            make_record(seed=seed, model=str(tiny_model_dir)),
            Image.new("RGB", (32, 32), colour),
        )
        store.update_image(saved.file, clip_score=10.0 * seed)
    app = make_app()
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_ready(pilot)
        gallery = app.query_one(Gallery)
        await wait_for(pilot, lambda: len(gallery.records) == 3)
        gallery.focus()
        await pilot.press("s")
        await wait_for(
            pilot,
            lambda: all("pickscore" in r.scores for r in gallery.records) and not app.jobs.busy,
        )
        picks = [r.scores["pickscore"] for r in gallery.records]
        assert picks == sorted(picks, reverse=True)
        assert str(gallery.border_title) == "Gallery · best PickScore first"
        # A new image, while the gallery sorts by PickScore, gets one too.
        app.query_one("#prompt", PromptEditor).load_text("a red circle")
        app.query_one("#steps", Slider).set_value(2)
        await pilot.press("ctrl+g")
        await wait_for(
            pilot,
            lambda: (
                len(gallery.records) == 4
                and all("pickscore" in r.scores for r in gallery.records)
                and not app.jobs.busy
            ),
        )
    saved_scores = SessionStore.open(tmp_path / "sessions", "test", create=False).session.images
    assert all("pickscore" in r.scores for r in saved_scores)


def test_on_demo_images_without_pickscore_the_clip_score_stands_in() -> None:
    demo = [make_record(file=f"{s}", seed=s, clip_score=c) for s, c, _ in SCORES]
    order = GalleryOrder(records=demo)
    order.next_scorer()
    assert order.scorer == "pickscore"
    assert [r.seed for r in order.shown()] == [1, 3, 2]
    assert order.stands_in() and order.sorted_by == "clip"
    # A real PickScore (given a folder, on demo images) is used where there is one.
    demo[1] = demo[1].model_copy(update={"scores": {"pickscore": 1.0}})
    order.records = demo
    assert not order.stands_in()
    assert [r.seed for r in order.shown()] == [2, 3, 1]  # the unscored after, newest first


def test_the_help_says_what_each_score_means() -> None:
    assert "**CLIP score** (how well the image matches" in HELP_MARKDOWN
    assert "**PickScore** (how much people would prefer it)" in HELP_MARKDOWN
    assert "On the demo model the demo CLIP stands in\nfor both" in HELP_MARKDOWN
    assert "70.2 %" in HELP_MARKDOWN


def test_the_viewer_shows_each_score_by_its_label(tmp_path: Path) -> None:
    from rich.console import Console

    from genai_tui.ui.screens.viewer import describe

    made = make_record(file="images/0001-1.png", clip_score=31.25, scores={"pickscore": 20.5})
    console = Console(width=100, record=True)
    console.print(describe(made, tmp_path / made.file))
    text = console.export_text()
    assert re.search(r"CLIP score\s+31\.25", text) and re.search(r"PickScore\s+20\.50", text)
