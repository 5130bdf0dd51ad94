"""The TUI as a daemon client: a training started by an earlier genai-tui (whose terminal went)
shows on the next one with its loss curve so far, and goes on live to its end."""

from __future__ import annotations

import time
from pathlib import Path

from genai_tui.daemon.client import DaemonClient
from genai_tui.daemon.server import Daemon
from genai_tui.engine.lora.params import TrainParams
from genai_tui.jobs.events import TrainStep
from genai_tui.jobs.specs import TrainJob
from genai_tui.session.store import SessionStore
from genai_tui.ui.app import AppOptions, GenaiApp
from genai_tui.ui.screens.training import TrainingScreen
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.loss_plot import LossPlot
from genai_tui.ui.widgets.train_form import TrainForm
from tests.fixtures.lora_data import make_lora_data
from tests.fixtures.recorder import Recorder
from tests.ui.conftest import wait_for


async def test_a_reopened_tui_shows_the_running_training_and_follows_it_to_the_end(
    root: Path, tiny_model_dir: Path, tmp_path: Path, threaded_daemon: Daemon
) -> None:
    data = make_lora_data(tmp_path / "circles")
    store = SessionStore.open(root, "s")
    params = TrainParams(rank=2, alpha=2.0, learning_rate=0.05, steps=40, validation_every=0,
                         checkpoint_every=20)  # fmt: skip
    job = TrainJob(params, str(data), "circles", store, model=str(tiny_model_dir), score=False)
    earlier = Recorder()
    first_tui = DaemonClient(root, earlier)  # what the first genai-tui was, as a client
    first_tui.start()
    first_tui.submit(job)
    deadline = time.monotonic() + 120
    while len(earlier.of(job.id, TrainStep)) < 3:
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.05)
    first_tui.stop()  # its terminal went away; the training goes on in the daemon

    app = GenaiApp(AppOptions(sessions_root=root, session="s", model=str(tiny_model_dir),
                              images="halfcell"))  # fmt: skip
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TrainingScreen), 60)
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        # Pushed is not yet composed: on a busy machine the widgets come a moment later.
        await wait_for(pilot, lambda: bool(screen.query(LossPlot)), 60)
        plot = screen.query_one(LossPlot)
        await wait_for(pilot, lambda: len(plot.steps) >= 3, 60)  # the curve so far, replayed
        assert plot.steps[0] == 1  # from the first step, not from when this app came
        form = screen.query_one(TrainForm)  # what the run was started with, not the defaults
        assert form.data_folder == str(data) and form.lora_name == "circles"
        assert form.params().steps == 40 and form.params().rank == 2
        log = screen.query_one("#train-log", LogPanel)
        await wait_for(pilot, lambda: "is ready" in "\n".join(s.text for s in log.lines), 180)
        await wait_for(pilot, lambda: not screen.running, 60)  # its end came too
        assert plot.steps[-1] == 40
    reopened = SessionStore.open(root, "s", create=False).session
    assert [lora.name for lora in reopened.loras] == ["circles"]
