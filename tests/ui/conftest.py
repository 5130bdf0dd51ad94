"""Driving the real app: the tiny model, a private sessions folder, text-only images."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from genai_tui.ui.app import AppOptions, GenaiApp
from genai_tui.ui.widgets.log_panel import LogPanel
from genai_tui.ui.widgets.status_header import StatusHeader


@pytest.fixture(autouse=True)
def _stable_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Log lines carry a fixed time, so screens compare equal between runs."""
    monkeypatch.setattr(LogPanel, "clock", staticmethod(lambda: "12:00:00"))


@pytest.fixture
def make_app(tmp_path: Path, tiny_model_dir: Path) -> Callable[..., GenaiApp]:
    def build(**overrides: object) -> GenaiApp:
        values: dict[str, object] = {
            "sessions_root": tmp_path / "sessions",
            "session": "test",
            "model": str(tiny_model_dir),
            "images": "halfcell",
        }
        values.update(overrides)
        return GenaiApp(AppOptions(**values))  # type: ignore[arg-type]

    return build


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 90) -> None:
    """Let the app run until `condition` holds (the worker thread needs real time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


async def wait_ready(pilot: Pilot[None]) -> None:
    """Until the model is loaded and no job runs."""
    app = pilot.app
    assert isinstance(app, GenaiApp)
    await wait_for(
        pilot,
        lambda: app.query_one(StatusHeader).state in {"ready", "idle"} and not app.worker.busy,
    )


# -- the training screen ---------------------------------------------------------------------------


def training_app_class() -> type[GenaiApp]:
    """GenaiApp with the training integration (ctrl+t, event forwarding, LoRA list on open).

    Until app.py and events_view.py carry those lines themselves, this adds them the way they
    will; once GenaiApp has `action_train`, it is GenaiApp itself.
    """
    if hasattr(GenaiApp, "action_train"):
        return GenaiApp

    from textual.binding import Binding

    from genai_tui.jobs.events import Event
    from genai_tui.jobs.loras import session_loras
    from genai_tui.ui.events_view import EventsView
    from genai_tui.ui.training_link import blocked_on_training, forward_event, open_training
    from genai_tui.ui.widgets.lora_panel import LoraPanel

    class ForwardingEvents(EventsView):
        def handle(self, event: Event) -> None:
            forward_event(self.app, event)
            super().handle(event)

    import genai_tui.ui.app

    class TrainingApp(GenaiApp):
        # CSS_PATH is resolved beside the class that sets it: point at the app's own file.
        CSS_PATH = str(Path(genai_tui.ui.app.__file__).parent / str(GenaiApp.CSS_PATH))
        BINDINGS = [
            *GenaiApp.BINDINGS,
            Binding("ctrl+t", "train", "Train", id="train", tooltip="Train a LoRA"),
        ]

        def __init__(self, options: AppOptions) -> None:
            super().__init__(options)
            self.events = ForwardingEvents(self)

        def action_train(self) -> None:
            open_training(self)

        def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
            return not blocked_on_training(self, action)

        def open_session(self, name: str) -> None:
            super().open_session(name)
            if self.store is not None:
                self.query_one(LoraPanel).refresh_loras(session_loras(self.store))

    return TrainingApp


@pytest.fixture
def make_training_app(tmp_path: Path, tiny_model_dir: Path) -> Callable[..., GenaiApp]:
    """Like make_app, with the training screen wired in."""
    app_class = training_app_class()

    def build(**overrides: object) -> GenaiApp:
        values: dict[str, object] = {
            "sessions_root": tmp_path / "sessions",
            "session": "test",
            "model": str(tiny_model_dir),
            "images": "halfcell",
        }
        values.update(overrides)
        return app_class(AppOptions(**values))  # type: ignore[arg-type]

    return build
