"""`genai-tui train` and `generate --lora`: progress lines, exit codes, files, two processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from genai_tui.engine.params import LoraWeight
from genai_tui.session.store import SessionStore
from tests.fixtures.cli_run import run
from tests.fixtures.lora_data import make_lora_data, single_thread

one_thread = pytest.fixture(scope="module", autouse=True)(single_thread)

FAST = [
    "--steps", "3", "--rank", "4", "--alpha", "2", "--lr", "0.05",
    "--validation-steps", "2", "--validation-seeds", "0",
]  # fmt: skip


def test_train_prints_progress_and_writes_the_lora_then_generate_uses_it(
    capsys: pytest.CaptureFixture[str], tiny_model_dir: Path, tmp_path: Path
) -> None:
    data = make_lora_data(tmp_path / "circles")
    sessions = str(tmp_path / "sessions")
    model = str(tiny_model_dir)
    common = ["--sessions-dir", sessions, "--session", "s", "--model", model]
    code, out, err = run(
        capsys, "train", "--data", str(data), *common, *FAST, "--checkpoint-every", "2"
    )
    assert code == 0, err
    assert out.strip().endswith("loras/circles/circles.safetensors")
    assert "% of the UNet" in err and "step 3/3 · loss " in err and "it/s · ETA 0.0 s" in err
    # The samples are scored with CLIP as they land: file (score).
    assert re.search(r"samples at step 3 \(CLIP score\): \S+\.png \(\d+\.\d\)", err), err
    store = SessionStore.open(Path(sessions), "s", create=False)
    (record,) = store.session.loras
    assert record.name == "circles" and record.steps == 3

    # Resume from the step-2 checkpoint to more steps: settings come from the checkpoint.
    (run_record,) = store.session.runs
    checkpoint = store.path / run_record.checkpoints[0]
    code, _, err = run(
        capsys, "train", *common, "--resume", str(checkpoint), "--steps", "4", "--name", "more"
    )
    assert code == 0, err
    assert "resuming at step 2" in err
    assert "step 4/4" in err

    code, out, err = run(
        capsys, "generate", "a red sks circle", *common, "--steps", "2", "--lora", "circles:0.7",
        "--lora", str(store.path / record.webui_file),
    )  # fmt: skip
    assert code == 0, err
    image = SessionStore.open(Path(sessions), "s", create=False).session.images[-1]
    assert [(u.name, u.weight) for u in image.loras] == [("circles", 0.7), ("circles", 1.0)]

    code, _, err = run(capsys, "generate", "x", *common, "--steps", "2", "--lora", "nope")
    assert code == 2 and err.strip().count("\n") == 0 and "nope" in err

    # Another run on the folder: a taken --name is refused before anything loads; without one
    # the folder's name is made free.
    again = ["train", "--data", str(data), *common, *FAST]
    code, out, err = run(capsys, *again, "--name", "circles")
    assert code == 2 and err.count("\n") == 1 and "already has a LoRA named 'circles'" in err
    code, out, err = run(capsys, *again)
    assert code == 0, err
    assert out.strip().endswith("loras/circles-2/circles-2.safetensors")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rank", "0"], "rank must be at least 1"),
        (["--lr-schedule", "zigzag"], "unknown learning-rate schedule"),
        (["--data", "/no/such/folder"], "data folder not found"),
        (["--mixed-precision", "fp8"], "unknown mixed precision"),
        (["--layers", "everything"], "unknown LoRA layers"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    data = make_lora_data(tmp_path / "d", count=1)
    argv = ["train", "--data", str(data), "--sessions-dir", str(tmp_path), *args]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_an_empty_data_folder_exits_2_with_a_hint(
    capsys: pytest.CaptureFixture[str], tiny_model_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    argv = ["train", "--data", str(tmp_path / "empty"), "--sessions-dir", str(tmp_path)]
    code, _, err = run(capsys, *argv, "--model", str(tiny_model_dir))
    assert code == 2 and "no images in" in err and "(put " in err


def test_on_the_demo_model_a_new_run_starts_from_the_demo_recipe(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No flags but --steps: rank, layers, learning rate... are the demo recipe's, which the
    LoRA bench measures; a flag still wins."""
    from genai_tui.engine.lora.recipes import DEMO_RECIPE

    data = make_lora_data(tmp_path / "circles", count=2)
    argv = ["train", "--data", str(data), "--sessions-dir", str(tmp_path), "--session", "s"]
    fast = ["--steps", "1", "--validation-steps", "1", "--no-score"]
    code, _, err = run(capsys, *argv, "--model", "demo", *fast, "--rank", "2")
    assert code == 0, err
    (record,) = SessionStore.open(tmp_path, "s", create=False).session.runs
    used = record.params
    assert used["rank"] == 2 and used["steps"] == 1
    assert used["lora_layers"] == DEMO_RECIPE.lora_layers == "transformer"
    assert used["learning_rate"] == DEMO_RECIPE.learning_rate
    assert used["snr_gamma"] == DEMO_RECIPE.snr_gamma
    assert "(rank 2 on its transformer layers)" in err
    assert "samples at step 1: 0001-0.png, 0002-0.png\n" in err  # --no-score


def test_lora_option_parsing() -> None:
    texts = ["a", "b:0.5", "c:d", "x.safetensors:-1"]
    assert tuple(LoraWeight.parse(text) for text in texts) == (
        LoraWeight("a"),
        LoraWeight("b", 0.5),
        LoraWeight("c:d"),
        LoraWeight("x.safetensors", -1.0),
    )


def test_two_processes_train_data_parallel(tiny_model_dir: Path, tmp_path: Path) -> None:
    """accelerate launch on 2 CPU processes; only the main process prints and writes."""
    data = make_lora_data(tmp_path / "circles")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [
        # The venv's own accelerate, whether or not its bin/ is on PATH (CI does not activate it).
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no",
        "-m", "genai_tui.cli", "train", "--device", "cpu",
        "--data", str(data), "--sessions-dir", str(tmp_path / "s"), "--session", "dp",
        "--model", str(tiny_model_dir), *FAST,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "cpu:0 x2" in done.stderr and done.stderr.count("step 3/3") == 1
    store = SessionStore.open(tmp_path / "s", "dp", create=False)
    assert [lora.name for lora in store.session.loras] == ["circles"]
    assert len(store.session.images) == 1  # one sample image, from the main process only
    assert sys.executable  # the launcher ran our own interpreter's genai_tui


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_a_killed_or_hung_up_training_keeps_a_checkpoint(
    tiny_model_dir: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    """`kill` or a closed terminal mid-run stops it as Ctrl-C does: after its step, with a
    checkpoint to resume from (the steps made are not lost)."""
    data = make_lora_data(tmp_path / "circles")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable, "-m", "genai_tui.cli", "train", "--in-process", "--device", "cpu",
        "--data", str(data), "--sessions-dir", str(tmp_path / "s"), "--session", "k",
        "--model", str(tiny_model_dir), *FAST, "--steps", "100000", "--no-score",
    ]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stderr is not None
    lines = []
    for line in process.stderr:  # wait until it trains
        lines.append(line)
        if re.search(r"step \d+/100000", line):
            break
    process.send_signal(stop)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(lines) + rest
    assert "saving a checkpoint" in rest
    (run_record,) = SessionStore.open(tmp_path / "s", "k", create=False).session.runs
    assert run_record.status == "cancelled" and run_record.checkpoints, run_record
    assert (tmp_path / "s" / "k" / run_record.checkpoints[-1]).is_dir()
