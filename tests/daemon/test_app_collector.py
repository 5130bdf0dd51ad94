"""Python's full collections walked every object the TUI had (160k-190k, 40-65 ms with the
event loop held) a few times in each generation, and the key typed then waited for it
(bench/daemon_bench.py keys). The app runs them itself when nobody types, and a TUI whose models
live in the daemon freezes what it started with, so later walks skip it; one that runs jobs
itself never does, since the model cache frees models by collecting."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from genai_tui.daemon.server import Daemon
from genai_tui.ui.app import AppOptions, GenaiApp
from genai_tui.ui.widgets.picture import Picture
from tests.ui.conftest import wait_for


def pictures_drawable(app: GenaiApp) -> bool:
    return bool(app.query(Picture)) and all(p.query(".picture-view") for p in app.query(Picture))


@pytest.mark.parametrize("in_process", [False, True])
async def test_only_a_tui_whose_models_live_in_the_daemon_freezes_what_it_started_with(
    root: Path,
    tiny_model_dir: Path,
    threaded_daemon: Daemon,
    monkeypatch: pytest.MonkeyPatch,
    in_process: bool,
) -> None:
    frozen: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(len(gc.get_objects())))
    pythons = gc.get_threshold()
    app = GenaiApp(AppOptions(sessions_root=root, session="s", model=str(tiny_model_dir),
                              images="halfcell", in_process=in_process))  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: pictures_drawable(app) and app.workspace.store is not None)
        await pilot.pause(0.2)
        assert app.jobs.leaves_jobs_running is not in_process
        assert len(frozen) == (0 if in_process else 1)
        assert gc.get_threshold()[2] > 10**9  # Python's own full collections are off...
    assert gc.get_threshold() == pythons  # ...until the app ends
