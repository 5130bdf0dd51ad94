"""What happened, as frozen dataclasses free of Textual: the only way results leave the worker.

The UI wraps each in one Textual message; high-rate ones (marked `replaceable`) may be dropped
when a newer one of the same job is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from PIL import Image

from genai_tui.session.models import ImageRecord, LoraRecord


@dataclass(frozen=True)
class Event:
    """Base of all events; `job_id` is empty for worker-wide events."""

    job_id: str
    replaceable: ClassVar[bool] = False

    def supersedes(self, older: Event) -> bool:
        """Whether this event may replace `older` (same kind, same job) while it waits."""
        return True


@dataclass(frozen=True)
class JobStarted(Event):
    """The worker took a job off the queue."""

    title: str


@dataclass(frozen=True)
class ModelLoading(Event):
    """A model is being fetched or loaded; done/total are None when unknown."""

    what: str
    done: int | None = None
    total: int | None = None
    replaceable: ClassVar[bool] = True


@dataclass(frozen=True)
class ModelLoaded(Event):
    """A model is ready on its device."""

    ref: str
    name: str
    device: str
    dtype: str
    seconds: float


@dataclass(frozen=True)
class Progress(Event):
    """A denoising step finished; `previews` are small latent-to-RGB images, one per image."""

    step: int
    total: int
    elapsed: float
    previews: tuple[Image.Image, ...] = field(default=(), compare=False)
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


@dataclass(frozen=True)
class JobWarning(Event):
    """Something the user should know that did not stop the job (e.g. a prompt was cut)."""

    message: str


@dataclass(frozen=True)
class JobFinished(Event):
    """The job completed."""

    seconds: float


@dataclass(frozen=True)
class JobCancelled(Event):
    """The job stopped because the user asked; nothing half-made was kept."""


@dataclass(frozen=True)
class JobFailed(Event):
    """The job raised; `error` is one line, `hint` says what to do, `detail` is the traceback.

    `kind` is one of bad_input, model, session, out_of_memory, disk, network, engine, bug.
    """

    kind: str
    error: str
    hint: str = ""
    detail: str = field(default="", compare=False)


@dataclass(frozen=True)
class ClipLoaded(Event):
    """A CLIP model for scoring is ready (apart from ModelLoaded, which means the pipeline)."""

    ref: str
    name: str
    device: str
    dtype: str
    seconds: float


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


@dataclass(frozen=True)
class BestOfPicked(Event):
    """A best-of-N job chose: `kept` (best first) stay visible, `hidden` got hidden=True."""

    kept: tuple[ImageRecord, ...]
    hidden: tuple[ImageRecord, ...]


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

    @property
    def trainable_share(self) -> float:
        """Trainable parameters as a share of the UNet's (0-1); LoRA: well under 0.01."""
        return self.trainable_params / self.unet_params if self.unet_params else 0.0


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


@dataclass(frozen=True)
class ValidationImages(Event):
    """Samples made at `step`, already saved in the session (each also sent as ImageReady)."""

    run: str
    step: int
    records: tuple[ImageRecord, ...]
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class CheckpointSaved(Event):
    """A resumable checkpoint was written (path: runs/<run>/checkpoint-<step>)."""

    run: str
    step: int
    path: Path


@dataclass(frozen=True)
class LoraReady(Event):
    """A trained LoRA was exported into the session's loras/<name>/ and recorded."""

    record: LoraRecord
    path: Path
