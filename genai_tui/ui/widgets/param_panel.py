"""The parameter panel: a slider or field for every knob of a generation.

Every knob widget is drawn from its definition (genai_tui.knobs) and names its editor-state
field, so reading and loading the panel is one loop: a new knob is one line of `compose`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Select

from genai_tui.engine.schedulers import SAMPLER_NAMES
from genai_tui.knobs import (
    BATCH,
    BEST_OF,
    CLIP_SKIP,
    GUIDANCE,
    HEIGHT,
    KEEP,
    MAX_SEED,
    SAMPLER,
    SCORE,
    SEED,
    STEPS,
    WIDTH,
)
from genai_tui.ui.widgets.knob_widgets import KnobSelect, KnobSlider
from genai_tui.ui.widgets.lora_panel import LoraPanel
from genai_tui.ui.widgets.slider import Slider

if TYPE_CHECKING:
    from genai_tui.session.models import EditorState

SIZE_PRESETS = ("native", "512x512", "512x768", "768x512", "640x640", "768x768", "1024x1024")


class ParamPanel(VerticalScroll, can_focus=False):
    """Steps, guidance, seed, size, batch, sampler, clip skip, scoring and LoRA weights.

    Not a stop of its own for tab: a scroll container is one by default, and tab from the
    negative prompt landed on nothing a user could see (it scrolls to the knob focused)."""

    DEFAULT_CSS = """
    ParamPanel { height: auto; max-height: 100%; }
    ParamPanel #seed-row { height: 1; }
    ParamPanel #seed { width: 1fr; }
    ParamPanel #seed-lock { width: auto; }
    ParamPanel Select { width: 1fr; }
    ParamPanel Checkbox { border: none; height: 1; padding: 0; background: transparent; }
    ParamPanel .group { color: $text-muted; text-style: bold; height: 1; margin-top: 1; }
    """

    class Changed(Message):
        """A parameter changed; the screen saves the editor state shortly after."""

    def compose(self) -> ComposeResult:
        # The knobs every image needs first: they fit a 120x36 terminal without scrolling.
        yield KnobSlider("steps", STEPS, id="steps")
        yield KnobSlider("cfg_scale", GUIDANCE, id="cfg")
        with Horizontal(id="seed-row"):
            yield Input(
                "", id="seed", type="integer", placeholder="seed: random", tooltip=SEED.help,
                compact=True,
            )  # fmt: skip
            yield Checkbox("lock", id="seed-lock", tooltip="Keep this seed between runs")
        yield KnobSelect("scheduler", SAMPLER, SAMPLER_NAMES, id="scheduler")
        yield Select(
            [(p, p) for p in SIZE_PRESETS],
            value="native",
            id="size-preset",
            allow_blank=False,
            tooltip="Common sizes; fine-tune with the sliders below",
            compact=True,
        )
        yield KnobSlider("width", WIDTH, id="width")
        yield KnobSlider("height", HEIGHT, id="height")
        yield KnobSlider("batch_size", BATCH, id="batch")
        yield Label("Ranking", classes="group")
        yield Checkbox(SCORE.label, SCORE.default, id="score", tooltip=SCORE.help)
        yield KnobSlider("best_of", BEST_OF, id="best-of")
        yield KnobSlider("keep", KEEP, id="keep")
        yield Label("More", classes="group")
        yield KnobSlider("clip_skip", CLIP_SKIP, id="clip-skip")
        yield LoraPanel(id="loras")

    def _knob_widgets(self) -> list[KnobSlider | KnobSelect]:
        return [*self.query(KnobSlider), *self.query(KnobSelect)]

    def load(self, state: EditorState, loras: list[str] | None = None) -> None:
        """Show `state` without announcing changes (used when a session opens).

        `loras`: the session's LoRA names (jobs.loras.session_loras); None keeps those shown.
        """
        with self.prevent(Slider.Changed, Input.Changed, Checkbox.Changed, Select.Changed):
            for widget in self._knob_widgets():
                widget.show(getattr(state, widget.field))
            self.query_one("#seed", Input).value = "" if state.seed is None else str(state.seed)
            self.query_one("#seed-lock", Checkbox).value = state.seed_locked
            self.query_one("#score", Checkbox).value = state.score_images
        self.query_one(LoraPanel).load(state.loras, loras)

    def values(self) -> dict[str, Any]:
        """The panel's values by editor-state field (the prompts live in their editors)."""
        values: dict[str, Any] = {w.field: w.knob_value for w in self._knob_widgets()}
        values.update(
            seed=self.seed,
            seed_locked=self.query_one("#seed-lock", Checkbox).value,
            score_images=self.query_one("#score", Checkbox).value,
            loras=self.query_one(LoraPanel).weights(),
        )
        return values

    def read(self, prompt: str, negative: str) -> EditorState:
        """The panel's values, with the prompts from the editors, as the session stores them."""
        from genai_tui.session.models import EditorState

        return EditorState(prompt=prompt, negative_prompt=negative, **self.values())

    @property
    def seed(self) -> int | None:
        """The seed field: None (random) when empty or out of range."""
        try:
            value = int(self.query_one("#seed", Input).value)
        except ValueError:
            return None
        return value if 0 <= value <= MAX_SEED else None

    def use_seed(self, seed: int, *, lock: bool = True) -> None:
        """Put `seed` in the seed field (and lock it, so the next run uses it)."""
        self.query_one("#seed", Input).value = str(seed)
        self.query_one("#seed-lock", Checkbox).value = lock

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "size-preset" and isinstance(event.value, str):
            width, height = (0, 0) if event.value == "native" else map(int, event.value.split("x"))
            self.query_one("#width", Slider).set_value(width)
            self.query_one("#height", Slider).set_value(height)
        self.post_message(self.Changed())

    def on_slider_changed(self, _event: Slider.Changed) -> None:
        self.post_message(self.Changed())

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.post_message(self.Changed())

    def on_checkbox_changed(self, _event: Checkbox.Changed) -> None:
        self.post_message(self.Changed())

    def on_lora_panel_changed(self, _event: LoraPanel.Changed) -> None:
        self.post_message(self.Changed())
