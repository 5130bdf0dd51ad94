"""A LoRA's weight slider: -2 to 2 in 0.05 steps, 0 is off, space switches it on and off."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from genai_tui.ui.widgets.slider import Scale, Slider

LORA_SCALE = Scale(-2.0, 2.0, 0.05, 0.25, decimals=2)
"""Negative weights invert a LoRA; past ±2 images fall apart."""

DEFAULT_WEIGHT = 0.8
"""The weight a LoRA is switched on at: a little under 1 keeps room for the prompt."""

LABEL_WIDTH = 10


def short_label(name_or_path: str) -> str:
    """What the slider shows: the name, or a file's stem, cut to fit the slider's label."""
    label = Path(name_or_path).stem if name_or_path.endswith(".safetensors") else name_or_path
    return label if len(label) <= LABEL_WIDTH - 1 else label[: LABEL_WIDTH - 2] + "…"


class LoraSlider(Slider):
    """The weight of one LoRA (a session LoRA's name or a file path); space toggles 0 ↔ last."""

    BINDINGS = [
        Binding("space", "switch", "on/off", show=False),
    ]

    def __init__(self, name_or_path: str, weight: float) -> None:
        super().__init__(
            short_label(name_or_path),
            weight,
            LORA_SCALE,
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
