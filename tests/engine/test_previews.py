"""Previews that show the image: VAE decode of the predicted clean image, TAESD, latent colours,
auto's choice by cost, and none of it changing the image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import genai_tui.engine.generate as generate_module
import genai_tui.engine.previewer as previewer_module
from genai_tui.engine.denoised import CleanLatents
from genai_tui.engine.errors import BadInput, ModelError
from genai_tui.engine.generate import StepInfo, generate
from genai_tui.engine.models import LoadedModel, load_model
from genai_tui.engine.params import GenerateParams, LoadOptions
from genai_tui.engine.previewer import Previewer
from genai_tui.engine.schedulers import SAMPLER_NAMES, build_scheduler
from genai_tui.engine.taesd import TAESD_REPO, find_taesd
from tests.fixtures.tiny_taesd import make_tiny_taesd

RECOGNISABLE = 8.0
"""Mean absolute difference (0-255 levels) from the final image under which a preview frame is
that image to the eye. Measured by bench/preview_modes.py on the demo model at 80 % of 20
steps: the VAE decode of the predicted clean image 0.5-5.4 (DPM++ 2M Karras, Euler, DDIM), the
noisy latents decoded 1.0-10.0, the latent colour map 37-123."""

PROMPTS = ("a red circle on a white background", "a blue square on a black background")


@pytest.fixture(scope="module")
def demo_model() -> LoadedModel:
    return load_model("demo")


@pytest.fixture
def every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """A preview frame at every step, so the one at 80 % exists."""
    monkeypatch.setattr(generate_module, "PREVIEW_INTERVAL", 0.0)


def difference(frame: Image.Image, final: Image.Image) -> float:
    """Mean absolute pixel difference, the frame resized to the final image's size."""
    shown = frame.convert("RGB").resize(final.size, Image.Resampling.NEAREST)
    return float(np.abs(np.asarray(shown, np.float32) - np.asarray(final, np.float32)).mean())


def at_80_percent(model: LoadedModel, prompt: str, seed: int, preview: str, sampler: str) -> float:
    seen: list[StepInfo] = []
    params = GenerateParams(prompt, steps=20, seed=seed, scheduler=sampler)
    result = generate(model, params, seen.append, preview=preview)  # type: ignore[arg-type]
    frame = next(info for info in seen if info.step == 16 and info.previews)
    assert frame.preview_mode == preview
    return difference(frame.previews[0], result.images[0].image)


@pytest.mark.usefixtures("every_step")
@pytest.mark.parametrize("sampler", ["DPM++ 2M Karras", "Euler", "DDIM"])
def test_demo_vae_preview_at_80_percent_is_the_final_image(
    demo_model: LoadedModel, sampler: str
) -> None:
    for seed, prompt in enumerate(PROMPTS):
        assert at_80_percent(demo_model, prompt, seed, "vae", sampler) < RECOGNISABLE


@pytest.mark.usefixtures("every_step")
def test_demo_latent_preview_at_80_percent_is_not(demo_model: LoadedModel) -> None:
    """The colour map's 8x8 blocks at the wrong colours: the measure tells the two apart."""
    for seed, prompt in enumerate(PROMPTS):
        assert at_80_percent(demo_model, prompt, seed, "latent", "DPM++ 2M Karras") > RECOGNISABLE


def test_auto_decodes_on_the_demo_model_as_it_costs_little(
    demo_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a frame costs is the machine's (bench/preview_modes.py measures it); given a cheap
    one, as the demo model's is on an idle CPU, auto shows the VAE's decode of the image."""
    monkeypatch.setattr(Previewer, "vae_frame_seconds", lambda _self: 0.001)
    monkeypatch.setattr(Previewer, "_too_dear", lambda _self, _step: False)  # a busy machine
    seen: list[StepInfo] = []
    generate(demo_model, GenerateParams("a red circle", steps=10, seed=1), seen.append)
    assert {(info.preview_mode, info.preview_note) for info in seen} == {("vae", "auto")}
    assert seen[-1].previews[0].size == (32, 32)


def test_a_mode_that_does_not_fit_says_so_and_shows_the_latents(demo_model: LoadedModel) -> None:
    seen: list[StepInfo] = []
    params = GenerateParams("a red circle", steps=3, seed=1)
    generate(demo_model, params, seen.append, preview="taesd")
    assert seen[-1].preview_mode == "latent"
    assert "does not fit" in seen[-1].preview_note
    assert seen[-1].previews[0].size == (8, 8)


def test_an_unknown_mode_is_refused(tiny_model: LoadedModel) -> None:
    with pytest.raises(BadInput, match="preview mode"):
        generate(tiny_model, GenerateParams("x", steps=1), preview="full")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_previews_leave_the_image_alone_with_every_sampler(
    tiny_model: LoadedModel, name: str
) -> None:
    """Watching the scheduler must not change what it does (Euler a and SDE draw noise from the
    generator the pipeline passes only when step's signature asks for it)."""
    params = GenerateParams("a star", steps=3, seed=5, scheduler=name)
    alone = generate(tiny_model, params).images[0].image
    watched = generate(tiny_model, params, lambda _info: None, preview="vae").images[0].image
    assert np.array_equal(np.asarray(alone), np.asarray(watched))


@pytest.mark.parametrize("name", SAMPLER_NAMES)
def test_every_sampler_gives_its_predicted_clean_latent(tiny_model: LoadedModel, name: str) -> None:
    pipe = tiny_model.pipe
    pipe.scheduler = build_scheduler(name, tiny_model.original_scheduler_config)
    clean = CleanLatents(pipe.scheduler)
    found: list[torch.Tensor | None] = []

    def step_end(_pipe: Any, _index: int, _t: Any, tensors: dict[str, Any]) -> Any:
        found.append(clean.latest())
        assert tensors["latents"].shape == (1, 4, 16, 16)
        return tensors

    pipe("a star", num_inference_steps=3, callback_on_step_end=step_end, output_type="latent")
    assert found and all(x is not None and x.shape == (1, 4, 16, 16) for x in found)
    assert all(torch.isfinite(x).all() for x in found if x is not None)


def test_two_call_samplers_count_steps_as_the_user_set_them(tiny_model: LoadedModel) -> None:
    """Heun calls the model twice a step: 5 calls for 3 steps, reported as steps 1 to 3."""
    seen: list[StepInfo] = []
    generate(tiny_model, GenerateParams("a dog", steps=3, seed=1, scheduler="Heun"), seen.append)
    steps = [info.step for info in seen]
    assert len(steps) == 5 and steps == sorted(steps) and steps[-1] == 3
    assert all(info.total == 3 for info in seen) and seen[-1].previews


@pytest.fixture
def fresh_tiny(tiny_model_dir: Path) -> LoadedModel:
    """The tiny model with nothing learnt yet about its previews."""
    return load_model(str(tiny_model_dir))


def dear_vae(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Previewer, "vae_frame_seconds", lambda _self: 10.0)


def test_auto_takes_the_latents_where_a_decode_is_dear_and_no_taesd_is_here(
    fresh_tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    dear_vae(monkeypatch)
    monkeypatch.setattr(previewer_module, "find_taesd", lambda _folder: None)
    seen: list[StepInfo] = []
    generate(fresh_tiny, GenerateParams("a dog", steps=3, seed=1), seen.append)
    assert (seen[-1].preview_mode, seen[-1].preview_note) == ("latent", "auto")
    assert seen[-1].previews[0].size == (16, 16)


def test_auto_takes_taesd_where_a_decode_is_dear_and_taesd_is_here(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dear_vae(monkeypatch)
    monkeypatch.setattr(Previewer, "_too_dear", lambda _self, _step: False)  # a busy machine
    folder = make_tiny_taesd(tmp_path / "taesd")
    model = load_model(str(tiny_model_dir), LoadOptions(taesd=str(folder)))
    seen: list[StepInfo] = []
    generate(model, GenerateParams("a dog", steps=3, seed=1), seen.append)
    assert (seen[-1].preview_mode, seen[-1].preview_note) == ("taesd", "auto")
    assert seen[-1].previews[0].size == (32, 32)


def test_auto_steps_down_when_frames_cost_more_than_measured(
    fresh_tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch, every_step: None
) -> None:
    """The probe said cheap, but real frames are slow (a busy GPU): the rest go to latents."""
    monkeypatch.setattr(Previewer, "vae_frame_seconds", lambda _self: 0.0)
    monkeypatch.setattr(previewer_module, "find_taesd", lambda _folder: None)
    decode = fresh_tiny.pipe.vae.decode

    def slow_decode(*args: Any, **kwargs: Any) -> Any:
        import time

        time.sleep(0.06)  # more than 1.5 x the budget of a step of a few milliseconds
        return decode(*args, **kwargs)

    monkeypatch.setattr(fresh_tiny.pipe.vae, "decode", slow_decode)
    seen: list[StepInfo] = []
    generate(fresh_tiny, GenerateParams("a dog", steps=6, seed=1), seen.append)
    modes = [info.preview_mode for info in seen]
    assert modes[0] == "vae" and modes[-1] == "latent"
    assert fresh_tiny.previews.vae_seconds[(1, 16, 16)] >= 0.06


def test_a_failing_decoder_gives_way_to_the_latents(
    fresh_tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    decode = fresh_tiny.pipe.vae.decode

    def broken(*args: Any, **kwargs: Any) -> Any:
        if "generator" in kwargs:  # the pipeline's own decode of the finished image
            return decode(*args, **kwargs)
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(fresh_tiny.pipe.vae, "decode", broken)
    seen: list[StepInfo] = []
    params = GenerateParams("a dog", steps=3, seed=1)
    made = generate(fresh_tiny, params, seen.append, preview="vae")
    assert len(made.images) == 1
    assert seen[-1].preview_mode == "latent"
    assert seen[-1].preview_note == "VAE decode failed: CUDA out of memory"


def test_taesd_is_found_in_a_folder_or_the_hub_cache_and_never_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    with pytest.raises(ModelError, match="not a TAESD folder"):
        find_taesd(str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert find_taesd() is None  # nothing cached: no download, just no TAESD
    repo = tmp_path / "hub" / ("models--" + TAESD_REPO.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    snapshot = make_tiny_taesd(repo / "snapshots" / "abc123")
    assert find_taesd() == snapshot
