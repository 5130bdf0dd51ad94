"""Generation through the engine: identical to plain diffusers, seeds, sizes, steps, cancel."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from genai_tui.engine.errors import BadInput, Cancelled
from genai_tui.engine.generate import StepInfo, generate
from genai_tui.engine.params import GenerateParams
from genai_tui.engine.schedulers import SAMPLER_NAMES, build_scheduler


def pixels(image: Any) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_single_image_is_pixel_identical_to_plain_diffusers(
    tiny_model: Any, tiny_model_dir: Path
) -> None:
    from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline

    ours = generate(
        tiny_model,
        GenerateParams(
            "a red circle on a white background",
            negative_prompt="blue",
            steps=8,
            cfg_scale=6.5,
            seed=1234,
        ),
        lambda _info: None,  # previews on: they watch the scheduler and decode on the side
        preview="vae",
    )
    plain = StableDiffusionPipeline.from_pretrained(tiny_model_dir, safety_checker=None)
    plain.set_progress_bar_config(disable=True)
    plain.scheduler = DPMSolverMultistepScheduler.from_config(
        plain.scheduler.config, use_karras_sigmas=True
    )
    expected = plain(
        "a red circle on a white background",
        negative_prompt="blue",
        num_inference_steps=8,
        guidance_scale=6.5,
        generator=torch.Generator("cpu").manual_seed(1234),
    ).images[0]
    assert ours.images[0].seed == 1234
    assert np.array_equal(pixels(ours.images[0].image), pixels(expected))


def test_each_image_of_a_batch_can_be_made_again_alone(tiny_model: Any) -> None:
    batch = generate(tiny_model, GenerateParams("a blue square", steps=6, seed=50, batch_size=3))
    assert [made.seed for made in batch.images] == [50, 51, 52]
    alone = generate(tiny_model, GenerateParams("a blue square", steps=6, seed=52))
    # Batched and single UNet calls may round differently in the last bit: allow 1 level.
    difference = np.abs(pixels(batch.images[2].image) - pixels(alone.images[0].image))
    assert difference.max() <= 1
    assert not np.array_equal(pixels(batch.images[0].image), pixels(batch.images[1].image))


def test_a_random_seed_is_drawn_and_recorded(tiny_model: Any) -> None:
    first = generate(tiny_model, GenerateParams("a cat", steps=2))
    second = generate(tiny_model, GenerateParams("a cat", steps=2))
    assert first.params.seed is not None and second.params.seed is not None
    assert first.params.seed != second.params.seed
    assert first.images[0].seed == first.params.seed


def test_native_size_by_default_and_requested_size_otherwise(tiny_model: Any) -> None:
    native = generate(tiny_model, GenerateParams("a tree", steps=2, seed=1))
    assert native.images[0].image.size == (32, 32)
    wide = generate(tiny_model, GenerateParams("a tree", steps=2, seed=1, width=48, height=32))
    assert wide.images[0].image.size == (48, 32)
    assert (wide.width, wide.height) == (48, 32)


def test_every_step_reports_progress_with_a_preview_per_image(tiny_model: Any) -> None:
    seen: list[StepInfo] = []
    generate(tiny_model, GenerateParams("a dog", steps=5, seed=3, batch_size=2), seen.append)
    assert [info.step for info in seen] == [1, 2, 3, 4, 5]
    assert all(info.total == 5 for info in seen)
    # Previews come at most every PREVIEW_INTERVAL, always on the first and the last step.
    assert len(seen[0].previews) == 2 and len(seen[-1].previews) == 2
    assert all(len(info.previews) in (0, 2) for info in seen)
    # The tiny model's VAE costs next to nothing: auto decodes, at the image's own size.
    assert seen[-1].preview_mode == "vae" and seen[-1].preview_note == "auto"
    assert seen[-1].previews[0].size == (32, 32)
    assert seen[-1].elapsed >= seen[0].elapsed


def test_cancel_stops_within_one_step_and_keeps_nothing(tiny_model: Any) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def on_step(info: StepInfo) -> None:
        seen.append(info.step)
        if info.step == 3:
            cancel.set()

    with pytest.raises(Cancelled):
        generate(tiny_model, GenerateParams("a house", steps=20, seed=9), on_step, cancel)
    assert seen == [1, 2, 3]


@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_every_sampler_name_generates(tiny_model: Any, name: str) -> None:
    result = generate(tiny_model, GenerateParams("a star", steps=3, seed=5, scheduler=name))
    image = pixels(result.images[0].image)
    assert image.shape == (32, 32, 3)
    assert not np.isnan(image).any()


def test_samplers_derive_from_the_original_config(tiny_model: Any) -> None:
    original = tiny_model.original_scheduler_config
    karras = build_scheduler("DPM++ 2M Karras", original)
    plain = build_scheduler("DPM++ 2M", original)
    euler_a = build_scheduler("euler a", original)
    assert karras.config.use_karras_sigmas is True
    assert plain.config.use_karras_sigmas is False
    assert type(euler_a).__name__ == "EulerAncestralDiscreteScheduler"


def test_clip_skip_changes_the_image(tiny_model: Any) -> None:
    base = generate(tiny_model, GenerateParams("a red circle", steps=4, seed=2))
    skipped = generate(tiny_model, GenerateParams("a red circle", steps=4, seed=2, clip_skip=2))
    assert not np.array_equal(pixels(base.images[0].image), pixels(skipped.images[0].image))


def test_a_prompt_past_77_tokens_is_cut_and_the_user_told(tiny_model: Any) -> None:
    prompt = "a red circle " + "on a white background " * 20 + "zebra"
    result = generate(tiny_model, GenerateParams(prompt, steps=2, seed=1))
    assert len(result.warnings) == 1
    assert "77 tokens" in result.warnings[0]
    assert "zebra" in result.warnings[0] or "z e b r a" in result.warnings[0]
    short = generate(tiny_model, GenerateParams("a red circle", steps=2, seed=1))
    assert short.warnings == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (GenerateParams("x", steps=0), "steps must be at least 1"),
        (GenerateParams("x", cfg_scale=-1), "guidance scale"),
        (GenerateParams("x", width=30), "multiple of 8"),
        (GenerateParams("x", height=0), "multiple of 8"),
        (GenerateParams("x", batch_size=0), "images per prompt"),
        (GenerateParams("x", seed=-5), "seed"),
        (GenerateParams("x", scheduler="Euler b"), "unknown scheduler"),
    ],
)
def test_bad_parameters_are_refused_before_any_work(params: GenerateParams, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        params.validate()


def test_unknown_scheduler_hint_lists_the_names() -> None:
    with pytest.raises(BadInput) as caught:
        GenerateParams("x", scheduler="nope").validate()
    assert "DPM++ 2M Karras" in caught.value.hint and "Euler a" in caught.value.hint
