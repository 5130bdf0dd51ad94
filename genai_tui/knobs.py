"""Every knob of a generation, written once: its default, bounds, step and the words for it.

The parameter panel's sliders, `genai-tui generate --help`, the f1 help and the checks that refuse
a bad value all read a knob from here, so they cannot disagree. Plain Python on purpose: the
first frame of the UI is drawn from these definitions before pydantic or torch is imported.

`ImageKnobs` holds the knobs an image keeps exactly as they were set. The job's parameters
(engine.params.GenerateParams), the editor state and the image record (session.models) are each
built on it, so a knob added there reaches all three, the record on disk and the CLI at once.
The knobs whose shape differs between those three (the seed is "random" in the editor and a
number in a record; the size "native" or pixels; LoRAs by weight or by file and hash) are
declared by each of them, with their words and numbers from the constants below.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, field, fields
from typing import Any

MAX_SEED = 2**32 - 1
"""Seeds are 32-bit, as in AUTOMATIC1111, so any seed it shows can be typed here."""


@dataclass(frozen=True)
class Knob:
    """How one knob is bounded, stepped, named and explained."""

    label: str
    """Its name on the panel, and in messages ("steps must be at least 1")."""
    help: str
    """One line: the tooltip, the CLI help, and the first line of its f1 entry."""
    default: Any = None
    """What a new session, `generate` and a missing record field start from."""
    minimum: float | None = None
    maximum: float | None = None
    slider_maximum: float | None = None
    """Where its slider ends, when that is short of `maximum` (A1111's steps slider stops at
    150; a script may ask for more)."""
    step: float = 1
    """What one arrow key moves its slider by (sizes move in multiples of 8)."""
    big_step: float = 10
    """What shift+arrow moves it by."""
    decimals: int = 0
    flags: tuple[str, ...] = ()
    """Its `genai-tui generate` options, the main one first; () when it has none of its own."""
    metavar: str | None = None
    zero_label: str | None = None
    """What its slider shows at 0 (e.g. "native" for the model's own size)."""
    noun: str | None = None
    """What messages call it, when that differs from the label lower-cased."""
    explain: str = ""
    """The f1 help's paragraph beyond the one line: why it matters and what to try."""

    @property
    def name_in_messages(self) -> str:
        """How an error message names the knob ("guidance scale must be ...")."""
        return self.noun or self.label.lower()

    def bounds_text(self) -> str:
        """The range a person reads: "1–150", "0 or more"."""
        low, high = self.minimum, self.maximum
        shown = [f"{v:.{self.decimals}f}" if v is not None else None for v in (low, high)]
        if shown[0] is not None and shown[1] is not None:
            return f"{shown[0]}–{shown[1]}"
        if shown[0] is not None:
            return f"{shown[0]} or more"
        return f"up to {shown[1]}" if shown[1] is not None else ""


def knob(spec: Knob) -> Any:
    """A dataclass field with the knob's default, whose metadata carries the Knob."""
    return field(default=spec.default, metadata={"knob": spec})


DEFAULT_SAMPLER = "DPM++ 2M Karras"
"""The sampler of a new session, of `generate` and of training samples."""

PROMPT = Knob(
    "Prompt",
    "What to draw.",
    default="",
    explain="Up/Down at the first/last line walk through your prompt history.",
)
NEGATIVE = Knob(
    "Negative prompt",
    "What to steer away from.",
    default="",
    flags=("--negative",),
    metavar="TEXT",
    explain='For example "blurry, extra fingers": it replaces the empty prompt that guidance '
    "pushes away from.",
)
STEPS = Knob(
    "Steps",
    "Denoising steps; DPM++ 2M Karras needs 20-30.",
    default=25,
    minimum=1,
    maximum=1000,
    slider_maximum=150,
    step=1,
    big_step=10,
    flags=("--steps",),
    metavar="N",
    explain="Modern samplers (DPM++ 2M Karras, UniPC) take larger, smarter jumps than the "
    "original DDPM's 1,000 steps; more steps add little but time.",
)
GUIDANCE = Knob(
    "Guidance",
    "How strongly the prompt steers each step (CFG scale; 5-9 is usual).",
    default=7.0,
    minimum=0,
    maximum=30,
    step=0.5,
    big_step=2.5,
    decimals=1,
    flags=("--cfg",),
    metavar="X",
    noun="guidance scale",
    explain="Classifier-free guidance: each step the model predicts the noise with and without "
    "your prompt, and the difference is scaled by this number. 1 ignores the prompt beyond the "
    "first guess; much higher burns colours and loses variety.",
)
SAMPLER = Knob(
    "Sampler",
    "How the noise is walked back to an image (AUTOMATIC1111's names).",
    default=DEFAULT_SAMPLER,
    flags=("--scheduler", "--sampler"),
    metavar="NAME",
    explain='"a" (ancestral) and SDE samplers add fresh noise each step, so their image changes '
    "with the step count; the others converge.",
)
CLIP_SKIP = Knob(
    "Clip skip",
    "1 uses the text encoder's last layer; 2 the one before (many anime models).",
    default=1,
    minimum=1,
    maximum=12,
    step=1,
    big_step=1,
    flags=("--clip-skip",),
    metavar="N",
    explain="1 is right for SD 1.5; 2 suits models trained on the layer before the last.",
)
SEED = Knob(
    "Seed",
    "The starting noise; empty draws a new one each run. Image i of a batch gets seed + i.",
    default=None,
    minimum=0,
    maximum=MAX_SEED,
    flags=("--seed",),
    metavar="N",
    explain="The same seed, prompt and settings give the same image on any machine: that is how "
    "you make a favourite again or change one knob at a time. Lock it to keep it.",
)
WIDTH = Knob(
    "Width",
    "Width in pixels, a multiple of 8; native is the model's own size.",
    default=None,
    minimum=8,
    maximum=2048,
    step=8,
    big_step=64,
    zero_label="native",
    explain="The VAE shrinks the image 8x per side, so sizes come in multiples of 8. SD 1.5 was "
    "trained at 512x512; far from it you get repeated subjects.",
)
HEIGHT = Knob(
    "Height",
    "Height in pixels, a multiple of 8; native is the model's own size.",
    default=None,
    minimum=8,
    maximum=2048,
    step=8,
    big_step=64,
    zero_label="native",
)
BATCH = Knob(
    "Images",
    "Images made together from one prompt.",
    default=1,
    minimum=1,
    maximum=64,
    slider_maximum=16,
    step=1,
    big_step=4,
    flags=("-n", "--images"),
    metavar="N",
    noun="images per prompt",
    explain="One batch: faster per image than one at a time, and more GPU memory.",
)
LORAS = Knob(
    "LoRA",
    "LoRAs applied together, each at its weight (0 off, 1 as trained, negative inverts it).",
    default=(),
    # Past ±2 images fall apart; A1111's and ComfyUI's sliders stop there too.
    minimum=-2,
    maximum=2,
    step=0.05,
    big_step=0.25,
    decimals=2,
    flags=("--lora",),
    metavar="NAME_OR_PATH[:WEIGHT]",
    noun="LoRA weight",
    explain="Small low-rank matrices trained on your own images and added beside the model's "
    "layers; the weight scales their effect.",
)
SCORE = Knob(
    "CLIP score each image", "Rank new images by how well they match their prompt.", default=True
)
BEST_OF = Knob(
    "Best of",
    "Make N images, keep the best by CLIP score; the rest stay on disk, hidden.",
    default=0,
    minimum=0,
    maximum=256,
    slider_maximum=64,
    step=1,
    big_step=8,
    zero_label="off",
    flags=("--best-of",),
    metavar="N",
    noun="best-of",
)
KEEP = Knob(
    "Keep",
    "With best-of: how many of the best stay in the gallery.",
    default=1,
    minimum=1,
    maximum=256,
    slider_maximum=16,
    step=1,
    big_step=4,
    flags=("--keep",),
    metavar="K",
)


@dataclass(frozen=True)
class ImageKnobs:
    """The knobs an image keeps as they were set: made again with these, it comes out the same.

    A new knob of this kind is added here (`name: type = knob(Knob(label, help, default=...))`),
    used by the engine, and given one line of layout in the parameter panel; the job, the editor
    state, the image record, `generate --help` and the f1 help follow.
    """

    prompt: str = knob(PROMPT)
    negative_prompt: str = knob(NEGATIVE)
    steps: int = knob(STEPS)
    cfg_scale: float = knob(GUIDANCE)
    scheduler: str = knob(SAMPLER)
    clip_skip: int = knob(CLIP_SKIP)


def knob_fields(cls: type[Any]) -> list[Field[Any]]:
    """The fields of a dataclass that are knobs, in order."""
    return [f for f in fields(cls) if "knob" in f.metadata]


def knob_of(cls: type[Any], name: str) -> Knob:
    """The Knob of field `name` of a dataclass built from knobs."""
    for f in fields(cls):
        if f.name == name and "knob" in f.metadata:
            spec: Knob = f.metadata["knob"]
            return spec
    raise KeyError(f"{cls.__name__} has no knob {name!r}")


IMAGE_KNOB_NAMES: tuple[str, ...] = tuple(f.name for f in knob_fields(ImageKnobs))
"""The names of the knobs every model of a generation shares, in order."""
