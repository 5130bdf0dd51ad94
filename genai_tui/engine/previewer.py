"""Preview frames while an image forms: the model's own VAE, TAESD, or latent colours.

The frames show the scheduler's prediction of the clean image (engine/denoised.py) when it has
one, else the noisy latents. A full VAE decode is the image itself; TAESD is close to it at a
small part of the cost; the latent colour map is nearly free but blocky (8x smaller than the
image) and, on the demo model, far from its colours. "auto" takes the VAE when one frame costs at
most PREVIEW_BUDGET of the time between frames, measured on the loaded model, else TAESD where it
is on this machine, else the colour map; it steps down if a frame turns out dearer than that.
A preview never fails a generation: a decoder that fails gives way to the colour map.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from PIL import Image

from genai_tui.engine.errors import ModelError
from genai_tui.engine.preview import latents_to_images
from genai_tui.engine.preview_modes import PREVIEW_LABELS, PreviewMode
from genai_tui.engine.taesd import find_taesd, fits_taesd, load_taesd

if TYPE_CHECKING:
    from genai_tui.engine.models import LoadedModel

PREVIEW_BUDGET = 0.25
"""What auto lets one frame cost, against the time between frames (a step, or the preview
interval when steps are quicker): previews then take at most a fifth of a generation."""

CPU_PROBE_SIDE = 16
"""On a CPU auto times a decode of at most 16x16 latents and scales it by area (a full SD 1.5
decode there takes seconds); elsewhere it times the job's own size."""


@dataclass
class PreviewState:
    """What previews learn about a loaded model, kept between its generations."""

    taesd_folder: str | None = None
    """A TAESD folder the user named; None: the Hugging Face cache's madebyollin/taesd."""
    vae_offloaded: bool = False
    """Model CPU offload is on: a decode between steps would move the UNet out and back."""
    vae_seconds: dict[tuple[int, int, int], float] = field(default_factory=dict)
    """One VAE preview frame's time by latent shape (batch, height, width), measured on need."""
    taesd: Any = None
    taesd_missing: str | None = None
    """Why there is no TAESD; None until someone looked."""


def _sync(device: str) -> None:
    # Timings must not include the UNet kernels still queued when the callback runs.
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


class Previewer:
    """Turns one step's latents into preview images, in the mode asked or the one auto picks."""

    def __init__(
        self,
        model: LoadedModel,
        asked: PreviewMode,
        latent_shape: tuple[int, int, int],
        interval: float,
    ) -> None:
        self._model = model
        self._asked = asked
        self._shape = latent_shape  # batch, latent height, latent width
        self._interval = interval
        self._costs: list[float] = []
        self.mode: PreviewMode = "latent"
        """The mode of the frames made so far: vae, taesd or latent."""
        self.note = ""
        """Why this mode: 'auto', or why the mode asked is not the one shown."""
        self._decided = False

    def frames(
        self, latents: torch.Tensor, clean: torch.Tensor | None, step_seconds: float
    ) -> list[Image.Image]:
        """Preview images of `clean` (x0) or else `latents` (x_t); one per image of the batch."""
        with torch.inference_mode():
            return self._frames(latents, clean, step_seconds)

    def _frames(
        self, latents: torch.Tensor, clean: torch.Tensor | None, step_seconds: float
    ) -> list[Image.Image]:
        if not self._decided:
            self._decided = True
            try:
                self._decide(step_seconds)
            except Exception as error:  # a preview never fails a generation
                self._give_way(f"no preview decoder: {error}".splitlines()[0])
        shown = clean if clean is not None else latents
        if self.mode == "latent":
            return latents_to_images(shown, self._model.latent_rgb)
        started = time.perf_counter()
        try:
            frames = self._decode(shown)
        except Exception as error:  # out of memory, a broken decoder: never the image's end
            self._give_way(f"{PREVIEW_LABELS[self.mode]} failed: {error}".splitlines()[0])
            return latents_to_images(shown, self._model.latent_rgb)
        self._costs.append(time.perf_counter() - started)
        if self._asked == "auto" and self._too_dear(step_seconds):
            self._step_down()
        return frames

    # -- choosing -----------------------------------------------------------------------------

    def _budget(self, step_seconds: float) -> float:
        return PREVIEW_BUDGET * max(self._interval, step_seconds)

    def _decide(self, step_seconds: float) -> None:
        asked = self._asked
        if asked == "vae":
            self.mode = "vae"
        elif asked == "taesd":
            self.mode, self.note = ("taesd", "") if self._taesd() else ("latent", self._no_taesd())
        elif asked == "auto":
            self.note = "auto"
            if self._vae_is_cheap(step_seconds):
                self.mode = "vae"
            elif self._taesd() is not None:
                self.mode = "taesd"

    def vae_frame_seconds(self) -> float:
        """What one VAE preview frame of this job costs: timed once per model and job shape,
        on a CPU at most CPU_PROBE_SIDE latents a side, scaled by area."""
        known = self._model.previews.vae_seconds
        if self._shape not in known:
            batch, height, width = self._shape
            vae = self._model.pipe.vae
            side = (height, width)
            if self._model.device == "cpu":
                side = (min(height, CPU_PROBE_SIDE), min(width, CPU_PROBE_SIDE))
            channels = vae.config.latent_channels
            probe = torch.zeros(batch, channels, *side, device=vae.device, dtype=vae.dtype)
            timings = []
            for _ in range(2):  # the first call pays for allocations and kernel choice
                _sync(self._model.device)
                started = time.perf_counter()
                self._vae_images(probe)
                timings.append(time.perf_counter() - started)
            known[self._shape] = min(timings) * height * width / (side[0] * side[1])
        return known[self._shape]

    def _vae_is_cheap(self, step_seconds: float) -> bool:
        if self._model.previews.vae_offloaded:
            return False
        return self.vae_frame_seconds() <= self._budget(step_seconds)

    def _too_dear(self, step_seconds: float) -> bool:
        # Two frames at least, and half again over budget: one slow frame is no verdict.
        recent = self._costs[-3:]
        return len(recent) >= 2 and sum(recent) / len(recent) > 1.5 * self._budget(step_seconds)

    def _step_down(self) -> None:
        if self.mode == "vae":  # what it really costs, for the next job of this shape
            self._model.previews.vae_seconds[self._shape] = sum(self._costs) / len(self._costs)
        self.mode = "taesd" if self.mode == "vae" and self._taesd() is not None else "latent"
        self._costs = []

    def _give_way(self, why: str) -> None:
        self.mode, self.note = "latent", why

    # -- decoding -----------------------------------------------------------------------------

    def _decode(self, latents: torch.Tensor) -> list[Image.Image]:
        _sync(self._model.device)
        if self.mode == "vae":
            return self._vae_images(latents)
        decoder = self._taesd()
        assert decoder is not None
        pixels = decoder.decode(latents.to(decoder.dtype), return_dict=False)[0]
        return self._pictures(pixels)

    def _vae_images(self, latents: torch.Tensor) -> list[Image.Image]:
        vae = self._model.pipe.vae
        scaled = latents.to(vae.dtype) / vae.config.scaling_factor
        return self._pictures(vae.decode(scaled, return_dict=False)[0])

    def _pictures(self, pixels: torch.Tensor) -> list[Image.Image]:
        # The pipeline's own post-processing: the last frame is drawn as the image will be.
        images: list[Image.Image] = self._model.pipe.image_processor.postprocess(
            pixels, output_type="pil"
        )
        return images

    # -- TAESD --------------------------------------------------------------------------------

    def _taesd(self) -> Any:
        """The loaded TAESD for this model, loading it on first need; None where there is none."""
        state = self._model.previews
        if state.taesd is not None or state.taesd_missing is not None:
            return state.taesd
        if not fits_taesd(self._model.pipe.vae.config):
            state.taesd_missing = "TAESD does not fit this model's latents"
            return None
        try:
            folder = find_taesd(state.taesd_folder)
            if folder is None:
                state.taesd_missing = "no TAESD on this machine"
                return None
            vae = self._model.pipe.vae
            state.taesd = load_taesd(folder, str(vae.device), vae.dtype)
        except ModelError as error:
            state.taesd_missing = str(error)
        return state.taesd

    def _no_taesd(self) -> str:
        return self._model.previews.taesd_missing or "no TAESD"
