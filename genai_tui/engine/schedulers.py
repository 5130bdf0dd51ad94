"""Samplers by the names AUTOMATIC1111 shows, mapped to diffusers schedulers.

Each scheduler is built from the pipeline's *original* scheduler config: extra kwargs stick in a
config, so deriving from the last one used would carry e.g. Karras sigmas into plain Euler.
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


SAMPLERS: tuple[Sampler, ...] = (
    Sampler(
        "DPM++ 2M Karras",
        "DPMSolverMultistepScheduler",
        {"use_karras_sigmas": True},
        "Fast and sharp; good images in 20-30 steps. The usual default.",
    ),
    Sampler(
        "DPM++ 2M", "DPMSolverMultistepScheduler", {}, "DPM++ 2M with the plain noise schedule."
    ),
    Sampler(
        "DPM++ 2M SDE Karras",
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
        "Adds fresh noise each step: more detail, changes with step count.",
    ),
    Sampler(
        "DPM++ 2M SDE",
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++"},
        "Stochastic DPM++ with the plain schedule.",
    ),
    Sampler("Euler", "EulerDiscreteScheduler", {}, "Simple and predictable; 30-50 steps."),
    Sampler(
        "Euler a",
        "EulerAncestralDiscreteScheduler",
        {},
        "Ancestral: adds noise each step, so images keep changing as steps grow.",
    ),
    Sampler("Heun", "HeunDiscreteScheduler", {}, "Two model calls a step: slower, accurate."),
    Sampler("DPM2", "KDPM2DiscreteScheduler", {}, "Second-order DPM; two model calls a step."),
    Sampler("DPM2 a", "KDPM2AncestralDiscreteScheduler", {}, "Ancestral DPM2."),
    Sampler("UniPC", "UniPCMultistepScheduler", {}, "Good images in very few steps (10-20)."),
    Sampler("DDIM", "DDIMScheduler", {}, "The classic deterministic sampler of the DDIM paper."),
    Sampler("PNDM", "PNDMScheduler", {}, "The scheduler SD 1.5 shipped with; needs ~50 steps."),
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


def build_scheduler(name: str, original_config: Any) -> Any:
    """A fresh diffusers scheduler for `name`, derived from the model's original config."""
    import diffusers

    sampler = find_sampler(name)
    cls = getattr(diffusers, sampler.scheduler_class)
    return cls.from_config(original_config, **sampler.options)
