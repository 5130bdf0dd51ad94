"""The decoder's sharpening stage: where a decoded shape is, the targets it learns, what it
leaves alone."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from genai_tui.demo import world
from genai_tui.demo.decoder_sharpen import _features, box_fit, ideal_targets, sharpen_decoder
from genai_tui.demo.pixels import shape_box

MODEL = Path(__file__).resolve().parents[2] / "assets" / "demo-model"


@pytest.mark.parametrize("shape", world.SHAPES)
def test_a_shapes_box_tells_where_and_how_large_it_was_drawn(shape: str) -> None:
    fit = box_fit(shape)
    rng = random.Random(99)  # not the fit's own seed
    errors = []
    for _ in range(40):
        radius = rng.uniform(world.MIN_RADIUS, world.MAX_RADIUS)
        cx, cy = rng.uniform(radius + 2, 30 - radius), rng.uniform(radius + 2, 30 - radius)
        box = shape_box(world.draw(shape, "red", "white", cx, cy, radius))
        assert box is not None
        errors.append(np.abs(np.array(_features(box)) @ fit - (cx, cy, radius)))
    assert np.mean(errors, axis=0).max() < 0.5  # under half a pixel, on average


def test_a_drawn_images_latent_gets_its_own_drawing_back_as_the_target() -> None:
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(str(MODEL / "vae"))
    drawn = [world.random_sample(random.Random(seed)) for seed in range(6)]
    pixels = torch.from_numpy(world.to_array([s.image for s in drawn]))
    with torch.no_grad():
        latents = vae.encode(pixels).latent_dist.mean
    kept, targets = ideal_targets(vae, latents, drawn)
    assert len(kept) == len(drawn)  # every one decodes to the prompt's colours
    assert float((targets - pixels).abs().mean()) < 0.05  # and is drawn where it was


def test_sharpening_trains_the_decoder_only_and_so_keeps_the_latents() -> None:
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(str(MODEL))
    pipe.set_progress_bar_config(disable=True)
    vae = pipe.vae
    encoder = {k: v.clone() for k, v in vae.encoder.state_dict().items()}
    decoder = {k: v.clone() for k, v in vae.decoder.state_dict().items()}
    facts = sharpen_decoder(vae, pipe, steps=2, pool=4, batch=4)
    assert facts["pool"] == 4 and 0 < facts["pairs"] <= 4
    assert all(torch.equal(v, vae.encoder.state_dict()[k]) for k, v in encoder.items())
    assert any(not torch.equal(v, vae.decoder.state_dict()[k]) for k, v in decoder.items())
