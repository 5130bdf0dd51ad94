"""How the preview pane shows the image forming: the modes, their names, and their order.

Free of torch, so the UI and the command line can name and cycle them before anything loads.
engine/previewer.py does the work.
"""

from __future__ import annotations

from typing import Literal, cast

from genai_tui.engine.errors import BadInput

PreviewMode = Literal["auto", "vae", "taesd", "latent"]

PREVIEW_MODES: tuple[PreviewMode, ...] = ("auto", "vae", "taesd", "latent")
"""In the order the preview key cycles them."""

PREVIEW_LABELS: dict[PreviewMode, str] = {
    "auto": "auto",
    "vae": "VAE decode",
    "taesd": "TAESD (approximate)",
    "latent": "latent (approximate)",
}

PREVIEW_HELP = (
    "how the preview shows the image forming: vae (the model's own decoder: the image itself), "
    "taesd (a tiny decoder, madebyollin/taesd, when it is on this machine), latent (a colour "
    "map of the latents: cheapest, blocky), auto (vae when it costs little next to a step, "
    "else taesd, else latent)"
)


def check_preview_mode(mode: str) -> PreviewMode:
    """`mode` if it is one of PREVIEW_MODES; BadInput naming them otherwise."""
    for known in PREVIEW_MODES:
        if mode == known:
            return known
    raise BadInput(f"unknown preview mode {mode!r}", hint="use " + ", ".join(PREVIEW_MODES))


def next_preview_mode(mode: PreviewMode) -> PreviewMode:
    """The mode after `mode`, round the cycle."""
    return PREVIEW_MODES[(PREVIEW_MODES.index(mode) + 1) % len(PREVIEW_MODES)]


def preview_label(mode: str, note: str = "") -> str:
    """What the preview pane says it shows: 'preview: VAE decode (auto)'."""
    name = PREVIEW_LABELS.get(cast(PreviewMode, mode), mode)
    return f"preview: {name} ({note})" if note else f"preview: {name}"
