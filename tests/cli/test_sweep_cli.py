"""`genai-tui sweep`: a line per cell and the grid last; bad axes are one line, exit 2, nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from genai_tui.jobs.sweep_axes import AXIS_KINDS
from tests.fixtures.cli_run import run


def test_a_sweep_prints_each_cell_then_the_grid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path, tiny_clip_dir: Path
) -> None:
    code, out, err = run(
        capsys, "sweep", "a red circle", "--x", "cfg=3,9", "--y", "seed=1-2", "--steps", "2",
        "--size", "32", "--model", str(tiny_model_dir), "--clip", str(tiny_clip_dir),
        "--session", "grid", "--sessions-dir", str(tmp_path), "--id", "first",
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 5
    cells = [line.split("\t") for line in lines[:4]]
    assert [where for _, where, _ in cells] == [
        "CFG scale: 3, Seed: 1",
        "CFG scale: 9, Seed: 1",
        "CFG scale: 3, Seed: 2",
        "CFG scale: 9, Seed: 2",
    ]
    assert all(Path(path).is_file() and float(score) >= 0 for path, _, score in cells)
    assert lines[4] == str(tmp_path / "grid" / "grids" / "first.png")
    assert Path(lines[4]).is_file()


@pytest.mark.parametrize(
    ("axis", "said"),
    [
        ("colour=red", "unknown sweep axis 'colour'"),
        ("cfg=2-8 (+0)", "step of 0"),
        ("steps=5-1", "makes no values"),
        ("size=500", "multiples of 8"),
        ("sampler=Euler z", "DPM++ 2M Karras"),
        ("prompt=blue,green", "'blue' is not in the prompt"),
        ("seed=0-2000", "more than 1,000"),
    ],
)
def test_bad_axes_are_one_line_exit_2_and_queue_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path, axis: str, said: str
) -> None:
    code, out, err = run(
        capsys, "sweep", "a red circle", "--x", axis, "--model", str(tiny_model_dir),
        "--sessions-dir", str(tmp_path),
    )  # fmt: skip
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and said in err
    assert not (tmp_path / "default" / "images").exists()


def test_axes_fill_x_first_and_an_unknown_scorer_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    base = ["sweep", "a cat", "--model", str(tiny_model_dir), "--sessions-dir", str(tmp_path)]
    code, _, err = run(capsys, *base, "--y", "cfg=3")
    assert code == 2 and "x first" in err
    code, _, err = run(capsys, *base, "--x", "cfg=3", "--rank", "aesthetic")
    assert code == 2 and "invalid choice: 'aesthetic'" in err


def test_help_lists_every_axis_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sweep", "--help")
    assert code == 0
    for kind in AXIS_KINDS:
        assert f"  {kind.name} " in out and kind.example in out
