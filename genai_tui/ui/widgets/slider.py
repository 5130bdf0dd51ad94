"""A keyboard slider for a number: arrows move it, shift+arrows move it further, digits type it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.events import Key
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


@dataclass(frozen=True)
class Scale:
    """The range of a slider: bounds, small and big steps, decimals shown."""

    minimum: float
    maximum: float
    step: float
    big_step: float
    decimals: int = 0


class Slider(Widget, can_focus=True):
    """A labelled value with a bar; ←/→ by `step`, shift by `big_step`, or type and press Enter."""

    DEFAULT_CSS = """
    Slider { height: 1; width: 1fr; }
    Slider:focus { background: $boost; }
    """

    BINDINGS = [
        Binding("left", "nudge(-1)", "less", show=False),
        Binding("right", "nudge(1)", "more", show=False),
        Binding("shift+left", "nudge(-10)", "much less", show=False),
        Binding("shift+right", "nudge(10)", "much more", show=False),
        Binding("home", "to_end(-1)", "minimum", show=False),
        Binding("end", "to_end(1)", "maximum", show=False),
    ]

    value: reactive[float] = reactive(0.0)
    typing: reactive[str | None] = reactive(None)

    class Changed(Message):
        """The value changed (by key or by typing)."""

        def __init__(self, slider: Slider, value: float) -> None:
            super().__init__()
            self.slider = slider
            self.value = value

        @property
        def control(self) -> Slider:
            return self.slider

    def __init__(
        self,
        label: str,
        value: float,
        scale: Scale,
        *,
        zero_label: str | None = None,
        id: str | None = None,
        tooltip: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.scale = scale
        self.zero_label = zero_label
        self.set_reactive(Slider.value, self._clamp(value))
        if tooltip:
            self.tooltip = tooltip

    @property
    def int_value(self) -> int:
        """The value as an integer, for integer sliders."""
        return round(self.value)

    def set_value(self, value: float, *, notify: bool = False) -> None:
        """Set the value from code; `notify` posts Changed as a key press would."""
        clamped = self._clamp(value)
        if notify and clamped != self.value:
            self.value = clamped
            self.post_message(self.Changed(self, clamped))
        else:
            with self.prevent(self.Changed):
                self.value = clamped

    def _clamp(self, value: float) -> float:
        low, high = self.scale.minimum, self.scale.maximum
        # Onto the step grid (sizes come in multiples of 8), then into the range.
        value = low + round((value - low) / self.scale.step) * self.scale.step
        value = min(max(value, low), high)
        return round(value, self.scale.decimals) if self.scale.decimals else float(round(value))

    def _show(self, value: float) -> str:
        if value == 0 and self.zero_label:
            return self.zero_label
        return f"{value:.{self.scale.decimals}f}"

    def action_nudge(self, direction: int) -> None:
        size = self.scale.big_step if abs(direction) > 1 else self.scale.step
        step = size if direction > 0 else -size
        # Snap to the step grid so 7.3 + 0.5 lands on 7.5 / 8.0, as sliders elsewhere do.
        target = round((self.value + step) / self.scale.step) * self.scale.step
        self.set_value(target, notify=True)

    def action_to_end(self, direction: int) -> None:
        self.set_value(self.scale.maximum if direction > 0 else self.scale.minimum, notify=True)

    def on_key(self, event: Key) -> None:
        char = event.character if event.is_printable else None
        starts_number = char == "-" and self.typing is None
        if char is not None and (char.isdigit() or char == "." or starts_number):
            self.typing = (self.typing or "") + char
        elif event.key == "backspace" and self.typing is not None:
            self.typing = self.typing[:-1] or None
        elif event.key == "enter" and self.typing is not None:
            try:
                self.set_value(float(self.typing), notify=True)
            except ValueError:
                self.app.bell()
            self.typing = None
        elif event.key == "escape" and self.typing is not None:
            self.typing = None
        else:
            return
        event.stop()
        event.prevent_default()

    def on_blur(self) -> None:
        self.typing = None

    def render(self) -> Text:
        label = f"{self.label:<10}"
        shown = f"{self.typing}▏" if self.typing is not None else self._show(self.value)
        bar_width = max(4, self.size.width - len(label) - 12)
        span = self.scale.maximum - self.scale.minimum or 1
        filled = round((self.value - self.scale.minimum) / span * bar_width)
        text = Text(label, style="bold")
        text.append("━" * filled, style="green")
        text.append("─" * (bar_width - filled), style="dim")
        text.append(f" {shown:>10}")
        return text
