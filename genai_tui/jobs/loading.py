"""Loading the diffusion pipeline a job needs, with events, from the worker's cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

from genai_tui.engine.params import LoadOptions
from genai_tui.jobs.context import JobContext
from genai_tui.jobs.events import ModelLoaded, ModelLoading

if TYPE_CHECKING:
    from genai_tui.engine.models import LoadedModel


def planned_model_ref(ctx: JobContext, ref: str | None) -> str:
    """The model a job of `ref` will use (None: the loaded one, else the machine's default)."""
    if ref is not None:
        return ref
    if ctx.models.loaded is not None:
        return ctx.models.loaded.source.ref
    from genai_tui.engine.models import default_model_ref

    return default_model_ref()


def load_model_for(ctx: JobContext, ref: str | None, options: LoadOptions) -> LoadedModel:
    """The model for `ref` (None: the loaded one, else the machine's default), loading if needed."""
    models = ctx.models
    ref = planned_model_ref(ctx, ref)
    before = models.loaded

    def on_load(what: str, done: int | None, total: int | None) -> None:
        ctx.emit(ModelLoading(ctx.job_id, what, done, total))

    model = models.pipeline(ref, options, on_load)
    if model is not before:
        ctx.emit(
            ModelLoaded(
                ctx.job_id, ref, model.source.name, model.device, model.dtype, model.load_seconds
            )
        )
    return model
