"""`genai-tui score` and generate's scoring flags: what a script sees, and the exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from genai_tui.cli import main
from tests.fixtures.cli_run import run


def table(out: str) -> list[list[str]]:
    """Rows of the ranking (header dropped) as [rank, score, file, prompt...]."""
    lines = out.strip().splitlines()
    assert lines[0].split() == ["RANK", "SCORE", "FILE", "PROMPT"]
    return [line.split() for line in lines[1:]]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, tiny_clip_dir: Path
) -> Path:
    """A sessions root with session `s`: four images scored against their prompts, made once."""
    root = tmp_path_factory.mktemp("scored")
    argv = ["generate", "a red circle", "--steps", "2", "--seed", "5", "-n", "4"]
    argv += ["--model", str(tiny_model_dir), "--clip", str(tiny_clip_dir)]
    assert main([*argv, "--session", "s", "--sessions-dir", str(root)]) == 0
    return root


@pytest.fixture
def session(generated: Path, tmp_path: Path) -> Path:
    """A private copy of the generated sessions root, so a test may change it."""
    return Path(shutil.copytree(generated, tmp_path / "sessions"))


def test_score_prints_the_ranking_best_first(
    capsys: pytest.CaptureFixture[str], session: Path, tiny_clip_dir: Path
) -> None:
    code, out, err = run(
        capsys,
        "score",
        "--session",
        "s",
        "--clip",
        str(tiny_clip_dir),
        "--sessions-dir",
        str(session),
    )
    assert code == 0, err
    rows = table(out)
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    scores = [float(row[1]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(row[3:] == ["a", "red", "circle"] for row in rows)
    saved = json.loads((session / "s" / "session.json").read_text())
    by_file = {image["file"]: image["clip_score"] for image in saved["images"]}
    assert [round(by_file[row[2]], 2) for row in rows] == scores


def test_score_by_text_ranks_without_saving(
    capsys: pytest.CaptureFixture[str], session: Path, tiny_clip_dir: Path
) -> None:
    before = (session / "s" / "session.json").read_text()
    code, out, err = run(
        capsys,
        "score",
        "--session",
        "s",
        "--text",
        "a blue square",
        "--clip",
        str(tiny_clip_dir),
        "--sessions-dir",
        str(session),
    )
    assert code == 0, err
    assert "scored against 'a blue square'" in err
    scores = [float(row[1]) for row in table(out)]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)
    assert (
        json.loads((session / "s" / "session.json").read_text())["images"]
        == (json.loads(before)["images"])
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--session", "nobody"], 'session "nobody" does not exist'),
        (["--session", "s", "--clip", "./no/such/clip"], "CLIP model not found"),
        (["--session", "s", "--text", "  "], "--text is empty"),
        (["--session", "../escape"], "session"),
    ],
)
def test_score_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "score", *args, "--sessions-dir", str(tmp_path))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_score_with_a_clip_that_fails_to_load_exits_2(
    capsys: pytest.CaptureFixture[str], session: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-clip"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    code, out, err = run(
        capsys, "score", "--session", "s", "--clip", str(broken), "--sessions-dir", str(session)
    )
    assert code == 2, err
    assert out == "" and "could not load CLIP" in err


def test_generate_best_of_prints_only_the_kept_images(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path, tiny_clip_dir: Path
) -> None:
    code, out, err = run(
        capsys,
        "generate",
        "a green square",
        "--steps",
        "2",
        "--seed",
        "1",
        "--best-of",
        "3",
        "--keep",
        "1",
        "--model",
        str(tiny_model_dir),
        "--clip",
        str(tiny_clip_dir),
        "--session",
        "b",
        "--sessions-dir",
        str(tmp_path),
    )
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1
    assert "best of 3: kept 1, hid 2" in err and err.count("CLIP score") == 3
    assert len(list((tmp_path / "b" / "images").glob("*.png"))) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--best-of", "2", "--keep", "3"], "keep must be 1 to"),
        (["--best-of", "0"], "best-of must be 1 to"),
        (["--keep", "2"], "--keep needs --best-of"),
        (["--best-of", "2", "--no-score"], "cannot run with scoring off"),
        (["--clip", "weights.bin"], "not a single file"),
    ],
)
def test_generate_scoring_flags_are_checked_first(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_model_dir: Path,
    args: list[str],
    message: str,
) -> None:
    code, out, err = run(
        capsys,
        "generate",
        "a red circle",
        *args,
        "--model",
        str(tiny_model_dir),
        "--sessions-dir",
        str(tmp_path),
    )
    assert code == 2
    assert out == "" and message in err
    assert not (tmp_path / "default").exists()
