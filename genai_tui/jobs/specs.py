"""Jobs as data: what the worker is asked to do. Free of torch, so the UI can build them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from genai_tui.engine.errors import BadInput
from genai_tui.engine.lora.params import TrainParams
from genai_tui.engine.params import GenerateParams, LoadOptions
from genai_tui.engine.preview_modes import PreviewMode
from genai_tui.engine.scorers import SCORER_NAMES, ScorerName

if TYPE_CHECKING:
    # Named for the type checker only: a spec is built before any session model has to load
    # (the command line's parser imports the specs; the TUI draws before pydantic loads).
    from genai_tui.session.store import SessionStore


def new_job_id() -> str:
    """A short id for log lines and cancel requests."""
    return uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class GenerateJob:
    """Generate images from a prompt into a session."""

    params: GenerateParams
    model: str | None
    """A model reference; None: the model already loaded, else this machine's default."""
    session: SessionStore = field(compare=False, repr=False)
    load: LoadOptions = field(default_factory=LoadOptions)
    id: str = field(default_factory=new_job_id)
    score: bool = True
    """Score each image against its prompt with CLIP as it lands; a failure only warns."""
    clip: str | None = None
    """CLIP reference for scoring; None: engine.clip_refs.DEFAULT_CLIP_RULE."""
    best_of: int | None = None
    """Make this many images (params.batch_size at a time) and keep the `keep` best visible."""
    keep: int = 1
    """With best_of: images left visible; the others are saved with hidden=True."""
    preview: PreviewMode = "auto"
    """How the preview frames are made (engine/preview_modes.py); never changes the image."""
    rank: ScorerName = "clip"
    """The score best-of keeps the best by; pickscore also scores each image with PickScore
    (CLIP scores them always). On the demo model CLIP stands in (engine/scorers.py)."""
    pickscore: str | None = None
    """PickScore model folder (or cached hub id); None: PickScore_v1 from the hub cache."""
    pickscore_processor: str | None = None
    """Its processor folder; None: the model folder's own, else the laion CLIP-H one cached."""

    @property
    def title(self) -> str:
        """One line for the log panel."""
        count = self.best_of or self.params.batch_size
        prompt = (
            self.params.prompt if len(self.params.prompt) < 40 else self.params.prompt[:39] + "…"
        )
        return f"generate {count} image{'s' * (count != 1)}: {prompt}"


@dataclass(frozen=True)
class LoadModelJob:
    """Load a model ahead of the first generation, so the app is ready when the user is."""

    model: str | None
    """A model reference; None: this machine's default (SD 1.5 on CUDA, else the demo)."""
    load: LoadOptions = field(default_factory=LoadOptions)
    id: str = field(default_factory=new_job_id)

    @property
    def title(self) -> str:
        """One line for the log panel."""
        return f"load model {self.model or '(default)'}"


@dataclass(frozen=True)
class ScoreJob:
    """Score a session's images with CLIP: against their own prompts, or against one text."""

    session: SessionStore = field(compare=False, repr=False)
    text: str | None = None
    """None: each image against its own prompt, saved in its record. A text ("rank by text"):
    every image against it, saved nowhere; the scores come in ImagesScored.scores."""
    clip: str | None = None
    """CLIP reference; None: DEFAULT_CLIP_RULE for the session's model on this machine."""
    files: tuple[str, ...] | None = None
    """Images to score (their record `file`); None: every image, hidden ones included."""
    batch_size: int = 16
    """Images read and scored together."""
    id: str = field(default_factory=new_job_id)
    scorer: ScorerName = "clip"
    """clip, or pickscore (saved in the records' scores["pickscore"]; on a demo session the
    demo CLIP stands in and saves CLIP scores: engine/scorers.py)."""
    pickscore: str | None = None
    """PickScore model folder (or cached hub id); None: PickScore_v1 from the hub cache."""
    pickscore_processor: str | None = None
    """Its processor folder; None: the model folder's own, else the laion CLIP-H one cached."""

    @property
    def title(self) -> str:
        """One line for the log panel."""
        against = "their prompts" if self.text is None else repr(self.text[:40])
        by = " (PickScore)" if self.scorer == "pickscore" else ""
        return f"score {self.session.name} against {against}{by}"


_LORA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def check_lora_name(name: str) -> str:
    """Return `name` if it can name a LoRA (a folder, a file stem and `<lora:name:w>`)."""
    if not _LORA_NAME.fullmatch(name) or name.endswith("."):
        raise BadInput(
            f"LoRA name {name!r} is not allowed",
            hint='use 1-64 letters, digits, "-", "_" or ".", starting with a letter or digit',
        )
    return name


LORAS_DIR = "loras"
"""The session's folder of LoRAs, one folder each."""


def check_lora_free(store: SessionStore, name: str, resume: str | None = None) -> str:
    """Return `name` if a training of it overwrites nothing the user has: a LoRA of the
    session or a folder in loras/ (a resumed run may overwrite its own LoRA, trained further)."""
    previous = store.run(Path(resume).expanduser().resolve().parent.name) if resume else None
    own = previous is not None and previous.lora == name
    if not own and (store.lora(name) is not None or (store.path / LORAS_DIR / name).exists()):
        raise BadInput(
            f"session {store.name!r} already has a LoRA named {name!r}",
            hint="choose another LoRA name",
        )
    return name


def lora_name_for(store: SessionStore, given: str, folder: str, resume: str | None) -> str:
    """The name a training's LoRA takes: `given` if it overwrites nothing, else a resumed run's
    own, else the data folder's, made free (a second run on a folder: "stars-2")."""
    if given:
        return check_lora_free(store, check_lora_name(given), resume)
    previous = store.run(Path(resume).expanduser().resolve().parent.name) if resume else None
    if previous is not None:
        return previous.lora
    # The folder's name, with what a LoRA name cannot hold turned into "-".
    base = re.sub(r"[^A-Za-z0-9_.\-]+", "-", Path(folder).expanduser().resolve().name)
    base = base.strip("-.") or "lora"
    for name in (base, *(f"{base}-{n}" for n in range(2, 10_000))):
        try:
            return check_lora_free(store, check_lora_name(name), resume)
        except BadInput:
            continue
    raise BadInput(f"no free LoRA name from {base!r}", hint="choose a name")


@dataclass(frozen=True)
class TrainJob:
    """Train a LoRA on a folder of images into a session (loras/<name>, runs/<run>)."""

    params: TrainParams
    data: str
    """The folder of training images (captions in .txt files beside them, or an instance
    prompt in params)."""
    name: str
    """The LoRA's name: loras/<name>/ in the session, and <lora:name:w> in prompts."""
    session: SessionStore = field(compare=False, repr=False)
    model: str | None = None
    """The base model reference; None: the session's model, else this machine's default."""
    resume: str | None = None
    """A checkpoint folder (runs/<run>/checkpoint-<step>) to continue from, exactly."""
    load: LoadOptions = field(default_factory=LoadOptions)
    """Only `device` is used: training loads its own full-precision copy of the model."""
    score: bool = True
    """Score the sample images with CLIP against their prompts, so the best step shows."""
    clip: str | None = None
    """CLIP model reference for those scores; None: the default for the model and device."""
    id: str = field(default_factory=new_job_id)

    @property
    def title(self) -> str:
        """One line for the log panel."""
        verb = "resume training" if self.resume else "train"
        return f"{verb} LoRA {self.name}: {self.params.steps} steps"


SWEEP_BATCH = 4
"""Cells that differ only in seed made as one batch, at most (a sweep's `-n` changes it)."""

RANKERS = SCORER_NAMES
"""Scorers a sweep's cells can be ranked by (engine/scorers.py)."""


@dataclass(frozen=True)
class SweepJob:
    """An X/Y/Z sweep: one image per cell of up to three axes, then labelled grids.

    Each cell is an ordinary image record (with `sweep` and `axes` set) made as GenerateJob
    makes it; running the same `sweep` id again makes only the cells not in the session yet.
    """

    params: GenerateParams
    """The base knobs every cell starts from; seed None: a seed that comes from the sweep id,
    so running the same id again makes the same cells."""
    axes: tuple[str, ...]
    """"AXIS=VALUES" specs for x, y and z (jobs/sweep_axes.py)."""
    model: str | None
    session: SessionStore = field(compare=False, repr=False)
    sweep: str = field(default_factory=lambda: "sweep-" + new_job_id())
    load: LoadOptions = field(default_factory=LoadOptions)
    rank: ScorerName = "clip"
    """Which score marks the best cells: clip or pickscore (CLIP stands in on the demo)."""
    clip: str | None = None
    """CLIP reference for scoring; None: engine.clip_refs.DEFAULT_CLIP_RULE."""
    batch: int = SWEEP_BATCH
    """At most this many cells that differ only in seed are made as one batch."""
    yes: bool = False
    """Allow more than sweep_axes.MAX_CELLS cells."""
    preview: PreviewMode = "auto"
    id: str = field(default_factory=new_job_id)
    pickscore: str | None = None
    """PickScore model folder (or cached hub id) for rank pickscore; None: from the hub cache."""
    pickscore_processor: str | None = None
    """Its processor folder; None: the model folder's own, else the laion CLIP-H one cached."""

    @property
    def title(self) -> str:
        """One line for the log panel."""
        return f"sweep {self.sweep}: {' × '.join(self.axes)}"


@dataclass(frozen=True)
class ExportCheckpointJob:
    """Export checkpoint `step` of training run `run` as a LoRA of the session (loras/<name>/),
    written as a finished training writes its own."""

    run: str
    """The training run's name (or a LoRA's name: its latest run)."""
    step: int
    session: SessionStore = field(compare=False, repr=False)
    name: str | None = None
    """The LoRA's name; None: <lora>-step<step>."""
    load: LoadOptions = field(default_factory=LoadOptions)
    """How the run's base model is loaded (its name and hash go into the files)."""
    id: str = field(default_factory=new_job_id)

    @property
    def title(self) -> str:
        """One line for the log panel."""
        return f"export checkpoint {self.step} of {self.run} as a LoRA"


Job = GenerateJob | LoadModelJob | ScoreJob | TrainJob | SweepJob | ExportCheckpointJob
"""Every kind of job the worker runs (training and scoring join this union)."""
