"""Text to image with a loaded pipeline: per-step progress and previews, cancel at any step.

The call into diffusers is the plain pipeline call (same arguments, CPU generators seeded per
image as AUTOMATIC1111 does), so an image is pixel-identical to what diffusers makes alone; the
previews only watch the scheduler (engine/denoised.py) and decode on the side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from PIL import Image

from genai_tui.engine.denoised import CleanLatents
from genai_tui.engine.errors import Cancelled
from genai_tui.engine.lora.apply import activate_loras, lora_file
from genai_tui.engine.models import LoadedModel
from genai_tui.engine.params import GenerateParams
from genai_tui.engine.preview_modes import PreviewMode, check_preview_mode
from genai_tui.engine.previewer import Previewer
from genai_tui.engine.schedulers import build_scheduler, find_sampler
from genai_tui.engine.tokens import cut_notice, text_overflow


@dataclass(frozen=True)
class StepInfo:
    """Where a generation is: step `step` of `total` done, and what it looks like so far.

    `previews` is empty on steps between preview frames (see PREVIEW_INTERVAL). A sampler that
    calls the model twice a step (Heun, DPM2) or once more at the start (PNDM) reports each
    call, numbered in the user's steps.
    """

    step: int
    total: int
    elapsed: float
    previews: list[Image.Image] = field(default_factory=list)
    preview_mode: str = ""
    """How the previews were made: vae, taesd or latent (see engine/preview_modes.py)."""
    preview_note: str = ""
    """Why that mode: 'auto', or why the mode asked for is not the one shown."""


@dataclass(frozen=True)
class GeneratedImage:
    """One finished image and the seed that makes it again."""

    image: Image.Image
    seed: int


@dataclass(frozen=True)
class Generation:
    """The result of one call: images, timing, the concrete parameters, and warnings."""

    images: list[GeneratedImage]
    params: GenerateParams
    width: int
    height: int
    seconds: float
    warnings: list[str]


StepCallback = Callable[[StepInfo], None]

PREVIEW_INTERVAL = 0.2
"""Seconds between preview images; steps in between report progress without one."""


def prompt_overflow(pipe: Any, prompt: str) -> str:
    """The part of `prompt` past CLIP's token limit, which the model never sees ('' if none)."""
    return text_overflow(pipe.tokenizer, prompt)


def generate(
    model: LoadedModel,
    params: GenerateParams,
    on_step: StepCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    preview: PreviewMode = "auto",
    seeds: Sequence[int] | None = None,
) -> Generation:
    """Make `params.batch_size` images; raise Cancelled if `cancel` is set before the end.

    `preview` says how the preview frames given to `on_step` are made (engine/previewer.py).
    `seeds`: one image per seed, in one batch, instead of seed, seed+1, ... (a sweep's seed
    axis); each is the image that seed makes alone, as each has its own generator.
    """
    if seeds is not None:
        if not seeds:
            raise ValueError("seeds must hold at least one seed")
        params = replace(params, seed=seeds[0], batch_size=len(seeds))
    params = params.validate().with_seed()
    seed_list = list(seeds) if seeds is not None else params.seeds()
    check_preview_mode(preview)
    pipe = model.pipe
    pipe.scheduler = build_scheduler(params.scheduler, model.original_scheduler_config)
    # Always called: a generation without LoRAs takes off those of the last one.
    activate_loras(pipe, [lora_file(lora) for lora in params.loras])
    size = model.native_size
    width, height = params.width or size, params.height or size
    warnings = [
        cut_notice(label, int(pipe.tokenizer.model_max_length), dropped)
        for label, text in (("prompt", params.prompt), ("negative prompt", params.negative_prompt))
        if (dropped := prompt_overflow(pipe, text))
    ]
    if few := find_sampler(params.scheduler).too_few_steps(params.steps):
        warnings.append(few)
    # CPU generators make the same noise on any device, as A1111's default RNG does.
    generators = [torch.Generator("cpu").manual_seed(seed) for seed in seed_list]
    scale = int(pipe.vae_scale_factor)
    previewer = Previewer(
        model, preview, (params.batch_size, height // scale, width // scale), PREVIEW_INTERVAL
    )
    clean = CleanLatents(pipe.scheduler) if on_step is not None else None
    started = time.perf_counter()
    last_preview = [-PREVIEW_INTERVAL]
    previewing = [0.0]  # seconds spent on previews, not on steps

    def step_end(pipeline: Any, index: int, _timestep: Any, tensors: dict[str, Any]) -> Any:
        if on_step is not None and clean is not None:
            now = time.perf_counter() - started
            calls = len(pipeline.scheduler.timesteps)
            previews: list[Image.Image] = []
            # Reading latents back waits for the GPU; doing it every step would stall the queue
            # of kernels the CPU runs ahead with. Nobody sees more than a few frames a second.
            if now - last_preview[0] >= PREVIEW_INTERVAL or index + 1 == calls:
                step_seconds = (now - previewing[0]) / (index + 1)
                previews = previewer.frames(tensors["latents"], clean.latest(), step_seconds)
                last_preview[0] = time.perf_counter() - started
                previewing[0] += last_preview[0] - now
            step = max(1, round((index + 1) * params.steps / calls))
            on_step(StepInfo(step, params.steps, now, previews, previewer.mode, previewer.note))
        if cancel is not None and cancel.is_set():
            pipeline._interrupt = True  # the remaining steps are skipped
        return tensors

    with torch.inference_mode():
        output = pipe(
            prompt=params.prompt,
            negative_prompt=params.negative_prompt or None,
            num_inference_steps=params.steps,
            guidance_scale=params.cfg_scale,
            width=width,
            height=height,
            num_images_per_prompt=params.batch_size,
            generator=generators if params.batch_size > 1 else generators[0],
            # A1111's "Clip skip 2" is diffusers' clip_skip=1 (skip one layer).
            clip_skip=params.clip_skip - 1 if params.clip_skip > 1 else None,
            callback_on_step_end=step_end,
        )
    if cancel is not None and cancel.is_set():
        # diffusers still decodes a half-denoised image after an interrupt: never keep it.
        raise Cancelled("generation cancelled")
    seconds = time.perf_counter() - started
    images = [
        GeneratedImage(image=image, seed=seed)
        for image, seed in zip(output.images, seed_list, strict=True)
    ]
    return Generation(images, params, width, height, seconds, warnings)
