"""In daemon mode the daemon writes the session the TUI shows: the TUI takes those writes in
without calling them another process's."""

from __future__ import annotations

from pathlib import Path

from genai_tui.daemon.server import Daemon
from genai_tui.ui.app import AppOptions, GenaiApp
from genai_tui.ui.widgets.gallery import Gallery
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.slider import Slider
from tests.ui.conftest import wait_for, wait_ready


async def test_a_generation_through_the_daemon_is_not_news_from_another_process(
    root: Path, tiny_model_dir: Path, tiny_clip_dir: Path, threaded_daemon: Daemon
) -> None:
    app = GenaiApp(AppOptions(sessions_root=root, session="s", model=str(tiny_model_dir),
                              clip=str(tiny_clip_dir), images="halfcell"))  # fmt: skip
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_ready(pilot)
        app.query_one("#steps", Slider).set_value(2)
        await pilot.press(*"a red circle", "ctrl+g")
        gallery = app.query_one(Gallery)
        await wait_for(pilot, lambda: len(gallery.records) == 1 and not app.jobs.busy, 120)
        await pilot.pause(2.5)  # a session check (every 2 s) has seen the daemon's writes
        log = "\n".join(line.text for line in app.query_one(LogPanel).lines)
        assert "changed on disk" not in log, log
        await pilot.press("ctrl+q")
