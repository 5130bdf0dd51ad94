"""How the app reaches the training screen: open it, forward events to it, keep keys apart.

The screen is installed once and reused, so a run's curve and log survive going back and forth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genai_tui.jobs.events import Event, LoraReady
from genai_tui.jobs.loras import session_loras
from genai_tui.ui.screens.training import TrainingScreen
from genai_tui.ui.widgets.lora_panel import LoraPanel

if TYPE_CHECKING:
    from genai_tui.ui.app import GenaiApp

TRAINING_SCREEN = "training"
"""The name the training screen is installed under."""

MAIN_SCREEN_ACTIONS = frozenset({"generate", "reuse_seed"})
"""App actions whose keys belong to the training screen while it shows (ctrl+g starts a run)."""


def training_screen(app: GenaiApp) -> TrainingScreen | None:
    """The installed training screen, if it was ever opened."""
    if not app.is_screen_installed(TRAINING_SCREEN):
        return None
    screen = app.get_screen(TRAINING_SCREEN)
    return screen if isinstance(screen, TrainingScreen) else None


def open_training(app: GenaiApp) -> None:
    """Show the training screen (made on first use), or go back when it already shows."""
    if isinstance(app.screen, TrainingScreen):
        app.screen.action_back()
        return
    if training_screen(app) is None:
        screen = TrainingScreen(
            app.image_class,
            submit=app.worker.submit,
            cancel=app.worker.cancel,
            store_getter=lambda: app.store,
            model_ref_getter=lambda: app.model_ref,
            load=app.options.load,
            clip=app.options.clip,
        )
        app.install_screen(screen, TRAINING_SCREEN)
    app.push_screen(TRAINING_SCREEN)


def blocked_on_training(app: GenaiApp, action: str) -> bool:
    """Whether an app action must let the training screen have its key (for check_action)."""
    return action in MAIN_SCREEN_ACTIONS and isinstance(app.screen, TrainingScreen)


def forward_event(app: GenaiApp, event: Event) -> None:
    """Show a worker event on the training screen; a new LoRA gets its slider."""
    screen = training_screen(app)
    if screen is not None and screen.is_mounted:
        screen.show_event(event)
    if isinstance(event, LoraReady) and app.store is not None:
        app.query_one(LoraPanel).refresh_loras(session_loras(app.store))
