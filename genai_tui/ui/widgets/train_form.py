"""The training form: data folder, captions, LoRA name, resume point and every main knob.

Each knob shows its one-line help from TrainParams, so the form explains itself. Knobs the form
does not show keep the value of the run it was loaded from (a resumed checkpoint's, or defaults).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Input, Label, Select, Static

from genai_tui.engine.errors import BadInput
from genai_tui.engine.lora.params import (
    LORA_LAYERS,
    LR_SCHEDULES,
    MIXED_PRECISIONS,
    TrainParams,
    help_of,
)
from genai_tui.ui.widgets.slider import Scale, Slider

CAPTION_MODES = (
    ("captions: the .txt beside each image", "captions"),
    ("one instance prompt for every image", "instance"),
)

SLIDERS: tuple[tuple[str, str, Scale, str | None], ...] = (
    ("rank", "Rank", Scale(1, 128, 1, 8), None),
    ("alpha", "Alpha", Scale(0.5, 256, 0.5, 4, decimals=1), None),
    ("steps", "Steps", Scale(1, 100_000, 1, 100), None),
    ("warmup_steps", "Warmup", Scale(0, 10_000, 1, 50), None),
    ("batch_size", "Batch", Scale(1, 64, 1, 4), None),
    ("gradient_accumulation", "Grad accum", Scale(1, 64, 1, 4), None),
    ("resolution", "Resolution", Scale(0, 2048, 8, 64), "native"),
    ("snr_gamma", "SNR gamma", Scale(0, 20, 0.5, 1, decimals=1), "off"),
    ("noise_offset", "Noise off.", Scale(0, 0.5, 0.01, 0.05, decimals=2), None),
    ("validation_every", "Val. every", Scale(0, 100_000, 1, 50), "at end"),
    ("validation_steps", "Val. steps", Scale(1, 150, 1, 10), None),
    ("checkpoint_every", "Ckpt every", Scale(0, 100_000, 1, 50), "at end"),
)
"""(TrainParams field, label, range, what 0 shows as) for every knob drawn as a slider."""

CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lora_layers", tuple(LORA_LAYERS)),
    ("lr_schedule", LR_SCHEDULES),
    ("mixed_precision", MIXED_PRECISIONS),
)
"""(TrainParams field, its values) for every knob drawn as a drop-down."""

_INTEGERS = frozenset(
    {
        "rank",
        "steps",
        "warmup_steps",
        "batch_size",
        "gradient_accumulation",
        "validation_every",
        "validation_steps",
        "checkpoint_every",
    }
)


def _help(field: str, extra: str = "") -> Label:
    return Label(help_of(field) + extra, classes="help")


class TrainForm(VerticalScroll):
    """Everything a training run needs from the user; `params()` turns it into TrainParams."""

    can_focus = False

    DEFAULT_CSS = """
    TrainForm { padding: 0 1; }
    TrainForm .help { color: $text-muted; margin-bottom: 1; width: 1fr; }
    TrainForm .field { text-style: bold; margin-top: 1; }
    TrainForm #data-status { color: $text-muted; height: auto; margin-bottom: 1; }
    TrainForm #data-status.-bad { color: $error; }
    TrainForm Select { width: 1fr; }
    """

    def __init__(
        self, defaults: TrainParams | None = None, note: str = "", *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._base = defaults or TrainParams()
        self._note = note
        self._checkpoints: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        if self._note:
            yield Label(self._note, id="recipe-note", classes="help")
        yield Label("Resume", classes="field")
        yield Select[str](
            [],
            prompt="new run (or pick a checkpoint to resume)",
            id="resume",
            allow_blank=True,
            compact=True,
        )
        yield Label("Data folder", classes="field")
        yield Input(placeholder="path/to/images", id="data-folder", compact=True)
        yield Static("type the path of a folder of training images", id="data-status")
        yield Label("Captions", classes="field")
        yield Select(
            CAPTION_MODES, value="captions", id="caption-mode", allow_blank=False, compact=True
        )
        yield Input(
            placeholder="a photo of sks dog", id="instance-prompt", disabled=True, compact=True
        )
        yield _help("instance_prompt")
        yield Label("LoRA name", classes="field")
        yield Input(placeholder="default: the data folder's name", id="lora-name", compact=True)
        yield Label("Knobs", classes="field")
        defaults = self._base
        for field, label, scale, zero in SLIDERS:
            value = getattr(defaults, field) or 0
            yield Slider(label, value, scale, zero_label=zero, id=f"knob-{field}")
            yield _help(field)
        yield Input(f"{defaults.learning_rate:g}", id="knob-learning_rate", compact=True)
        yield _help("learning_rate")
        for field, values in CHOICES:
            yield Select(
                [(v, v) for v in values],
                value=getattr(defaults, field),
                id=f"knob-{field}",
                allow_blank=False,
                compact=True,
            )
            yield _help(field)
        yield Checkbox(
            "gradient checkpointing",
            defaults.gradient_checkpointing,
            id="knob-gradient_checkpointing",
        )
        yield _help("gradient_checkpointing")
        yield Input(str(defaults.seed), id="knob-seed", type="integer", compact=True)
        yield _help("seed")
        yield Input(
            "; ".join(defaults.validation_prompts),
            placeholder="a red sks circle; a sks circle on grass",
            id="knob-validation_prompts",
            compact=True,
        )
        yield _help("validation_prompts", " Separate prompts with ;")

    # -- reading ---------------------------------------------------------------------------------

    @property
    def data_folder(self) -> str:
        """The data folder as typed."""
        return self.query_one("#data-folder", Input).value.strip()

    @property
    def instance_prompt(self) -> str:
        """The instance prompt when that caption mode is chosen, else ''."""
        if self.query_one("#caption-mode", Select).value != "instance":
            return ""
        return self.query_one("#instance-prompt", Input).value.strip()

    @property
    def lora_name(self) -> str:
        """The LoRA name as typed ('' means: the data folder's name)."""
        return self.query_one("#lora-name", Input).value.strip()

    @property
    def checkpoints(self) -> list[tuple[str, str]]:
        """The resume list: (label, checkpoint folder) pairs."""
        return list(self._checkpoints)

    @property
    def resume(self) -> str | None:
        """The checkpoint folder chosen to resume from, or None for a new run."""
        value = self.query_one("#resume", Select).value
        return value if isinstance(value, str) else None

    def params(self) -> TrainParams:
        """The knobs as TrainParams, validated; raises BadInput naming the first bad one."""
        values: dict[str, Any] = {}
        for field, _label, _scale, zero in SLIDERS:
            slider = self.query_one(f"#knob-{field}", Slider)
            value: Any = slider.int_value if field in _INTEGERS else slider.value
            if field == "resolution":
                value = slider.int_value or None
            elif field == "snr_gamma" and zero and not value:
                value = None
            values[field] = value
        try:
            values["learning_rate"] = float(self.query_one("#knob-learning_rate", Input).value)
        except ValueError:
            raise BadInput("learning rate must be a number", hint="e.g. 1e-4") from None
        try:
            values["seed"] = int(self.query_one("#knob-seed", Input).value or "0")
        except ValueError:
            raise BadInput("seed must be a whole number") from None
        for field, _values in CHOICES:
            values[field] = str(self.query_one(f"#knob-{field}", Select).value)
        values["gradient_checkpointing"] = self.query_one(
            "#knob-gradient_checkpointing", Checkbox
        ).value
        prompts = self.query_one("#knob-validation_prompts", Input).value.split(";")
        values["validation_prompts"] = tuple(p.strip() for p in prompts if p.strip())
        values["instance_prompt"] = self.instance_prompt
        return replace(self._base, **values).validate()

    # -- writing ---------------------------------------------------------------------------------

    def load_params(self, params: TrainParams) -> None:
        """Show `params` (e.g. a checkpoint's); fields the form lacks are kept from them."""
        self._base = params
        for field, _label, _scale, _zero in SLIDERS:
            self.query_one(f"#knob-{field}", Slider).set_value(getattr(params, field) or 0)
        self.query_one("#knob-learning_rate", Input).value = f"{params.learning_rate:g}"
        for field, _values in CHOICES:
            self.query_one(f"#knob-{field}", Select).value = getattr(params, field)
        self.query_one(
            "#knob-gradient_checkpointing", Checkbox
        ).value = params.gradient_checkpointing
        self.query_one("#knob-seed", Input).value = str(params.seed)
        self.query_one("#knob-validation_prompts", Input).value = "; ".join(
            params.validation_prompts
        )
        mode = "instance" if params.instance_prompt else "captions"
        self.query_one("#caption-mode", Select).value = mode
        self.query_one("#instance-prompt", Input).value = params.instance_prompt

    def use_recipe(self, params: TrainParams, note: str) -> None:
        """Start from another model's recipe, unless the user changed the starting values."""
        try:
            untouched = self.params() == self._base.validate()
        except BadInput:
            untouched = False  # a field being typed: it is the user's
        if not untouched:
            return
        self.load_params(params)
        self._say(note)

    def show_run(self, params: TrainParams, data: str, lora: str, note: str) -> None:
        """Show the settings a run was started with (one started elsewhere, shown here)."""
        self.load_params(params)
        self.query_one("#data-folder", Input).value = data
        self.query_one("#lora-name", Input).value = lora
        self._say(note)

    def _say(self, note: str) -> None:
        for label in self.query("#recipe-note").results(Label):
            label.update(note)

    def set_knob(self, field: str, value: float) -> None:
        """Set one slider knob (by TrainParams field name)."""
        self.query_one(f"#knob-{field}", Slider).set_value(value)

    def set_checkpoints(self, options: list[tuple[str, str]]) -> None:
        """Fill the resume list: (label, checkpoint folder) pairs, newest last."""
        self._checkpoints = list(options)
        select = self.query_one("#resume", Select)
        current = select.value
        select.set_options(options)
        if isinstance(current, str) and any(value == current for _, value in options):
            select.value = current

    def show_data_status(self, text: str, ok: bool) -> None:
        """What the data folder holds, or why it cannot be used."""
        status = self.query_one("#data-status", Static)
        status.update(text)
        status.set_class(not ok, "-bad")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "caption-mode":
            self.query_one("#instance-prompt", Input).disabled = event.value != "instance"
