"""What happened, as frozen dataclasses free of Textual: the only way results leave the worker.

The UI wraps each in one Textual message; high-rate ones (marked `replaceable`) may be dropped
when a newer one of the same job is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from PIL import Image

from genai_tui.session.models import ImageRecord


@dataclass(frozen=True)
class Event:
    """Base of all events; `job_id` is empty for worker-wide events."""

    job_id: str
    replaceable: ClassVar[bool] = False


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
