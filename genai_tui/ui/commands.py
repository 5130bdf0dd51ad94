"""What the command palette offers beyond the defaults, and "reuse this image's parameters"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding

from genai_tui.session.models import EditorState, ImageRecord
from genai_tui.ui.widgets.gallery import Gallery

if TYPE_CHECKING:
    from genai_tui.ui.app import GenaiApp


def palette_commands(app: GenaiApp) -> Iterator[SystemCommand]:
    """Every app binding (so every action is searchable), plus actions that have no key."""
    for binding in app.BINDINGS:
        if isinstance(binding, Binding) and binding.id not in {"quit"}:
            yield SystemCommand(
                binding.description,
                binding.tooltip or binding.description,
                lambda action=binding.action: app.run_action(action),
            )
    yield SystemCommand(
        "Rescore all",
        "Score every image against its own prompt again (CLIP)",
        app.action_rescore,
    )
    gallery = app.query_one(Gallery)
    yield SystemCommand("Sort gallery", "By CLIP score / by time", gallery.action_toggle_order)
    yield SystemCommand(
        "Show hidden images", "Show or hide what best-of set aside", gallery.action_toggle_hidden
    )


def reuse_parameters(record: ImageRecord, current: EditorState) -> EditorState:
    """The editor set to make `record` again: its prompts, knobs, LoRAs and seed (locked)."""
    return current.model_copy(
        update={
            "prompt": record.prompt,
            "negative_prompt": record.negative_prompt,
            "steps": record.steps,
            "cfg_scale": record.cfg_scale,
            "seed": record.seed,
            "seed_locked": True,
            "width": record.width,
            "height": record.height,
            "scheduler": record.scheduler,
            "clip_skip": record.clip_skip,
            "loras": {use.path or use.name: use.weight for use in record.loras},
        }
    )
