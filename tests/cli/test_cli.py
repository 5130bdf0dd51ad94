"""The headless command line: what a script sees on stdout, stderr and in the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from genai_tui.session.pngmeta import parse_parameters
from tests.fixtures.cli_run import run


def test_generate_prints_the_image_paths_last_and_writes_a1111_metadata(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    code, out, err = run(
        capsys,
        "generate",
        "a red circle, on white",
        "--negative",
        "blurry",
        "--steps",
        "5",
        "--cfg",
        "6.5",
        "--seed",
        "42",
        "--size",
        "48x32",
        "-n",
        "2",
        "--scheduler",
        "Euler a",
        "--model",
        str(tiny_model_dir),
        "--session",
        "cli",
        "--sessions-dir",
        str(tmp_path),
    )
    assert code == 0, err
    paths = [Path(line) for line in out.strip().splitlines()]
    assert [p.name for p in paths] == ["0001-42.png", "0002-43.png"]
    with Image.open(paths[1]) as image:
        assert image.size == (48, 32)
        info = parse_parameters(image.text["parameters"])
    assert info["prompt"] == "a red circle, on white"
    assert info["negative_prompt"] == "blurry"
    assert info["Steps"] == "5" and info["Sampler"] == "Euler a" and info["CFG scale"] == "6.5"
    assert info["Schedule type"] == "Uniform"  # A1111's for our Euler a, not left to its default
    assert info["Seed"] == "43" and info["Size"] == "48x32" and len(info["Model hash"]) == 10
    saved = json.loads((tmp_path / "cli" / "session.json").read_text())
    assert saved["editor"]["prompt"] == "a red circle, on white"
    assert saved["editor"]["seed"] == 42
    assert saved["model"] == str(tiny_model_dir)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduler", "Euler z"], "unknown scheduler"),
        (["--size", "30x30"], "multiple of 8"),
        (["--size", "big"], "size must look like"),
        (["--steps", "0"], "steps must be at least 1"),
        (["--cfg", "-1"], "guidance scale"),
        (["--steps", "many"], "invalid int value"),
        (["--model", "/no/such/model.safetensors"], "model file not found"),
        (["--session", "../escape"], "session"),
        (["--cfg", "nan"], "guidance scale must be a number"),
        (["--cfg", "inf"], "guidance scale must be a number"),
        (["--model", ""], "--model is empty"),
        (["--lora", "x:9"], "LoRA weight must be at most 2"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_model_dir: Path,
    args: list[str],
    message: str,
) -> None:
    root = tmp_path / "sessions"
    base = ["generate", "a cat", "--model", str(tiny_model_dir), "--sessions-dir", str(root)]
    code, out, err = run(capsys, *base, *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not root.exists()


def test_an_empty_prompt_is_refused_as_the_tui_refuses_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    root = tmp_path / "sessions"
    code, out, err = run(capsys, "generate", "  ", "--model", str(tiny_model_dir),
                         "--sessions-dir", str(root))  # fmt: skip
    assert code == 2 and out == "" and "the prompt is empty" in err
    assert not root.exists()


def test_a_session_that_cannot_be_written_is_refused_before_the_model_loads(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full disk (or a read-only folder) is found at the start, with what to do about it."""
    import errno

    import genai_tui.engine.models as models
    import genai_tui.session.store as store_module

    def full(folder: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(store_module, "probe", full)
    monkeypatch.setattr(models, "load_model", never)
    code, out, err = run(capsys, "generate", "a cat", "--model", str(tiny_model_dir),
                         "--sessions-dir", str(tmp_path))  # fmt: skip
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "No space left" in err and "free" in err.lower()


def test_an_unreadable_session_is_refused_and_left_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "session.json").write_text('{"name": "broken", "images": [', encoding="utf-8")
    before = (folder / "session.json").read_bytes()
    code, _, err = run(
        capsys,
        "generate",
        "a cat",
        "--model",
        str(tiny_model_dir),
        "--session",
        "broken",
        "--sessions-dir",
        str(tmp_path),
    )
    assert code == 2 and "broken" in err and len(err.strip().splitlines()) == 1
    assert (folder / "session.json").read_bytes() == before
    assert not (folder / "images").exists()


def test_sessions_lists_names_image_counts_and_unreadable_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    run(
        capsys,
        "generate",
        "a cat",
        "--steps",
        "2",
        "--model",
        str(tiny_model_dir),
        "--session",
        "cats",
        "--sessions-dir",
        str(tmp_path),
    )
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "session.json").write_text("not json")
    code, out, _ = run(capsys, "sessions", "--sessions-dir", str(tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "IMAGES", "LAST", "CHANGE"]
    assert any(line.split()[:2] == ["cats", "1"] for line in lines)
    assert any(line.startswith("bad") and "unreadable" in line for line in lines)


def test_the_sessions_dir_comes_from_the_environment_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENAI_TUI_SESSIONS_DIR", str(tmp_path / "env-root"))
    code, out, _ = run(capsys, "sessions")
    assert code == 0 and str(tmp_path / "env-root") in out


@pytest.mark.parametrize("argv", [["--help"], ["generate", "--help"], ["sessions", "--help"]])
def test_help_everywhere(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "usage: genai-tui" in out


def test_an_unknown_command_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "paint")
    assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("damage", ["empty", "pickle-link"])
def test_a_bad_lora_file_is_one_line_exit_2_before_any_model_loads(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    tiny_model_dir: Path,
    damage: str,
) -> None:
    import genai_tui.engine.models

    loaded: list[str] = []
    monkeypatch.setattr(genai_tui.engine.models, "load_model", lambda ref, *a: loaded.append(ref))
    bad = tmp_path / "bad.safetensors"
    if damage == "empty":
        bad.write_bytes(b"")
    else:  # a link to a pickle (protocol 4), written by hand
        (tmp_path / "old.ckpt").write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00}\x94.")
        bad.symlink_to(tmp_path / "old.ckpt")
    code, out, err = run(
        capsys,
        "generate",
        "a cat",
        "--lora",
        str(bad),
        "--model",
        str(tiny_model_dir),
        "--sessions-dir",
        str(tmp_path / "sessions"),
    )
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "bad.safetensors" in err, err
    assert ("refused, never opened" in err) == (damage == "pickle-link")
    assert loaded == []


def test_the_ui_takes_a_preview_mode_and_a_bad_taesd_folder_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import genai_tui.ui.app

    opened: list[object] = []
    monkeypatch.setattr(genai_tui.ui.app, "run_app", opened.append)
    root = ["--sessions-dir", str(tmp_path)]
    assert run(capsys, *root, "--preview", "vae")[0] == 0
    assert [options.preview for options in opened] == ["vae"]  # type: ignore[attr-defined]
    code, _, err = run(capsys, *root, "--taesd", str(tmp_path / "nothing"))
    assert code == 2 and "not a TAESD folder" in err and len(opened) == 1
    assert run(capsys, *root, "--preview", "full")[0] == 2


def test_daemon_status_names_each_model_and_counts_other_clients() -> None:
    from genai_tui.cli.daemon_cmd import format_status

    status = {
        "pid": 7, "uptime": 61.0, "root": "/s", "socket": "/run/x.sock", "clients": 1,
        "idle_seconds": 900.0, "running": 0, "queued": 0,
        "workers": [{"device": "cuda:0", "job": None, "model": "demo", "clip": "demo"}],
    }  # fmt: skip
    text = format_status(status)
    assert "0 other client(s)" in text  # the asking connection is not another user
    assert "models loaded: demo, CLIP demo" in text


def test_a_reader_that_goes_away_ends_a_listing_quietly(tmp_path: Path) -> None:
    """`genai-tui sessions | head -1` with many lines: no traceback, the SIGPIPE exit code."""
    import signal
    import subprocess
    import sys

    from genai_tui.session.store import SessionStore

    for n in range(3):
        SessionStore.open(tmp_path, f"s{n}").save()
    command = [sys.executable, "-m", "genai_tui.cli", "sessions", "--sessions-dir", str(tmp_path)]
    listing = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.close()  # the reader is gone before the first line
    errors = listing.stderr.read().decode()
    assert listing.wait(timeout=60) == 128 + signal.SIGPIPE
    assert "Traceback" not in errors
