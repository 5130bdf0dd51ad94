"""A slider or a drop-down for one knob, drawn from its definition in genai_tui.knobs.

Each knows the field of the editor state it shows, so the parameter panel reads and loads every
knob widget the same way: adding a knob to the panel is one line of its layout.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.widgets import Select

from genai_tui.knobs import Knob
from genai_tui.ui.widgets.slider import Scale, Slider


def scale_of(spec: Knob) -> Scale:
    """The slider range of a knob; a knob whose 0 means something (native size) starts at 0."""
    low = 0.0 if spec.zero_label else float(spec.minimum or 0)
    high = spec.slider_maximum if spec.slider_maximum is not None else spec.maximum
    return Scale(low, float(high or 0), spec.step, spec.big_step, spec.decimals)


class KnobSlider(Slider):
    """A slider for a numeric knob; `field` is its name in the editor state."""

    def __init__(self, field: str, spec: Knob, *, id: str | None = None) -> None:
        start = spec.default if isinstance(spec.default, int | float) else 0
        super().__init__(
            spec.label, start, scale_of(spec), zero_label=spec.zero_label, id=id, tooltip=spec.help
        )
        self.field = field
        self.spec = spec

    @property
    def knob_value(self) -> Any:
        """The value as the editor state holds it: int or float, None for "native"."""
        if self.value == 0 and self.spec.zero_label and self.spec.default is None:
            return None
        return self.value if self.spec.decimals else self.int_value

    def show(self, value: Any) -> None:
        """Show a value of the editor state (None as 0: "native"); one past the slider's end but
        within the knob's bounds (600 steps, from a script) moves the end, not the value."""
        scale = scale_of(self.spec)  # the usual end again for a usual value
        high = self.spec.maximum
        if isinstance(value, int | float) and high is not None and scale.maximum < value:
            scale = replace(scale, maximum=float(min(value, high)))
        self.scale = scale
        self.set_value(0 if value is None else value)


class KnobSelect(Select[str]):
    """A drop-down for a knob with named choices (the sampler)."""

    def __init__(
        self, field: str, spec: Knob, choices: tuple[str, ...], *, id: str | None = None
    ) -> None:
        super().__init__(
            [(choice, choice) for choice in choices],
            value=spec.default if spec.default in choices else choices[0],
            allow_blank=False,
            id=id,
            tooltip=spec.help,
            compact=True,
        )
        self.field = field
        self.choices = choices

    @property
    def knob_value(self) -> Any:
        """The chosen value."""
        return str(self.value)

    def show(self, value: Any) -> None:
        """Choose `value` if it is one of the choices (an old session may name one we dropped)."""
        if value in self.choices:
            self.value = value
