"""The real app on terminals that make starting hard (issue 11, findings 5 and 10).

A pty that reports no size (0x0, as some `ssh -t`, container and CI shells give) crashed the app
at import in textual-image; keys typed in the first second went to textual-image's terminal
queries. Both are started here as a user would meet them, on a pseudo-terminal with no terminal
emulator behind it (so it answers no query either).
"""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.pty_app import PtyApp, make_session, saved_prompt


def test_a_terminal_of_no_size_starts_the_app_with_half_cell_images_and_says_so(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    root = tmp_path / "sessions"
    make_session(root, "s", {})
    args = ("--model", str(tiny_model_dir), "--session", "s", "--images", "auto")
    app = PtyApp.start(root, *args, size=(0, 0))
    try:
        app.read_until(b"session:", 90)
        app.read_until(b"half-cells", 30)
        app.type(b"a red circle")
        app.read_until(b"circle", 30)
        assert app.wait_gone(app.leave("quit"), timeout=10) is not None
    finally:
        app.kill()
    assert app.exit_code == 0
    assert saved_prompt(root, "s") == "a red circle"


def test_keys_typed_before_the_first_frame_reach_the_prompt(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    root = tmp_path / "sessions"
    make_session(root, "s", {})
    args = ("--model", str(tiny_model_dir), "--session", "s", "--images", "auto")
    app = PtyApp.start(root, *args)
    try:
        app.type(b"a blue square")  # at once: the app is still importing
        app.read_until(b"session:", 90)
        app.read_until(b"square", 30)
        assert app.wait_gone(app.leave("quit"), timeout=10) is not None
    finally:
        app.kill()
    assert app.exit_code == 0
    assert saved_prompt(root, "s") == "a blue square"
