"""The one way an image record is made and saved: from the parameters, the seed and size it was
made at, and the model that made it. Used by generation, best-of rounds and training samples."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PIL import Image

from genai_tui import __version__
from genai_tui.engine.params import GenerateParams
from genai_tui.engine.schedulers import infotext_names
from genai_tui.knobs import IMAGE_KNOB_NAMES
from genai_tui.session.models import ImageRecord, LoraUse
from genai_tui.session.store import SessionStore


@dataclass(frozen=True)
class MadeBy:
    """The model an image was made with, as its record names it."""

    model: str
    """The model reference as the user gave it."""
    name: str = ""
    hash: str = ""
    device: str = ""
    dtype: str = ""


@cache
def library_versions() -> dict[str, str]:
    """Versions that shape the pixels, recorded with every image."""
    import diffusers
    import torch
    import transformers

    return {
        "genai-tui": __version__,
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
    }


def image_record(
    params: GenerateParams,
    *,
    seed: int,
    width: int,
    height: int,
    made_by: MadeBy,
    loras: list[LoraUse] | None = None,
    seconds: float = 0.0,
    train_run: str | None = None,
    train_step: int | None = None,
    sweep: str | None = None,
    axes: dict[str, str] | None = None,
) -> ImageRecord:
    """The record of one image made from `params` at `seed` and this size (file set on save)."""
    knobs = {name: getattr(params, name) for name in IMAGE_KNOB_NAMES}
    return ImageRecord(
        file="",
        **knobs,
        seed=seed,
        width=width,
        height=height,
        loras=list(loras or []),
        model=made_by.model,
        model_name=made_by.name,
        model_hash=made_by.hash,
        device=made_by.device,
        dtype=made_by.dtype,
        time_taken=round(seconds, 3),
        versions=library_versions(),
        train_run=train_run,
        train_step=train_step,
        sweep=sweep,
        axes=dict(axes or {}),
    )


def save_image(store: SessionStore, record: ImageRecord, image: Image.Image) -> ImageRecord:
    """Save `image` with its record into the session; returns the record as saved.

    The PNG's A1111 text names the sampler and schedule type as A1111 reads them back.
    """
    names = infotext_names(record.scheduler)
    return store.add_image(record, image, __version__, sampler_names=names)
