"""A sweep started by an earlier genai-tui (whose terminal went): the next one shows where it
is from the daemon's replay, and opens its grid when it ends, as if it had started it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from genai_tui.daemon.client import DaemonClient
from genai_tui.daemon.server import Daemon
from genai_tui.engine.params import GenerateParams
from genai_tui.jobs import sweep
from genai_tui.jobs.events import SweepCell
from genai_tui.jobs.specs import SweepJob
from genai_tui.session.store import SessionStore
from genai_tui.ui.app import AppOptions, GenaiApp
from genai_tui.ui.screens.grid_viewer import GridScreen
from genai_tui.ui.widgets.status_header import StatusHeader
from tests.fixtures.recorder import Recorder
from tests.ui.conftest import wait_for


async def test_a_reopened_tui_follows_a_running_sweep_and_opens_its_grid(
    root: Path,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
    threaded_daemon: Daemon,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The sweep makes its cells, then waits before its grid until the new TUI is there.
    gate = threading.Event()
    write_grids = sweep.write_grids

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(60)
        return write_grids(*args, **kwargs)

    monkeypatch.setattr(sweep, "write_grids", held)
    store = SessionStore.open(root, "s")
    base = GenerateParams("a red circle", steps=2, seed=7, width=32, height=32)
    job = SweepJob(
        base, ("seed=1-3",), str(tiny_model_dir), store, sweep="s1", clip=str(tiny_clip_dir)
    )
    earlier = Recorder()
    first_tui = DaemonClient(root, earlier)  # what the first genai-tui was, as a client
    first_tui.start()
    first_tui.submit(job)
    deadline = time.monotonic() + 120
    while not earlier.of(job.id, SweepCell):
        assert time.monotonic() < deadline, "the sweep did not start"
        time.sleep(0.05)
    first_tui.stop()  # its terminal went away; the sweep goes on in the daemon

    app = GenaiApp(AppOptions(sessions_root=root, session="s", model=str(tiny_model_dir),
                              images="halfcell"))  # fmt: skip
    async with app.run_test(size=(160, 50)) as pilot:
        header = app.main_screen.query_one(StatusHeader)
        await wait_for(pilot, lambda: "cell 3 of 3" in str(header.status), 60)  # replayed
        gate.set()
        await wait_for(pilot, lambda: isinstance(app.screen, GridScreen), 60)
        await pilot.press("ctrl+q")
