"""The editor's values and a job's parameters, each made from the other by one function."""

from __future__ import annotations

from genai_tui.engine.params import GenerateParams, LoraWeight
from genai_tui.knobs import IMAGE_KNOB_NAMES
from genai_tui.session.models import EditorState, ImageRecord


def lora_weights(state: EditorState) -> tuple[LoraWeight, ...]:
    """The LoRAs a generation from `state` applies: every entry with a weight other than 0."""
    return tuple(LoraWeight(name, weight) for name, weight in state.loras.items() if weight)


def params_from_editor(state: EditorState) -> GenerateParams:
    """What a generation from the editor now would use (not yet validated; seed may be None).

    An unlocked seed is left to be drawn at run time; LoRAs at weight 0 are left out.
    """
    knobs = {name: getattr(state, name) for name in IMAGE_KNOB_NAMES}
    return GenerateParams(
        **knobs,
        seed=state.seed,
        width=state.width,
        height=state.height,
        batch_size=state.batch_size,
        loras=lora_weights(state),
    )


def editor_from_params(params: GenerateParams, base: EditorState | None = None) -> EditorState:
    """The editor showing `params` (what a headless run leaves for the TUI to open with).

    Editor-only values (seed lock, scoring, best-of) come from `base`, else their defaults.
    """
    knobs = {name: getattr(params, name) for name in IMAGE_KNOB_NAMES}
    return (base or EditorState()).model_copy(
        update={
            **knobs,
            "seed": params.seed,
            "width": params.width,
            "height": params.height,
            "batch_size": params.batch_size,
            "loras": {lora.name_or_path: lora.weight for lora in params.loras},
        }
    )


def editor_for_image(record: ImageRecord, current: EditorState) -> EditorState:
    """The editor set to make `record` again: its knobs, size, LoRAs and seed (locked).

    What an image does not fix (how many to make, scoring, best-of) stays as the user had it.
    """
    knobs = {name: getattr(record, name) for name in IMAGE_KNOB_NAMES}
    return current.model_copy(
        update={
            **knobs,
            "seed": record.seed,
            "seed_locked": True,
            "width": record.width,
            "height": record.height,
            "loras": {use.path or use.name: use.weight for use in record.loras},
        }
    )
