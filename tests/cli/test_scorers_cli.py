"""Ranking by PickScore from the command line: sweep --rank, score --scorer, the demo stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genai_tui.engine.scorers import STAND_IN
from genai_tui.session.store import SessionStore
from tests.fixtures.cli_run import run


def sweep_args(tmp_path: Path, model: Path | str, clip: Path | None = None) -> list[str]:
    return [
        "sweep", "a red circle", "--x", "cfg=3,9", "--y", "seed=1-2", "--steps", "2",
        "--model", str(model), *(["--clip", str(clip)] if clip else []),
        "--session", "grid", "--sessions-dir", str(tmp_path), "--id", "s1",
    ]  # fmt: skip


def test_a_sweep_ranked_by_pickscore_marks_the_best_by_it(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_model_dir: Path,
    tiny_clip_dir: Path,
    tiny_pickscore_dir: Path,
) -> None:
    args = sweep_args(tmp_path, tiny_model_dir, tiny_clip_dir)
    code, out, err = run(
        capsys, *args, "--size", "32", "--rank", "pickscore", "--pickscore", str(tiny_pickscore_dir)
    )
    assert code == 0, err
    records = SessionStore.open(tmp_path, "grid", create=False).session.images
    assert len(records) == 4
    assert all("pickscore" in r.scores and r.clip_score is not None for r in records)
    layout = json.loads((tmp_path / "grid" / "grids" / "s1.json").read_text())
    assert layout["rank"] == "pickscore"
    by_file = {r.file: r for r in records}
    cells = {(c["x"], c["y"]): by_file[c["file"]] for c in layout["cells"]}
    # The cells' lines (in plan order) show the score that ranks.
    printed = [float(line.split("\t")[2]) for line in out.splitlines()[:4]]
    in_plan_order = [by_file[c["file"]].scores["pickscore"] for c in layout["cells"]]
    assert printed == pytest.approx(in_plan_order, abs=0.006)

    def best(places: list[tuple[int, int]]) -> list[int]:
        return list(max(places, key=lambda p: cells[p].scores["pickscore"]))

    grid = layout["grids"][0]
    assert grid["best"] == best(list(cells))
    assert grid["best_in_row"] == [best([(x, y) for x in range(2)]) for y in range(2)]
    assert grid["best_in_column"] == [best([(x, y) for y in range(2)]) for x in range(2)]
    assert layout["cells"][0]["scores"]["pickscore"] == cells[(0, 0)].scores["pickscore"]


@pytest.mark.usefixtures("empty_hub_cache")
def test_a_sweep_ranked_by_a_missing_pickscore_is_one_line_exit_2_and_makes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    code, out, err = run(capsys, *sweep_args(tmp_path, tiny_model_dir), "--rank", "pickscore")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "PickScore model yuvalkirstain/PickScore_v1 is not on this machine" in err
    assert "hf download yuvalkirstain/PickScore_v1 --include '*.safetensors' '*.json'" in err
    assert not (tmp_path / "grid").exists()  # no session made either


@pytest.mark.usefixtures("empty_hub_cache")
def test_on_the_demo_model_the_demo_clip_stands_in_and_says_so_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, *sweep_args(tmp_path, "demo"), "--rank", "pickscore")
    assert code == 0, err
    assert " ".join(err.split()).count(STAND_IN) == 1  # rich may wrap it: said once
    records = SessionStore.open(tmp_path, "grid", create=False).session.images
    assert all(r.clip_score is not None and "pickscore" not in r.scores for r in records)
    layout = json.loads((tmp_path / "grid" / "grids" / "s1.json").read_text())
    assert layout["rank"] == "clip"  # honest: CLIP ranked
    by_file = {r.file: r.clip_score for r in records}
    printed = [float(line.split("\t")[2]) for line in out.splitlines()[:4]]
    assert printed == pytest.approx([by_file[c["file"]] for c in layout["cells"]], abs=0.006)


def test_score_by_pickscore_saves_it_and_ranks_by_it(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_model_dir: Path,
    tiny_pickscore_dir: Path,
    empty_hub_cache: Path,
) -> None:
    made = ["generate", "a red circle", "-n", "3", "--steps", "2", "--size", "32", "--no-score"]
    where = ["--session", "s", "--sessions-dir", str(tmp_path)]
    code, _, err = run(capsys, *made, "--model", str(tiny_model_dir), *where)
    assert code == 0, err

    code, out, err = run(capsys, "score", *where, "--scorer", "pickscore")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "not on this machine" in err

    code, out, err = run(
        capsys, "score", *where, "--scorer", "pickscore", "--pickscore", str(tiny_pickscore_dir)
    )
    assert code == 0, err
    records = SessionStore.open(tmp_path, "s", create=False).session.images
    assert all("pickscore" in r.scores and r.clip_score is None for r in records)
    rows = [line.split() for line in out.splitlines()[1:]]
    ranked = sorted(records, key=lambda r: -r.scores["pickscore"])
    assert [row[2] for row in rows] == [r.file for r in ranked]
    assert "PickScore by tiny-pickscore" in err


@pytest.mark.usefixtures("empty_hub_cache")
def test_generate_ranked_by_a_missing_pickscore_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    code, out, err = run(
        capsys, "generate", "a red circle", "--best-of", "2", "--rank", "pickscore",
        "--model", str(tiny_model_dir), "--sessions-dir", str(tmp_path),
    )  # fmt: skip
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "PickScore model" in err
    assert not (tmp_path / "default").exists()
