"""LoRA training on the tiny model: parameter count, checkpoints, exact resume, cancel."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from genai_tui.engine.errors import Cancelled
from genai_tui.engine.lora.checkpoint import latest_checkpoint
from genai_tui.engine.lora.runlog import losses
from genai_tui.engine.lora.train import StepReport, TrainedLora, TrainInfo, train_lora
from tests.fixtures.lora_data import make_lora_data, single_thread, tiny_train_params

one_thread = pytest.fixture(scope="module", autouse=True)(single_thread)


class Watcher:
    """An observer that keeps what it is told and can cancel after a given step."""

    def __init__(self, cancel_at: int | None = None) -> None:
        self.cancel = threading.Event()
        self.cancel_at = cancel_at
        self.info: TrainInfo | None = None
        self.steps: list[StepReport] = []
        self.checkpoints: list[int] = []
        self.skipped_files: list[tuple[str, str]] = []
        self.sampled: list[int] = []

    def loading(self, what: str) -> None:
        pass

    def skipped(self, files: list[tuple[str, str]]) -> None:
        self.skipped_files.extend(files)

    def started(self, info: TrainInfo) -> None:
        self.info = info

    def step(self, report: StepReport) -> None:
        self.steps.append(report)
        if report.step == self.cancel_at:
            self.cancel.set()

    def samples(self, step: int, samples: list[Any]) -> None:
        self.sampled.append(step)

    def checkpoint(self, step: int, folder: Path) -> None:
        self.checkpoints.append(step)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_lora_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def full_run(
    tiny_model_dir: Path, data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[TrainedLora, Watcher, Path]:
    run_dir = tmp_path_factory.mktemp("run")
    watcher = Watcher()
    params = tiny_train_params(steps=4, checkpoint_every=2, validation_every=2, snr_gamma=5.0)
    trained = train_lora(str(tiny_model_dir), data, params, run_dir, observer=watcher)
    return trained, watcher, run_dir


def test_lora_trains_a_small_share_of_the_unet(full_run: tuple[TrainedLora, Watcher, Path]) -> None:
    trained, watcher, _ = full_run
    info = watcher.info
    assert info is not None and info.start_step == 0 and info.images == 4
    # rank x (in + out) per targeted projection, counted from the weights themselves.
    expected = sum(t.numel() for k, t in trained.adapter.items() if "lora_" in k)
    assert info.trainable_params == expected
    assert 0 < info.trainable_share < 0.1  # the tiny UNet is small; on SD 1.5 it is < 1 %
    assert set(trained.adapter_config["target_modules"]) == {"to_q", "to_k", "to_v", "to_out.0"}
    assert trained.adapter_config["lora_alpha"] == 2 and trained.adapter_config["r"] == 4


def test_steps_report_loss_lr_rate_and_eta(full_run: tuple[TrainedLora, Watcher, Path]) -> None:
    _, watcher, run_dir = full_run
    assert [r.step for r in watcher.steps] == [1, 2, 3, 4]
    assert all(r.loss > 0 and r.lr == pytest.approx(5e-2) and r.rate > 0 for r in watcher.steps)
    assert watcher.steps[-1].eta == 0
    assert watcher.checkpoints == [2, 4] and watcher.sampled == [2, 4]
    logged = losses(run_dir / "log.jsonl")
    assert logged == [(r.step, r.loss) for r in watcher.steps]


def test_checkpoints_hold_only_safetensors_and_json(
    full_run: tuple[TrainedLora, Watcher, Path],
) -> None:
    _, _, run_dir = full_run
    checkpoint = latest_checkpoint(run_dir)
    assert checkpoint is not None and checkpoint.name == "checkpoint-4"
    suffixes = {p.suffix for p in checkpoint.iterdir()}
    assert suffixes == {".safetensors", ".json"}


def test_resume_continues_the_loss_curve(
    full_run: tuple[TrainedLora, Watcher, Path], tiny_model_dir: Path, data: Path
) -> None:
    trained, watcher, run_dir = full_run
    again = Watcher()
    resumed = train_lora(
        str(tiny_model_dir),
        data,
        trained.params,
        run_dir,
        observer=again,
        resume=run_dir / "checkpoint-2",
    )
    assert again.info is not None and again.info.start_step == 2
    expected = [(r.step, r.loss) for r in watcher.steps if r.step > 2]
    got = [(r.step, r.loss) for r in again.steps]
    assert [s for s, _ in got] == [s for s, _ in expected]
    assert [loss for _, loss in got] == pytest.approx([loss for _, loss in expected], rel=1e-5)
    for key, value in trained.adapter.items():
        assert resumed.adapter[key].allclose(value, atol=1e-6), key
    # The log keeps one curve: steps 1-2 from before, 3-4 from the resumed run.
    assert [s for s, _ in losses(run_dir / "log.jsonl")] == [1, 2, 3, 4]


def test_cancel_stops_after_the_step_and_writes_a_checkpoint(
    tiny_model_dir: Path, data: Path, tmp_path: Path
) -> None:
    watcher = Watcher(cancel_at=2)
    with pytest.raises(Cancelled):
        train_lora(
            str(tiny_model_dir),
            data,
            tiny_train_params(steps=50),
            tmp_path,
            observer=watcher,
            cancel=watcher.cancel,
        )
    assert [r.step for r in watcher.steps] == [1, 2]
    assert watcher.checkpoints == [2]
    assert (tmp_path / "checkpoint-2" / "adapter_model.safetensors").is_file()


@pytest.mark.parametrize(
    ("change", "named"), [({"rank": 8}, "rank"), ({"lora_layers": "transformer"}, "lora_layers")]
)
def test_a_resume_with_other_settings_is_refused(
    full_run: tuple[TrainedLora, Watcher, Path],
    tiny_model_dir: Path,
    data: Path,
    change: dict[str, Any],
    named: str,
) -> None:
    from genai_tui.engine.errors import BadInput

    _, _, run_dir = full_run
    changed = tiny_train_params(steps=4, snr_gamma=5.0, **change)
    with pytest.raises(BadInput, match=named):
        train_lora(str(tiny_model_dir), data, changed, run_dir, resume=run_dir / "checkpoint-2")
