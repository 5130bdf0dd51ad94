"""What happened, as frozen dataclasses free of Textual: the only way results leave the worker.

The UI wraps each in one Textual message; high-rate ones (marked `replaceable`) may be dropped
when a newer one of the same job is waiting. Each event says in `sentence()` how a person reads
it: the log panel, the training screen and the CLI all show that one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from genai_tui import words
from genai_tui.engine.scorers import label_of

if TYPE_CHECKING:
    from PIL import Image

    from genai_tui.session.models import ImageRecord, LoraRecord

Level = str
"""How a line is shown: info, ok, warning or error."""


@dataclass(frozen=True)
class Event:
    """Base of all events; `job_id` is empty for worker-wide events."""

    job_id: str
    replaceable: ClassVar[bool] = False
    level: ClassVar[Level] = "info"

    def supersedes(self, older: Event) -> bool:
        """Whether this event may replace `older` (same kind, same job) while it waits."""
        return True

    def sentence(self) -> str:
        """The line a person reads about this event; "" for those shown only as progress."""
        return ""


@dataclass(frozen=True)
class JobStarted(Event):
    """The worker took a job off the queue."""

    title: str

    def sentence(self) -> str:
        return f"started {self.title}"


@dataclass(frozen=True)
class ModelLoading(Event):
    """A model is being fetched or loaded; done/total are None when unknown."""

    what: str
    done: int | None = None
    total: int | None = None
    replaceable: ClassVar[bool] = True

    def sentence(self) -> str:
        progress = f" {self.done}/{self.total}" if self.total else ""
        return f"{self.what}{progress}"


@dataclass(frozen=True)
class ModelLoaded(Event):
    """A model is ready on its device."""

    ref: str
    name: str
    device: str
    dtype: str
    seconds: float
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        return (
            f"loaded {self.name} on {self.device} ({self.dtype}) in {words.duration(self.seconds)}"
        )


@dataclass(frozen=True)
class Progress(Event):
    """A denoising step finished; `previews` show the images forming, one per image."""

    step: int
    total: int
    elapsed: float
    previews: tuple[Image.Image, ...] = field(default=(), compare=False)
    preview_mode: str = ""
    """How the previews are made: vae, taesd or latent ("" for progress without them)."""
    preview_note: str = ""
    """Why that mode: "auto", or why the mode asked for is not the one shown."""
    replaceable: ClassVar[bool] = True

    def supersedes(self, older: Event) -> bool:
        """A step without a preview frame must not drop a waiting one that has one."""
        return bool(self.previews) or not getattr(older, "previews", ())

    @property
    def rate(self) -> float:
        """Steps per second so far."""
        return self.step / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(frozen=True)
class ImageReady(Event):
    """An image was saved in the session (PNG and record both on disk)."""

    record: ImageRecord
    path: Path
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        return f"saved {self.record.file} (seed {self.record.seed})"


@dataclass(frozen=True)
class JobWarning(Event):
    """Something the user should know that did not stop the job (e.g. a prompt was cut)."""

    message: str
    level: ClassVar[Level] = "warning"

    def sentence(self) -> str:
        return self.message


@dataclass(frozen=True)
class JobFinished(Event):
    """The job completed."""

    seconds: float
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        return f"done in {words.duration(self.seconds)}"


@dataclass(frozen=True)
class JobCancelled(Event):
    """The job stopped because the user asked; nothing half-made was kept."""

    level: ClassVar[Level] = "warning"

    def sentence(self) -> str:
        return "cancelled"


@dataclass(frozen=True)
class JobFailed(Event):
    """The job raised; `error` is one line, `hint` says what to do, `detail` is the traceback.

    `kind` is one of bad_input, model, session, out_of_memory, disk, network, engine, bug.
    """

    kind: str
    error: str
    hint: str = ""
    detail: str = field(default="", compare=False)
    level: ClassVar[Level] = "error"

    def sentence(self) -> str:
        return f"failed: {self.error}" + (f" ({self.hint})" if self.hint else "")


@dataclass(frozen=True)
class ClipLoaded(Event):
    """A CLIP model for scoring is ready (apart from ModelLoaded, which means the pipeline)."""

    ref: str
    name: str
    device: str
    dtype: str
    seconds: float
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        return f"CLIP {self.name} on {self.device} in {words.duration(self.seconds)}"


@dataclass(frozen=True)
class ImagesScored(Event):
    """Images were scored with CLIP; the gallery re-sorts by `scores` (record file -> score).

    `text` None: each image against its own prompt; `records` carry the new clip_score and
    clip_model, already saved in session.json and the PNG. A text ("rank by text"): every image
    against that text; `records` are unchanged and the scores exist only in this event.
    """

    records: tuple[ImageRecord, ...]
    text: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    clip_model: str = ""
    """The model that scored (the CLIP reference, or PickScore's)."""
    scorer: str = "clip"
    """Which scorer made `scores` (engine/scorers.py): clip, or pickscore (in records' scores)."""
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        if not self.scores:
            return "nothing to score"
        best_file, best = max(self.scores.items(), key=lambda item: item[1])
        label = label_of(self.scorer)
        by = f" ({label})" if self.scorer != "clip" else ""
        if self.text is not None:
            return f"ranked {len(self.scores)} images by {self.text!r}{by}: best {best:.1f}"
        if len(self.scores) == 1:
            return f"{label} {best:.1f}: {best_file}"
        return f"scored {len(self.scores)} images against their prompts{by}"


@dataclass(frozen=True)
class BestOfPicked(Event):
    """A best-of-N job chose: `kept` (best first) stay visible, `hidden` got hidden=True."""

    kept: tuple[ImageRecord, ...]
    hidden: tuple[ImageRecord, ...]
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        best = self.kept[0] if self.kept else None
        top = f", top score {best.clip_score:.1f} ({best.file})" if best and best.clip_score else ""
        made = len(self.kept) + len(self.hidden)
        return f"best of {made}: kept {len(self.kept)}, hid {len(self.hidden)}{top}"


@dataclass(frozen=True)
class FilesSkipped(JobWarning):
    """A JobWarning naming data files that were left out (e.g. not readable images)."""

    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainingStarted(Event):
    """A training run is set up; its first step comes next. Shows what LoRA trains."""

    run: str
    lora: str
    trainable_params: int
    unet_params: int
    """All UNet parameters, the LoRA's included (as peft counts them)."""
    start_step: int
    total_steps: int
    images: int
    resolution: int
    device: str
    processes: int = 1
    rank: int = 0
    layers: str = ""
    """The LoRA layer set (attention or transformer)."""
    level: ClassVar[Level] = "ok"

    @property
    def trainable_share(self) -> float:
        """Trainable parameters as a share of the UNet's (0-1); LoRA: well under 0.01."""
        return self.trainable_params / self.unet_params if self.unet_params else 0.0

    def sentence(self) -> str:
        where = f"{self.device} x{self.processes}" if self.processes > 1 else self.device
        resuming = f"; resuming at step {self.start_step}" if self.start_step else ""
        return (
            f"training {self.lora} ({self.run}) on {self.images} images at {self.resolution} px, "
            f"{where}: {self.trainable_params:,} trainable parameters = "
            f"{100 * self.trainable_share:.2f} % of the UNet's {self.unet_params:,} "
            f"(rank {self.rank} on its {self.layers} layers){resuming}"
        )


@dataclass(frozen=True)
class TrainStep(Event):
    """An optimizer step finished: one point of the loss curve."""

    run: str
    step: int
    total: int
    loss: float
    lr: float
    rate: float
    """Steps per second (training time only)."""
    eta: float
    """Seconds left at that rate."""
    epoch: int = 0
    replaceable: ClassVar[bool] = True

    def sentence(self) -> str:
        return (
            f"step {self.step}/{self.total} · loss {self.loss:.4f} · lr {self.lr:.2e} · "
            f"{self.rate:.2f} it/s · ETA {words.duration(self.eta)}"
        )


@dataclass(frozen=True)
class LossCurve(Event):
    """A run's loss curve so far, in one event: for a client that comes in the middle of a
    run (a genai-tui opened again after its terminal went), instead of thousands of steps."""

    run: str
    steps: tuple[int, ...]
    losses: tuple[float, ...]
    total: int

    def sentence(self) -> str:
        last = f", loss {self.losses[-1]:.4f}" if self.losses else ""
        return f"run {self.run}: {len(self.steps)} steps of {self.total} so far{last}"


@dataclass(frozen=True)
class ValidationImages(Event):
    """Samples made at `step`, already saved in the session (each also sent as ImageReady)."""

    run: str
    step: int
    records: tuple[ImageRecord, ...]
    paths: tuple[Path, ...]
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        scored = any(record.clip_score is not None for record in self.records)
        shown = [
            path.name + (f" ({record.clip_score:.1f})" if record.clip_score is not None else "")
            for path, record in zip(self.paths, self.records, strict=True)
        ]
        label = " (CLIP score)" if scored else ""
        return f"samples at step {self.step}{label}: {', '.join(shown)}"


@dataclass(frozen=True)
class CheckpointSaved(Event):
    """A resumable checkpoint was written (path: runs/<run>/checkpoint-<step>)."""

    run: str
    step: int
    path: Path
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        return f"checkpoint at step {self.step}: {words.shown_path(self.path)}"


@dataclass(frozen=True)
class LoraReady(Event):
    """A trained LoRA was exported into the session's loras/<name>/ and recorded."""

    record: LoraRecord
    path: Path
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        return f"LoRA {self.record.name} is ready: {words.shown_path(self.path)}"


@dataclass(frozen=True)
class SweepCell(Event):
    """Cell `index` of `total` of a sweep is in the session (made now, or already before)."""

    sweep: str
    index: int
    """1-based, x fastest."""
    total: int
    record: ImageRecord
    path: Path
    skipped: bool = False
    """True: the cell was made by an earlier run of the same sweep, and kept."""
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        where = ", ".join(f"{axis} {value}" for axis, value in self.record.axes.items())
        score = self.record.clip_score
        scored = f", CLIP {score:.1f}" if score is not None else ""
        made = " (made before)" if self.skipped else ""
        return f"cell {self.index} of {self.total} ({where}): {self.record.file}{scored}{made}"


@dataclass(frozen=True)
class GridReady(Event):
    """A sweep's grids are written: one PNG per Z value, and the layout and scores as JSON."""

    sweep: str
    paths: tuple[Path, ...]
    layout: Path
    level: ClassVar[Level] = "ok"

    def sentence(self) -> str:
        shown = ", ".join(words.shown_path(path) for path in self.paths)
        return f"sweep {self.sweep}: grid{'s' * (len(self.paths) != 1)} {shown}"
