"""The header: session name, model, device and what the worker is doing."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class Activity(Enum):
    """What the worker is doing, as the header shows it."""

    STARTING = "starting"
    LOADING = "loading"
    READY = "ready"
    WORKING = "working"
    CANCELLING = "cancelling"
    IDLE = "idle"


@dataclass(frozen=True)
class Status:
    """An activity and what to say about it ("step 3/25", "loading unet")."""

    activity: Activity = Activity.STARTING
    detail: str = ""

    @property
    def busy(self) -> bool:
        """Whether a job is loading, running or being cancelled."""
        return self.activity not in {Activity.READY, Activity.IDLE}

    def __str__(self) -> str:
        return self.detail or self.activity.value


class StatusHeader(Widget):
    """One line at the top; every field is a reactive the main screen sets from worker events."""

    DEFAULT_CSS = """
    StatusHeader { dock: top; height: 1; background: $panel; color: $text; }
    """

    session: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    device: reactive[str] = reactive("")
    status: reactive[Status] = reactive(Status)

    def render(self) -> Text:
        text = Text(" genai-tui ", style="bold reverse")
        text.append(f"  session: {self.session}", style="bold")
        text.append(f"  model: {self.model or '…'}")
        if self.device:
            text.append(f" ({self.device})", style="dim")
        text.append(f"  ● {self.status}", style="yellow" if self.status.busy else "green")
        return text
