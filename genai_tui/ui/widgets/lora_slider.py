"""A LoRA's weight slider: its bounds and steps are the LoRA knob's; 0 is off, space toggles."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from genai_tui.knobs import LORAS
from genai_tui.ui.widgets.knob_widgets import scale_of
from genai_tui.ui.widgets.slider import Slider

DEFAULT_WEIGHT = 0.8
"""The weight a LoRA is switched on at: a little under 1 keeps room for the prompt."""

LABEL_WIDTH = 10


def short_label(name_or_path: str) -> str:
    """What the slider shows: the name, or a file's stem, cut in the middle to fit the slider's
    label (the end is kept: `circles-step400` and `circles-step600` must still differ)."""
    label = Path(name_or_path).stem if name_or_path.endswith(".safetensors") else name_or_path
    room = LABEL_WIDTH - 1
    if len(label) <= room:
        return label
    head = (room - 1) // 2
    return label[:head] + "…" + label[len(label) - (room - 1 - head) :]


class LoraSlider(Slider):
    """The weight of one LoRA (a session LoRA's name or a file path); space toggles 0 ↔ last."""

    BINDINGS = [
        Binding("space", "switch", "on/off", show=False),
    ]

    def __init__(self, name_or_path: str, weight: float) -> None:
        super().__init__(
            short_label(name_or_path),
            weight,
            scale_of(LORAS),
            zero_label="off",
            tooltip=f"{name_or_path}: 0 off, 1 as trained; space switches it on and off",
        )
        self.name_or_path = name_or_path
        self._last_on = weight or DEFAULT_WEIGHT

    def watch_value(self, value: float) -> None:
        if value:
            self._last_on = value

    def action_switch(self) -> None:
        self.set_value(0.0 if self.value else self._last_on, notify=True)
