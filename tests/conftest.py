"""Shared fixtures. Nothing here downloads: the hub is forced offline before anything imports it."""

from __future__ import annotations

import gc
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Commands run their jobs in the test's process unless a test asks for the daemon (tests/daemon
# start daemons of their own, with private sockets); set here, before any fixture runs.
os.environ["GENAI_TUI_IN_PROCESS"] = "1"

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.tiny_clip import make_tiny_clip, make_tiny_pickscore
from tests.fixtures.tiny_pipeline import make_tiny_pipeline


@pytest.fixture(autouse=True)
def _collect_everything_again() -> Iterator[None]:
    """A TUI takes full collections over from Python and, in daemon mode, freezes what exists
    (ui/collector), here all of pytest's: given back and thawed after each test, so later
    tests' garbage is collected as in any process."""
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep model-hash caches out of the user's home."""
    monkeypatch.setenv("GENAI_TUI_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SD pipeline saved in diffusers format, made once per test run."""
    return make_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    """The tiny pipeline loaded through the project's own model loading, shared by tests."""
    from genai_tui.engine.models import load_model

    return load_model(str(tiny_model_dir))


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny CLIP model and processor saved as a hub CLIP folder is, made once per test run."""
    return make_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def tiny_pickscore_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny PickScore-shaped CLIP (own logit scale) and its processor, a plain folder."""
    return make_tiny_pickscore(tmp_path_factory.mktemp("tiny-pickscore"))


@pytest.fixture
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hub cache with nothing in it: PickScore_v1 is "not on this machine"."""
    cache = tmp_path / "hub-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache
