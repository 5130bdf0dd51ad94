"""A sweep's axes ("cfg=5-9 (+2)") and its plan: every cell as full GenerateParams. Pure Python.

The syntax is AUTOMATIC1111's X/Y/Z plot: comma-separated values (CSV, so a value may be quoted
to hold a comma), and for numbers the ranges `1-5` (1,2,3,4,5), `1-10 (+2)` (1,3,5,7,9) and
`1-10 [5]` (5 values evenly spaced, both ends included). Every value is checked against its
knob's bounds (genai_tui.knobs) here, so a bad one is refused before anything is queued.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from genai_tui.engine.errors import BadInput
from genai_tui.engine.params import GenerateParams, LoraWeight, check_number
from genai_tui.engine.schedulers import find_sampler
from genai_tui.jobs.sweep_values import numbers, shown, split_values
from genai_tui.knobs import CLIP_SKIP, GUIDANCE, LORAS, SEED, STEPS, WIDTH, Knob

MAX_AXES = 3
MAX_CELLS = 1000
"""More cells than this need yes=True (`--yes`): a typo in a range should not queue a day."""
MAX_MATRIX_PARTS = 12
"""A prompt matrix of n optional parts makes 2**n cells; 12 is already 4096."""


@dataclass(frozen=True)
class AxisKind:
    """One axis name: its label on the grid and in records, its help, an example."""

    name: str
    label: str
    help: str
    example: str


AXIS_KINDS: tuple[AxisKind, ...] = (
    AxisKind("seed", "Seed", "starting noise (seed cells run as one batch)", "seed=1-4"),
    AxisKind("steps", "Steps", "denoising steps", "steps=10-30 (+10)"),
    AxisKind("cfg", "CFG scale", "guidance scale; decimals allowed", "cfg=2-8 (+1.5)"),
    AxisKind("sampler", "Sampler", "AUTOMATIC1111's sampler names", "sampler=Euler a,DDIM"),
    AxisKind("size", "Size", "WxH or N (square), multiples of 8", "size=512x768,768x512"),
    AxisKind("clip-skip", "Clip skip", "1 is the text encoder's last layer", "clip-skip=1,2"),
    AxisKind("lora:NAME", "LoRA NAME", "a LoRA's weight (a name or a file)",
             "lora:style=0-1 [5]"),
    AxisKind("prompt", "Prompt S/R", "each value replaces the first, which is in the prompt",
             "prompt=red,green,blue"),
    AxisKind("matrix", "Prompt matrix", "prompt a|b|c: a plus each subset of the rest", "matrix"),
    AxisKind("checkpoint:RUN", "Checkpoint RUN",
             "checkpoint steps of a training run (or a LoRA's last run) as LoRAs at weight 1",
             "checkpoint:circles=all"),
)  # fmt: skip
"""Every axis name, written once: the plan reads it and `genai-tui sweep --help` lists it."""

_KINDS = {kind.name: kind for kind in AXIS_KINDS}


def axes_help() -> str:
    """One line per axis name with an example, for --help."""
    return "\n".join(f"  {k.name:<14} {k.help}; e.g. {k.example}" for k in AXIS_KINDS)


CHECKPOINT_WEIGHT = 1.0
"""The weight a checkpoint axis applies each checkpoint's LoRA at (and the main screen uses a
checkpoint kept from a comparison at, so it renders what the grid showed)."""


def checkpoint_label(run: str) -> str:
    """The label of a checkpoint axis, as grids and the cells' records (`axes`) name it."""
    return _KINDS["checkpoint:RUN"].label.replace("RUN", run)


def values_spec(values: Sequence[str]) -> str:
    """Values as one axis text (CSV: a value holding a comma is quoted), for split_values."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


@dataclass(frozen=True)
class CheckpointLora:
    """One checkpoint of a training run, as a checkpoint axis applies it."""

    step: int
    folder: str
    """The checkpoint folder (runs/<run>/checkpoint-<step>, absolute)."""
    file: str
    """The LoRA file its cells use, written from the folder on first use (jobs/checkpoints.py)."""


@dataclass(frozen=True)
class RunCheckpoints:
    """A training run's checkpoints on disk, oldest first."""

    run: str
    checkpoints: tuple[CheckpointLora, ...]


CheckpointLookup = Callable[[str], RunCheckpoints]
"""A run (or LoRA) name to its checkpoints; raises BadInput naming the runs there are."""


@dataclass(frozen=True)
class AxisValue:
    """One value of an axis: what it sets, and how the grid and the record name it."""

    label: str
    value: Any


@dataclass(frozen=True)
class Axis:
    """A parsed axis: its name ("cfg", "lora:style"), its label, its values in order."""

    name: str
    label: str
    values: tuple[AxisValue, ...]
    spec: str
    """The text it was given, as the grid's PNG text repeats it."""
    apply: Callable[[GenerateParams, Any], GenerateParams]

    @property
    def kind(self) -> str:
        """The axis name without its argument: "lora" for "lora:style"."""
        return self.name.split(":", 1)[0]

    def heading(self, value: AxisValue) -> str:
        """A value as the grid draws it: "CFG scale: 5"; a sampler or a prompt alone."""
        if self.kind in {"sampler", "prompt", "matrix"}:
            return value.label
        return f"{self.label}: {value.label}"


@dataclass(frozen=True)
class Cell:
    """One image of the sweep: where it sits (x, y, z), its parameters, its axis labels."""

    index: tuple[int, int, int]
    params: GenerateParams
    axes: dict[str, str]


@dataclass(frozen=True)
class Plan:
    """The cartesian product of up to three axes, x fastest as in AUTOMATIC1111."""

    axes: tuple[Axis, ...]
    cells: tuple[Cell, ...]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(columns, rows, grids): 1 where an axis is absent."""
        sizes = [len(axis.values) for axis in self.axes] + [1, 1, 1]
        return sizes[0], sizes[1], sizes[2]


def plan_sweep(
    base: GenerateParams,
    specs: Sequence[str],
    *,
    yes: bool = False,
    checkpoints: CheckpointLookup | None = None,
) -> Plan:
    """The cells of a sweep over `specs` (x, y, z) from `base`; BadInput says what is wrong.

    `checkpoints` finds a session's training runs for the checkpoint axis.
    """
    base = replace(base.validate(), batch_size=1)
    axes = parse_axes(base, specs, checkpoints)
    count = cell_count(axes)
    if count > MAX_CELLS and not yes:
        raise BadInput(
            f"this sweep makes {count:,} cells, more than {MAX_CELLS:,}", hint="add --yes to run it"
        )
    # The matrix rewrites the whole prompt, so it goes first; a search/replace then finds its
    # text in the rewritten prompt.
    order = sorted(range(len(axes)), key=lambda i: axes[i].kind != "matrix")
    ranges = [range(len(axis.values)) for axis in axes] + [range(1)] * (MAX_AXES - len(axes))
    cells: list[Cell] = []
    for iz, iy, ix in itertools.product(ranges[2], ranges[1], ranges[0]):
        at = (ix, iy, iz)
        params = base
        for i in order:
            params = axes[i].apply(params, axes[i].values[at[i]].value)
        labels = {axis.label: axis.values[at[i]].label for i, axis in enumerate(axes)}
        cells.append(Cell(at, params.validate(), labels))
    return Plan(axes, tuple(cells))


def parse_axes(
    base: GenerateParams, specs: Sequence[str], checkpoints: CheckpointLookup | None = None
) -> tuple[Axis, ...]:
    """The axes of `specs` (x, y, z), each checked, none twice; the cells are not built (the
    TUI's sweep form counts them as the user types)."""
    if not specs:
        raise BadInput("a sweep needs at least one axis", hint='e.g. --x "cfg=5,7,9"')
    if len(specs) > MAX_AXES:
        raise BadInput(f"a sweep has at most {MAX_AXES} axes (got {len(specs)})")
    axes = tuple(parse_axis(spec, base, checkpoints) for spec in specs)
    names = [axis.name for axis in axes]
    for name in names:
        if names.count(name) > 1:
            raise BadInput(f"axis {name} is given twice", hint="one axis per name")
    return axes


def cell_count(axes: Sequence[Axis]) -> int:
    """How many cells (images) the axes make."""
    return math.prod(len(axis.values) for axis in axes)


def parse_axis(
    spec: str, base: GenerateParams, checkpoints: CheckpointLookup | None = None
) -> Axis:
    """One "AXIS=VALUES" spec, its values checked; `base` is needed by prompt and matrix,
    `checkpoints` by the checkpoint axis."""
    name, _, text = spec.partition("=")
    name = name.strip().lower()
    key = "lora:NAME" if name.startswith("lora:") else name
    key = "checkpoint:RUN" if name.startswith("checkpoint:") else key
    kind = _KINDS.get(key)
    if kind is None:
        known = ", ".join(k.name for k in AXIS_KINDS)
        raise BadInput(f"unknown sweep axis {name!r} in {spec!r}", hint=f"axes: {known}")
    if name != "matrix" and not text.strip():
        raise BadInput(f"axis {name} has no values", hint=f"e.g. {kind.example}")
    try:
        if key == "lora:NAME":
            return _lora_axis(spec, name, text)
        if key == "checkpoint:RUN":
            return _checkpoint_axis(spec, text, checkpoints)
        maker = _MAKERS[name]
        values, apply = maker(text, base)
    except BadInput as error:
        raise BadInput(f"{name} axis: {error}", error.hint) from None
    return Axis(name, kind.label, _unique(values), spec, apply)


def _unique(values: list[AxisValue]) -> tuple[AxisValue, ...]:
    """The values in order, each once: a repeat would be the same cell twice (and a resumed
    sweep finds cells by their labels)."""
    seen: dict[str, AxisValue] = {}
    for value in values:
        seen.setdefault(value.label, value)
    return tuple(seen.values())


Maker = Callable[[str, GenerateParams], tuple[list[AxisValue], Callable[..., GenerateParams]]]


def _knob_values(spec: Knob, integer: bool) -> Callable[[str], list[AxisValue]]:
    def read(text: str) -> list[AxisValue]:
        found = numbers(text, integer)
        for value in found:
            check_number(spec, int(value) if integer else value)
        return [AxisValue(shown(v), int(v) if integer else v) for v in found]

    return read


def _field(name: str, spec: Knob, integer: bool) -> Maker:
    read = _knob_values(spec, integer)

    def make(text: str, _base: GenerateParams) -> tuple[list[AxisValue], Callable[..., Any]]:
        return read(text), lambda params, value: replace(params, **{name: value})

    return make


def _sampler(text: str, _base: GenerateParams) -> tuple[list[AxisValue], Callable[..., Any]]:
    values = [AxisValue(find_sampler(v).name, find_sampler(v).name) for v in split_values(text)]
    return values, lambda params, value: replace(params, scheduler=value)


def _size(text: str, _base: GenerateParams) -> tuple[list[AxisValue], Callable[..., Any]]:
    sizes: list[tuple[int, int]] = []
    for value in split_values(text):
        match = re.fullmatch(r"(\d+)\s*[xX×]\s*(\d+)", value)
        if match:
            sizes.append((int(match.group(1)), int(match.group(2))))
        else:  # N or a range of N: squares
            sizes += [(int(n), int(n)) for n in numbers(value, integer=True)]
    for width, height in sizes:
        for side in (width, height):
            if side % 8 or side < 8:
                raise BadInput(f"{width}x{height}: sides must be multiples of 8 (got {side})")
            check_number(WIDTH, side)
    values = [AxisValue(f"{w}x{h}", (w, h)) for w, h in sizes]
    return values, lambda params, value: replace(params, width=value[0], height=value[1])


def _prompt_sr(text: str, base: GenerateParams) -> tuple[list[AxisValue], Callable[..., Any]]:
    values = split_values(text)
    first = values[0]
    if first not in base.prompt and first not in base.negative_prompt:
        raise BadInput(
            f"{first!r} is not in the prompt",
            hint="the first value is the text each value replaces",
        )

    def apply(params: GenerateParams, value: str) -> GenerateParams:
        return replace(
            params,
            prompt=params.prompt.replace(first, value),
            negative_prompt=params.negative_prompt.replace(first, value),
        )

    return [AxisValue(v, v) for v in values], apply


def _matrix(text: str, base: GenerateParams) -> tuple[list[AxisValue], Callable[..., Any]]:
    parts = [part.strip() for part in base.prompt.split("|")]
    if text.strip() and len(parts) > 1:
        raise BadInput("give the optional parts in the prompt (a|b|c) or as values, not both")
    if text.strip():
        parts = [base.prompt.strip(), *split_values(text)]
    if len(parts) < 2:
        raise BadInput(
            "the prompt has no | parts", hint='e.g. "a cat|in a hat|at night" with --x matrix'
        )
    first = parts[0].strip().strip(",").strip()
    extras = [part.strip(",").strip() for part in parts[1:]]
    if not first or not all(extras):
        raise BadInput("a part of the prompt matrix is empty")
    if len(extras) > MAX_MATRIX_PARTS:
        raise BadInput(f"a prompt matrix has at most {MAX_MATRIX_PARTS} optional parts")
    values = []
    for combination in range(2 ** len(extras)):
        chosen = tuple(part for n, part in enumerate(extras) if combination & (1 << n))
        values.append(AxisValue(" + ".join(chosen) or "(none)", ", ".join((first, *chosen))))
    return values, lambda params, value: replace(params, prompt=value)


def _lora_axis(spec: str, name: str, text: str) -> Axis:
    lora = spec.partition("=")[0].strip()[len("lora:") :].strip()
    if not lora:
        raise BadInput(f"axis {spec!r} names no LoRA", hint="e.g. lora:style=0-1 [5]")
    try:
        values = _knob_values(LORAS, integer=False)(text)
    except BadInput as error:
        raise BadInput(f"{name} axis: {error}", error.hint) from None

    def apply(params: GenerateParams, weight: float) -> GenerateParams:
        others = tuple(item for item in params.loras if item.name_or_path != lora)
        return replace(params, loras=(*others, LoraWeight(lora, weight)))

    return Axis(f"lora:{lora}", f"LoRA {lora}", _unique(values), spec, apply)


def _checkpoint_axis(spec: str, text: str, lookup: CheckpointLookup | None) -> Axis:
    run = spec.partition("=")[0].strip()[len("checkpoint:") :].strip()
    if not run:
        raise BadInput(f"axis {spec!r} names no training run", hint="e.g. checkpoint:circles=all")
    if lookup is None:
        raise BadInput("the checkpoint axis needs a session's training runs")
    found = lookup(run)
    by_step = {checkpoint.step: checkpoint for checkpoint in found.checkpoints}
    steps = ", ".join(str(step) for step in by_step) or "none"
    if not by_step:
        raise BadInput(f"run {found.run} has no checkpoints on disk")
    if text.strip().lower() == "all":
        chosen = list(found.checkpoints)
    else:
        chosen = []
        for step in numbers(text, integer=True):
            if int(step) not in by_step:
                raise BadInput(
                    f"run {found.run} has no checkpoint at step {int(step)}: it has "
                    f"checkpoints at steps {steps}"
                )
            chosen.append(by_step[int(step)])
    values = [AxisValue(str(c.step), c) for c in chosen]

    def apply(params: GenerateParams, checkpoint: CheckpointLora) -> GenerateParams:
        lora = LoraWeight(checkpoint.file, CHECKPOINT_WEIGHT)
        return replace(params, loras=(*params.loras, lora))

    return Axis(f"checkpoint:{run}", checkpoint_label(run), _unique(values), spec, apply)


_MAKERS: dict[str, Maker] = {
    "seed": _field("seed", SEED, integer=True),
    "steps": _field("steps", STEPS, integer=True),
    "cfg": _field("cfg_scale", GUIDANCE, integer=False),
    "clip-skip": _field("clip_skip", CLIP_SKIP, integer=True),
    "sampler": _sampler,
    "size": _size,
    "prompt": _prompt_sr,
    "matrix": _matrix,
}
