"""`genai-tui train export` and the sweep's checkpoint axis from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from genai_tui.session.store import SessionStore
from tests.cli.test_train import FAST
from tests.fixtures.cli_run import run
from tests.fixtures.lora_data import make_lora_data, single_thread

one_thread = pytest.fixture(scope="module", autouse=True)(single_thread)


def test_export_a_checkpoint_then_generate_with_it_and_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], tiny_model_dir: Path, tmp_path: Path
) -> None:
    data = make_lora_data(tmp_path / "circles")
    sessions = str(tmp_path / "sessions")
    where = ["--sessions-dir", sessions, "--session", "s"]
    model = ["--model", str(tiny_model_dir)]
    code, _, err = run(
        capsys, "train", "--data", str(data), *where, *model, *FAST, "--checkpoint-every", "2"
    )
    assert code == 0, err

    # The session may also come before `export`, as for train itself.
    code, out, err = run(
        capsys, "train", *where, "export", "circles", "--step", "2", "--sessions-dir", sessions
    )
    assert code == 0, err
    webui, diffusers = (Path(line) for line in out.splitlines())
    assert webui.name == "circles-step2.safetensors" and webui.is_file()
    assert diffusers.name == "pytorch_lora_weights.safetensors" and diffusers.parent == webui.parent
    store = SessionStore.open(Path(sessions), "s", create=False)
    assert [lora.name for lora in store.session.loras] == ["circles", "circles-step2"]
    code, _, err = run(
        capsys,
        "generate",
        "a red sks circle",
        *where,
        *model,
        "--steps",
        "2",
        "--lora",
        "circles-step2",
    )
    assert code == 0, err

    (training,) = store.session.runs
    for argv, said in [
        (
            ["circles", "--step", "1"],
            f"run {training.name} has no checkpoint at step 1: it has checkpoints at steps 2, 3",
        ),
        (["squares", "--step", "2"], "has no training run 'squares'"),
        (["circles", "--step", "2", "--name", "circles"], "already has a LoRA named 'circles'"),
        (["circles", "--step", "3", "--name", "a/b"], "LoRA name 'a/b' is not allowed"),
    ]:
        code, out, err = run(capsys, "train", "export", *argv, *where)
        assert code == 2 and out == "", argv
        assert len(err.strip().splitlines()) == 1 and said in err, err
    assert len(SessionStore.open(Path(sessions), "s").session.loras) == 2  # nothing added

    code, _, err = run(
        capsys, "sweep", "a red sks circle", *where, *model, "--x", "checkpoint:circles=2,5"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "has checkpoints at steps 2, 3" in err
    assert not (Path(sessions) / "s" / "grids").exists()


def test_sweep_help_lists_the_checkpoint_axis(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sweep", "--help")
    assert code == 0 and "checkpoint:RUN" in out and "checkpoint:circles=all" in out
    code, out, _ = run(capsys, "train", "export", "--help")
    assert code == 0 and "--step N" in out
