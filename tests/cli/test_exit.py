"""The real app on a terminal leaves within 2 s however the session ends, the prompt kept.

Issue 11: closing the terminal mid-job left the process hung for good (finding 7), and SIGHUP
took 6.7 s (finding 18). Each test starts `genai-tui` on a pseudo-terminal with the tiny model,
starts a long generation (tests/fixtures/pty_app.py LONG_RUN), types more of the prompt while it
runs (too recently for the editor's own save timer), ends the session one way and checks what a
user would: the process is gone within EXIT_SECONDS, with the shell's exit code, and the session
holds all it typed.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from genai_tui.ui.leaving import EXIT_SECONDS
from tests.fixtures.pty_app import CTRL_G, PtyApp, make_session, saved_prompt

EXIT_CODES = {
    "close": 128 + signal.SIGHUP,  # the terminal hung up
    "hup": 128 + signal.SIGHUP,
    "term": 128 + signal.SIGTERM,
    "quit": 0,
}


@pytest.mark.parametrize("how", ["close", "hup", "term", "quit"])
def test_the_app_is_gone_within_2_s_with_the_prompt_saved(
    how: str, tmp_path: Path, tiny_model_dir: Path
) -> None:
    root = tmp_path / "sessions"
    make_session(root, "s")
    model = str(tiny_model_dir)
    app = PtyApp.start(root, "--model", model, "--session", "s", "--images", "halfcell")
    try:
        app.read_until(b"session:", 90)  # the first frame
        app.type(b"a red circle")
        app.read_until(b"circle", 30)
        app.type(CTRL_G)
        app.read_until(b"/150", 90)  # "step n/150": the generation runs
        app.type(b" on blue")
        app.read_until(b"blue", 30)
        since = app.leave(how)
        seconds = app.wait_gone(since, timeout=10)
    finally:
        app.kill()
    assert seconds is not None, f"the app outlived its terminal ({how}) by more than 10 s"
    assert seconds < EXIT_SECONDS, f"the app took {seconds:.2f} s to leave ({how})"
    assert app.exit_code == EXIT_CODES[how]
    assert saved_prompt(root, "s") == "a red circle on blue"
