"""The parameter panel: sliders and fields for every knob of a generation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Input, Select

from genai_tui.engine.params import MAX_SEED
from genai_tui.engine.schedulers import SAMPLERS
from genai_tui.session.models import EditorState
from genai_tui.ui.widgets.lora_panel import LoraPanel
from genai_tui.ui.widgets.slider import Scale, Slider

SIZE_PRESETS = ("native", "512x512", "512x768", "768x512", "640x640", "768x768", "1024x1024")


class ParamPanel(VerticalScroll):
    """Steps, guidance, seed, size, batch, sampler, clip skip and LoRA weights."""

    DEFAULT_CSS = """
    ParamPanel { height: auto; max-height: 100%; }
    ParamPanel #seed-row { height: 3; }
    ParamPanel #seed { width: 1fr; }
    ParamPanel #seed-lock { width: auto; }
    ParamPanel Select { width: 1fr; }
    ParamPanel .field-label { color: $text-muted; padding: 0 1; }
    """

    class Changed(Message):
        """A parameter changed; the app saves the editor state shortly after."""

    def compose(self) -> ComposeResult:
        yield Slider(
            "Steps",
            25,
            Scale(1, 150, 1, 10),
            id="steps",
            tooltip="Denoising steps; 20-30 suit DPM++ 2M Karras.",
        )
        yield Slider(
            "Guidance",
            7.0,
            Scale(0, 30, 0.5, 2.5, decimals=1),
            id="cfg",
            tooltip="How strongly the prompt steers each step (5-9 is usual).",
        )
        with Horizontal(id="seed-row"):
            yield Input("-1", id="seed", type="integer", tooltip="-1 draws a new seed each run")
            yield Checkbox("lock", id="seed-lock", tooltip="Keep this seed between runs")
        yield Select(
            [(p, p) for p in SIZE_PRESETS],
            value="native",
            id="size-preset",
            allow_blank=False,
            tooltip="Common sizes; fine-tune with the sliders below",
        )
        yield Slider("Width", 0, Scale(0, 2048, 8, 64), zero_label="native", id="width")
        yield Slider("Height", 0, Scale(0, 2048, 8, 64), zero_label="native", id="height")
        yield Slider("Images", 1, Scale(1, 16, 1, 4), id="batch", tooltip="Images per prompt.")
        yield Select(
            [(s.name, s.name) for s in SAMPLERS],
            value=SAMPLERS[0].name,
            id="scheduler",
            allow_blank=False,
            tooltip="Sampler: how the noise is walked back to an image",
        )
        yield Slider("Clip skip", 1, Scale(1, 4, 1, 1), id="clip-skip")
        yield Checkbox(
            "CLIP score each image",
            True,
            id="score",
            tooltip="Rank new images by how well they match their prompt",
        )
        yield Slider(
            "Best of",
            0,
            Scale(0, 64, 1, 8),
            zero_label="off",
            id="best-of",
            tooltip="Make N images, keep the best by CLIP score; the rest stay on disk",
        )
        yield Slider(
            "Keep",
            1,
            Scale(1, 16, 1, 4),
            id="keep",
            tooltip="With best-of: how many of the best stay in the gallery",
        )
        yield LoraPanel(id="loras")

    def load(self, state: EditorState, loras: list[str] | None = None) -> None:
        """Show `state` without announcing changes (used when a session opens).

        `loras`: the session's LoRA names (jobs.loras.session_loras); None keeps those shown.
        """
        with self.prevent(Slider.Changed, Input.Changed, Checkbox.Changed, Select.Changed):
            self.query_one("#steps", Slider).set_value(state.steps)
            self.query_one("#cfg", Slider).set_value(state.cfg_scale)
            self.query_one("#seed", Input).value = str(state.seed)
            self.query_one("#seed-lock", Checkbox).value = state.seed_locked
            self.query_one("#width", Slider).set_value(state.width or 0)
            self.query_one("#height", Slider).set_value(state.height or 0)
            self.query_one("#batch", Slider).set_value(state.batch_size)
            if any(s.name == state.scheduler for s in SAMPLERS):
                self.query_one("#scheduler", Select).value = state.scheduler
            self.query_one("#clip-skip", Slider).set_value(state.clip_skip)
            self.query_one("#score", Checkbox).value = state.score_images
            self.query_one("#best-of", Slider).set_value(state.best_of)
            self.query_one("#keep", Slider).set_value(state.keep)
        self.query_one(LoraPanel).load(state.loras, loras)

    def read(self, prompt: str, negative: str) -> EditorState:
        """The panel's values, with the prompts from the editors, as the session stores them."""
        width = self.query_one("#width", Slider).int_value or None
        height = self.query_one("#height", Slider).int_value or None
        return EditorState(
            prompt=prompt,
            negative_prompt=negative,
            steps=self.query_one("#steps", Slider).int_value,
            cfg_scale=self.query_one("#cfg", Slider).value,
            seed=self.seed,
            seed_locked=self.query_one("#seed-lock", Checkbox).value,
            width=width,
            height=height,
            batch_size=self.query_one("#batch", Slider).int_value,
            scheduler=str(self.query_one("#scheduler", Select).value),
            clip_skip=self.query_one("#clip-skip", Slider).int_value,
            score_images=self.query_one("#score", Checkbox).value,
            best_of=self.query_one("#best-of", Slider).int_value,
            keep=self.query_one("#keep", Slider).int_value,
            loras=self.query_one(LoraPanel).weights(),
        )

    @property
    def seed(self) -> int:
        """The seed field: -1 (random) when empty or out of range."""
        try:
            value = int(self.query_one("#seed", Input).value)
        except ValueError:
            return -1
        return value if 0 <= value <= MAX_SEED else -1

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
