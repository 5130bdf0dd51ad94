"""Samplers by the names AUTOMATIC1111 shows, mapped to diffusers schedulers.

Each scheduler is built from the pipeline's *original* scheduler config: extra kwargs stick in a
config, so deriving from the last one used would carry e.g. Karras sigmas into plain Euler.

A PNG's A1111 text names each sampler as A1111 1.9+ does, apart: "Sampler: DPM++ 2M, Schedule
type: Karras". A1111 gives a sampler written without a schedule type its own automatic one
(Karras for DPM++ 2M and DPM2, Exponential for DPM++ 2M SDE), so the plain ones say theirs: the
type whose noise levels equal diffusers' on SD 1.5's scheduler config (no timestep_spacing, so
each class's default): SGM Uniform for DPM++ (its "linspace" steps stop one short of t=0),
Uniform for Euler, Heun and DPM2. A config that sets timestep_spacing ("leading") moves them;
bench/a1111_infotext.py measures both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genai_tui.engine.errors import BadInput


@dataclass(frozen=True)
class Sampler:
    """One user-facing sampler: a diffusers scheduler class and the options that make it so."""

    name: str
    scheduler_class: str
    options: dict[str, Any] = field(default_factory=dict)
    help: str = ""
    a1111: tuple[str, str] | None = None
    """A1111 1.9+'s ("Sampler", "Schedule type") that samples the same way; None where A1111 has
    no such sampler. Checked against A1111's tables by tests/unit/test_infotext_samplers.py and
    bench/a1111_infotext.py."""
    fewest_steps: int = 1
    """Below this many steps the sampler goes wrong on some models (a warning says so)."""

    def too_few_steps(self, steps: int) -> str | None:
        """The warning for a generation of `steps` steps, or None when they are enough."""
        if steps >= self.fewest_steps:
            return None
        return (
            f"{self.name} needs about {self.fewest_steps} steps: at {steps} its multistep "
            "extrapolation overshoots and colours can come out wrong (DPM++ 2M Karras or "
            "UniPC are good at few steps)"
        )


SAMPLERS: tuple[Sampler, ...] = (
    Sampler(
        "DPM++ 2M Karras",
        "DPMSolverMultistepScheduler",
        {"use_karras_sigmas": True},
        "Fast and sharp; good images in 20-30 steps. The usual default.",
        a1111=("DPM++ 2M", "Karras"),
    ),
    Sampler(
        "DPM++ 2M",
        "DPMSolverMultistepScheduler",
        {},
        "DPM++ 2M with the plain noise schedule.",
        a1111=("DPM++ 2M", "SGM Uniform"),
    ),
    Sampler(
        "DPM++ 2M SDE Karras",
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
        "Adds fresh noise each step: more detail, changes with step count.",
        a1111=("DPM++ 2M SDE", "Karras"),
    ),
    Sampler(
        "DPM++ 2M SDE",
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++"},
        "Stochastic DPM++ with the plain schedule.",
        a1111=("DPM++ 2M SDE", "SGM Uniform"),
    ),
    Sampler(
        "Euler",
        "EulerDiscreteScheduler",
        {},
        "Simple and predictable; 30-50 steps.",
        a1111=("Euler", "Uniform"),
    ),
    Sampler(
        "Euler a",
        "EulerAncestralDiscreteScheduler",
        {},
        "Ancestral: adds noise each step, so images keep changing as steps grow.",
        a1111=("Euler a", "Uniform"),
    ),
    Sampler(
        "Heun",
        "HeunDiscreteScheduler",
        {},
        "Two model calls a step: slower, accurate.",
        a1111=("Heun", "Uniform"),
    ),
    Sampler(
        "DPM2",
        "KDPM2DiscreteScheduler",
        {},
        "Second-order DPM; two model calls a step.",
        a1111=("DPM2", "Uniform"),
    ),
    Sampler(
        "DPM2 a",
        "KDPM2AncestralDiscreteScheduler",
        {},
        "Ancestral DPM2.",
        a1111=("DPM2 a", "Uniform"),
    ),
    # A1111's DDIM and UniPC take no schedule type; "Automatic" is what A1111 itself writes.
    Sampler(
        "UniPC",
        "UniPCMultistepScheduler",
        {},
        "Good images in very few steps (10-20).",
        a1111=("UniPC", "Automatic"),
    ),
    Sampler(
        "DDIM",
        "DDIMScheduler",
        {},
        "The classic deterministic sampler of the DDIM paper.",
        a1111=("DDIM", "Automatic"),
    ),
    # A1111 has no PNDM. Its PLMS is a relative (PNDM's multistep part; PNDM adds a Runge-Kutta
    # warm-up unless the model's config skips it), so the PNG names the diffusers class instead.
    # Its linear multistep (PLMS) extrapolates four steps back: on the demo model 25 steps give
    # the wrong colour in 9 of 12 prompts, 50 steps none (tests/engine/test_demo_samplers.py).
    Sampler(
        "PNDM",
        "PNDMScheduler",
        {},
        "The scheduler SD 1.5 shipped with; needs ~50 steps.",
        fewest_steps=50,
    ),
)

SAMPLER_NAMES: tuple[str, ...] = tuple(s.name for s in SAMPLERS)


def find_sampler(name: str) -> Sampler:
    """The sampler called `name` (case-insensitive); BadInput lists the known names otherwise."""
    for sampler in SAMPLERS:
        if sampler.name.lower() == name.strip().lower():
            return sampler
    raise BadInput(
        f"unknown scheduler {name!r}",
        hint="choose one of: " + ", ".join(SAMPLER_NAMES),
    )


def infotext_names(name: str) -> tuple[str, str]:
    """The "Sampler" and "Schedule type" a PNG's A1111 text gives sampler `name`.

    A sampler A1111 lacks is written as its diffusers class ("PNDMScheduler") with no schedule
    type (""): a name that neither A1111 nor any tool reading its text has for a sampler of its
    own, so none takes it for one. A1111 itself then falls back to its default sampler, as for
    any name it does not know.
    """
    sampler = find_sampler(name)
    return sampler.a1111 or (sampler.scheduler_class, "")


def sampler_from_infotext(sampler: str, schedule: str = "") -> str | None:
    """Our sampler for an A1111 text's "Sampler" and "Schedule type"; None when none of ours is it.

    Reads what `infotext_names` writes, and the older form where the schedule is part of the name
    and there is no schedule type ("DPM++ 2M Karras", "DPM++ 2M", "PNDM"): A1111 before 1.9, and
    genai-tui before it wrote every schedule type. "Automatic" counts as none: A1111 writes it
    only where its automatic schedule is the model's own, and the one it chose (Karras,
    Exponential) otherwise. Names compare case-insensitively.
    """

    def pair(name: str, kind: str) -> tuple[str, str]:
        kind = kind.strip().casefold()
        return name.strip().casefold(), "" if kind == "automatic" else kind

    given = pair(sampler, schedule)
    for entry in SAMPLERS:
        if pair(*infotext_names(entry.name)) == given:
            return entry.name
    if not given[1]:
        for entry in SAMPLERS:
            if entry.name.casefold() == given[0]:
                return entry.name
    return None


NOISE_SCHEDULE_KEYS = frozenset(
    {
        "num_train_timesteps",
        "beta_start",
        "beta_end",
        "beta_schedule",
        "trained_betas",
        "prediction_type",
        "rescale_betas_zero_snr",
        "timestep_spacing",
        "steps_offset",
        "set_alpha_to_one",
        "skip_prk_steps",
        "clip_sample",
    }
)
"""What a model's scheduler config says about the model (how it was trained, how its steps are
spaced); the rest (Karras sigmas, solver order, algorithm) is a sampler's choice. A model that
ships e.g. DPM++ with `use_karras_sigmas` would otherwise make plain Euler and UniPC Karras too:
`from_config` hands every key a class accepts to it."""


def build_scheduler(name: str, original_config: Any) -> Any:
    """A fresh diffusers scheduler for `name`, from the noise schedule of the model's config."""
    import diffusers

    sampler = find_sampler(name)
    cls = getattr(diffusers, sampler.scheduler_class)
    schedule = {key: value for key, value in original_config.items() if key in NOISE_SCHEDULE_KEYS}
    return cls.from_config(schedule, **sampler.options)
