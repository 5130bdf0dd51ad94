"""The sweep form (f4): up to three axes over the editor's knobs, counted as they are typed.

Each axis is a name (jobs/sweep_axes.AXIS_KINDS, whose help it shows) and its values in
AUTOMATIC1111's syntax (`1-5`, `2,5,8`, `1-10 [5]`, `2-8 (+1.5)`). Under the axes a line says how
many cells that makes and about how long they take at the session's last rate, or what is wrong
with a value (the sweep parser's own words) while Run stays disabled. The form answers with a
SweepRequest; the main screen makes the job from it and its editor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from genai_tui import words
from genai_tui.engine.errors import BadInput
from genai_tui.jobs.sweep_axes import (
    AXIS_KINDS,
    MAX_CELLS,
    AxisKind,
    axes_help,
    cell_count,
    parse_axes,
)
from genai_tui.ui.screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from genai_tui.engine.params import GenerateParams
    from genai_tui.session.models import ImageRecord

LETTERS = ("x", "y", "z")
WHAT = {"x": "columns", "y": "rows", "z": "one grid each"}
RATE_IMAGES = 8
"""The rate is the median time per image of the session's last this many images."""
VALUES_HINT = "values: 1-5 · 2,5,8 · 1-10 [5] · 2-8 (+1.5)"


@dataclass(frozen=True)
class SweepRequest:
    """What the form asks for: the "AXIS=VALUES" specs (x, y, z) and how many cells."""

    axes: tuple[str, ...]
    cells: int
    yes: bool = False
    """More than sweep_axes.MAX_CELLS cells, confirmed."""


def axis_options(loras: Sequence[str]) -> list[tuple[str, str]]:
    """(label, axis name) for each axis; a LoRA weight axis for each of the session's LoRAs."""
    options: list[tuple[str, str]] = []
    for kind in AXIS_KINDS:
        if kind.name == "lora:NAME":
            options += [(f"LoRA {name}", f"lora:{name}") for name in loras]
        else:
            options.append((kind.label, kind.name))
    return options


def kind_of(name: str) -> AxisKind:
    """The axis kind of an axis name ("lora:style" is the LoRA weight axis)."""
    key = "lora:NAME" if name.startswith("lora:") else name
    return next(kind for kind in AXIS_KINDS if kind.name == key)


def session_rate(records: Sequence[ImageRecord]) -> float | None:
    """Seconds per image of the session's last images (None: none measured yet)."""
    times = [r.time_taken for r in records[-RATE_IMAGES:] if r.time_taken > 0]
    return median(times) if times else None


def estimate(cells: int, rate: float | None) -> str:
    """About how long `cells` images take at `rate` seconds each."""
    if rate is None:
        return "no rate yet"
    return f"about {words.duration(cells * rate)} at {words.duration(rate)}/image"


def axis_spec(name: str, values: str) -> str:
    """The "AXIS=VALUES" text of a row (the prompt matrix may go without values)."""
    values = values.strip()
    return f"{name}={values}" if values or name != "matrix" else name


def summary(base: GenerateParams, specs: Sequence[str]) -> tuple[int, str]:
    """(cells, "3 x 3 = 9 cells"); BadInput from the sweep parser when a value is wrong."""
    axes = parse_axes(base, specs)
    cells = cell_count(axes)
    shape = " x ".join(str(len(axis.values)) for axis in axes)
    plural = "s" * (cells != 1)
    return cells, f"{shape} = {cells:,} cell{plural}" if len(
        axes
    ) > 1 else f"{cells:,} cell{plural}"


class SweepForm(ModalScreen[SweepRequest | None]):
    """Axes X, Y, Z over the editor's knobs; Enter or Run queues it, escape closes."""

    DEFAULT_CSS = """
    SweepForm { align: center middle; }
    SweepForm > VerticalScroll { width: 100; max-width: 100%; height: auto; max-height: 100%;
                                 border: thick $accent; background: $surface; padding: 0 1; }
    SweepForm .title { text-style: bold; }
    SweepForm .muted { color: $text-muted; width: 1fr; }
    SweepForm .axis-row { height: auto; margin-top: 1; }
    SweepForm .letter { width: 3; text-style: bold; padding-top: 0; }
    SweepForm Select { width: 24; }
    SweepForm Input { width: 1fr; }
    SweepForm .axis-help { color: $text-muted; padding-left: 3; height: 1; }
    SweepForm #sweep-count { margin-top: 1; text-style: bold; }
    SweepForm #sweep-error { color: $error; height: 1; }
    SweepForm #sweep-buttons { height: auto; align-horizontal: right; }
    SweepForm Button { margin-left: 1; min-width: 10; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Close", id="sweep.close"),
        Binding("ctrl+g", "run", "Run", id="sweep.run", priority=True),
    ]

    def __init__(
        self,
        base: GenerateParams,
        rate: float | None,
        loras: Sequence[str] = (),
        last: Sequence[str] = (),
    ) -> None:
        """`base`: the editor's knobs the cells start from; `rate`: seconds per image (None:
        unknown); `loras`: the session's; `last`: the specs the form was last run with."""
        super().__init__()
        self._base = base
        self._rate = rate
        self._options = axis_options(loras)
        self._last = list(last)
        self._cells = 0

    def compose(self) -> ComposeResult:
        names = {name for _label, name in self._options}
        with VerticalScroll() as fields:
            fields.can_focus = False  # no tab stop of its own: it scrolls to the field focused
            yield Label(
                "Sweep: one image per cell, the editor's knobs as the base", classes="title"
            )
            seed = self._base.seed
            base = f"seed {seed}" if seed is not None else "seed from the sweep id"
            yield Label(
                f"base: {self._base.steps} steps · CFG {self._base.cfg_scale:g} · "
                f"{self._base.scheduler} · {base}",
                classes="muted",
            )
            yield Label(VALUES_HINT, classes="muted")
            for n, letter in enumerate(LETTERS):
                name, _, values = (self._last[n] if n < len(self._last) else "").partition("=")
                name = name.strip().lower()
                chosen = name if name in names else Select.NULL
                with Horizontal(classes="axis-row"):
                    yield Label(letter.upper(), classes="letter")
                    yield Select(
                        self._options,
                        prompt="choose an axis" if letter == "x" else "(none)",
                        value=chosen,
                        id=f"axis-{letter}",
                        tooltip=f"The {letter.upper()} axis ({WHAT[letter]}):\n{axes_help()}",
                        compact=True,
                    )
                    yield Input(
                        values.strip() if chosen != Select.NULL else "",
                        placeholder="values",
                        id=f"values-{letter}",
                        compact=True,
                    )
                yield Label("", id=f"help-{letter}", classes="axis-help")
            yield Static("", id="sweep-count")
            yield Static("", id="sweep-error")
            with Horizontal(id="sweep-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Run", id="run", variant="primary", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self._check()
        self.query_one("#axis-x", Select).focus()

    def specs(self) -> list[str]:
        """The "AXIS=VALUES" of every row with an axis chosen, x first."""
        found = []
        for letter in LETTERS:
            name = self.query_one(f"#axis-{letter}", Select).value
            if isinstance(name, str):
                found.append(axis_spec(name, self.query_one(f"#values-{letter}", Input).value))
        return found

    def _rows_in_order(self) -> bool:
        chosen = [isinstance(self.query_one(f"#axis-{a}", Select).value, str) for a in LETTERS]
        return chosen == sorted(chosen, reverse=True)  # x, then y, then z

    def _check(self) -> None:
        """Count the cells now, or say what is wrong; Run only when it can run."""
        for letter in LETTERS:
            name = self.query_one(f"#axis-{letter}", Select).value
            shown = "the columns" if letter == "x" else f"optional: {WHAT[letter]}"
            if isinstance(name, str):
                kind = kind_of(name)
                shown = f"{kind.help}; e.g. {kind.example}"
                self.query_one(f"#values-{letter}", Input).placeholder = kind.example.partition(
                    "="
                )[2]
            self.query_one(f"#help-{letter}", Label).update(shown)
        count = self.query_one("#sweep-count", Static)
        error = self.query_one("#sweep-error", Static)
        self._cells = 0
        problem = ""
        specs = self.specs()
        if not specs:
            count.update("choose an axis for X (columns), and its values")
        elif not self._rows_in_order():
            count.update("")
            problem = "axes fill X first, then Y, then Z"
        else:
            try:
                self._cells, text = summary(self._base, specs)
            except BadInput as bad:
                count.update("")
                problem = f"{bad}. {bad.hint}".strip(" .") if bad.hint else str(bad)
            else:
                over = f" · over {MAX_CELLS:,}: Run asks first" if self._cells > MAX_CELLS else ""
                count.update(f"{text} · {estimate(self._cells, self._rate)}{over}")
        error.update(Text(problem, no_wrap=True, overflow="ellipsis"))
        self.query_one("#run", Button).disabled = not self._cells

    def on_select_changed(self, _event: Select.Changed) -> None:
        self._check()

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._check()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_run()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "run":
            self.action_run()
        else:
            self.action_cancel()

    def action_run(self) -> None:
        self._check()
        if not self._cells:
            self.notify("the sweep cannot run yet: see the line in red", severity="warning")
            return
        request = SweepRequest(tuple(self.specs()), self._cells)
        if self._cells <= MAX_CELLS:
            self.dismiss(request)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(SweepRequest(request.axes, request.cells, yes=True))

        question = (
            f"This sweep makes {request.cells:,} images ({estimate(request.cells, self._rate)})."
            " Run it?"
        )
        self.app.push_screen(ConfirmDialog(question, yes="Run"), answered)

    def action_cancel(self) -> None:
        self.dismiss(None)
