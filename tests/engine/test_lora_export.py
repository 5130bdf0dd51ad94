"""Trained LoRAs on the tiny model: exported files reload exactly, apply, stack and unload."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from genai_tui.engine.errors import BadInput
from genai_tui.engine.generate import generate
from genai_tui.engine.lora.export import export_lora, kohya_metadata
from genai_tui.engine.lora.hashes import data_hash, lora_hash, safetensors_metadata
from genai_tui.engine.lora.train import TrainedLora, train_lora
from genai_tui.engine.params import GenerateParams, LoraWeight
from tests.fixtures.lora_data import make_lora_data, single_thread, tiny_train_params

one_thread = pytest.fixture(scope="module", autouse=True)(single_thread)

PROMPT = "a red sks circle"


def pixels(model: Any, params: GenerateParams) -> np.ndarray:
    return np.asarray(generate(model, params).images[0].image, dtype=np.int16)


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainedLora:
    data = make_lora_data(tmp_path_factory.mktemp("data"))
    return train_lora(
        str(tiny_model_dir), data, tiny_train_params(), tmp_path_factory.mktemp("run")
    )


@pytest.fixture(scope="module")
def exported(trained: TrainedLora, tmp_path_factory: pytest.TempPathFactory) -> Any:
    meta = kohya_metadata(name="circles", rank=4, alpha=2.0, steps=4, extra={"ss_seed": 0})
    folder = tmp_path_factory.mktemp("loras") / "circles"
    return export_lora(trained.adapter, trained.adapter_config, folder, "circles", meta)


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> Any:
    """A model of our own: these tests put LoRAs on and off it."""
    from genai_tui.engine.models import load_model

    return load_model(str(tiny_model_dir))


@pytest.fixture(scope="module")
def sample_params(trained: TrainedLora) -> GenerateParams:
    return trained.samples[-1][1][0].params


def test_the_webui_file_has_kohya_keys_true_alpha_and_ss_metadata(exported: Any) -> None:
    from safetensors.torch import load_file

    tensors = load_file(exported.webui_file)
    key = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_k"
    assert {f"{key}.lora_down.weight", f"{key}.lora_up.weight", f"{key}.alpha"} <= set(tensors)
    alphas = {float(v) for k, v in tensors.items() if k.endswith(".alpha")}
    assert alphas == {2.0}  # diffusers' converter alone would write the rank, 4
    meta = safetensors_metadata(exported.webui_file)
    assert meta["ss_network_dim"] == "4" and meta["ss_network_alpha"] == "2.0"
    assert meta["ss_base_model_version"] == "sd_v1" and meta["ss_output_name"] == "circles"
    # A1111 shows sshs_model_hash, the hash of the tensor data, which re-saving kept intact.
    assert meta["sshs_model_hash"] == data_hash(exported.webui_file) == exported.hash
    assert lora_hash(exported.webui_file) == exported.hash


def test_the_diffusers_file_keeps_alpha(exported: Any, model: Any) -> None:
    pipe = model.pipe
    pipe.load_lora_weights(str(exported.diffusers_file), adapter_name="check")
    try:
        config = pipe.unet.peft_config["check"]
        assert config.r == 4 and config.lora_alpha == 2
    finally:
        pipe.unload_lora_weights()


@pytest.mark.parametrize("fmt", ["webui", "diffusers"])
def test_exported_files_render_exactly_as_the_trained_adapter(
    fmt: str, exported: Any, trained: TrainedLora, model: Any, sample_params: GenerateParams
) -> None:
    """Samples were made by the training pipeline with the live adapter, at the same seed."""
    path = exported.webui_file if fmt == "webui" else exported.diffusers_file
    during = np.asarray(trained.samples[-1][1][0].image, dtype=np.int16)
    params = replace(sample_params, loras=(LoraWeight(str(path)),))
    after = pixels(model, params)
    assert np.abs(after - during).max() <= 1
    pixels(model, sample_params)  # and off again


def test_a_lora_changes_the_output_and_unloading_restores_it_exactly(
    exported: Any, model: Any, sample_params: GenerateParams
) -> None:
    base = pixels(model, sample_params)
    with_lora = pixels(model, replace(sample_params, loras=(LoraWeight(str(exported.webui_file)),)))
    assert np.abs(with_lora - base).max() > 2
    half = pixels(model, replace(sample_params, loras=(LoraWeight(str(exported.webui_file), 0.5),)))
    assert not np.array_equal(half, with_lora)
    assert np.array_equal(pixels(model, sample_params), base)
    assert not hasattr(model.pipe.unet, "peft_config") or not model.pipe.unet.peft_config


def test_several_loras_apply_together(
    exported: Any, trained: TrainedLora, model: Any, sample_params: GenerateParams, tmp_path: Path
) -> None:
    negated = {k: -v if "lora_B" in k else v for k, v in trained.adapter.items()}
    meta = kohya_metadata(name="undo", rank=4, alpha=2.0, steps=4, extra={})
    undo = export_lora(negated, trained.adapter_config, tmp_path / "undo", "undo", meta)
    base = pixels(model, sample_params)
    both = (LoraWeight(str(exported.webui_file)), LoraWeight(str(undo.webui_file)))
    cancelled_out = pixels(model, replace(sample_params, loras=both))
    assert sorted(model.pipe.get_active_adapters()) == ["circles", "undo"]
    # +delta and -delta add up to (almost) the base model: both were applied, at weight 1.
    assert np.abs(cancelled_out - base).max() <= 2
    pixels(model, sample_params)


def test_a_file_that_is_not_a_lora_is_bad_input(
    model: Any, sample_params: GenerateParams, tmp_path: Path
) -> None:
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(2)}, tmp_path / "odd.safetensors")
    with pytest.raises(BadInput, match=r"odd\.safetensors"):
        generate(
            model, replace(sample_params, loras=(LoraWeight(str(tmp_path / "odd.safetensors")),))
        )
    with pytest.raises(BadInput, match="not found"):
        generate(model, replace(sample_params, loras=(LoraWeight("no-such-lora"),)))
    pixels(model, sample_params)


@pytest.fixture(scope="module")
def wide(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A LoRA on kohya's wider layer set: projections in/out and feed-forward too."""
    data = make_lora_data(tmp_path_factory.mktemp("wide-data"))
    params = tiny_train_params(lora_layers="transformer")
    trained = train_lora(str(tiny_model_dir), data, params, tmp_path_factory.mktemp("wide-run"))
    meta = kohya_metadata(name="wide", rank=4, alpha=2.0, steps=4, extra={})
    folder = tmp_path_factory.mktemp("wide-loras") / "wide"
    return trained, export_lora(trained.adapter, trained.adapter_config, folder, "wide", meta)


def test_kohyas_layer_set_exports_and_reloads_exactly(wide: Any, model: Any) -> None:
    """The webui file holds the wider layers and diffusers' kohya loader renders what training
    saw."""
    from safetensors.torch import load_file

    trained, exported = wide
    keys = set(load_file(exported.webui_file))
    block = "lora_unet_down_blocks_1_attentions_0"
    for layer in ("proj_in", "proj_out", "transformer_blocks_0_ff_net_0_proj"):
        assert f"{block}_{layer}.lora_down.weight" in keys
    sample = trained.samples[-1][1][0]
    during = np.asarray(sample.image, dtype=np.int16)
    loras = (LoraWeight(str(exported.webui_file)),)
    assert np.abs(pixels(model, replace(sample.params, loras=loras)) - during).max() <= 1
    pixels(model, sample.params)


@pytest.mark.parametrize("layers", ["attention", "transformer"])
def test_plain_diffusers_loads_every_layer_of_the_diffusers_file_and_renders_the_same(
    layers: str, request: pytest.FixtureRequest, tiny_model_dir: Path, model: Any
) -> None:
    """What a diffusers user does with our file: `load_lora_weights` on their own pipeline,
    nothing else. Every tensor of the file becomes a LoRA weight (none silently dropped), and
    the image equals what genai-tui renders with the LoRA."""
    from diffusers import StableDiffusionPipeline
    from safetensors import safe_open

    from genai_tui.engine.schedulers import build_scheduler

    trained, exported = (
        (request.getfixturevalue("trained"), request.getfixturevalue("exported"))
        if layers == "attention"
        else request.getfixturevalue("wide")
    )
    with safe_open(exported.diffusers_file, "pt") as handle:
        in_file = set(handle.keys())
    assert len(in_file) == len(trained.adapter)
    pipe = StableDiffusionPipeline.from_pretrained(
        tiny_model_dir, safety_checker=None, requires_safety_checker=False
    )
    pipe.set_progress_bar_config(disable=True)
    pipe.load_lora_weights(str(exported.diffusers_file))
    loaded = [name for name, _ in pipe.unet.named_parameters() if ".lora_" in name]
    assert len(loaded) == len(in_file)
    params = trained.samples[-1][1][0].params
    ours = pixels(model, replace(params, loras=(LoraWeight(str(exported.webui_file)),)))
    assert np.abs(ours - pixels(model, params)).max() > 2  # the LoRA shows; now it is off again
    pipe.scheduler = build_scheduler(params.scheduler, pipe.scheduler.config)
    with torch.inference_mode():
        image = pipe(
            prompt=params.prompt,
            negative_prompt=params.negative_prompt or None,
            num_inference_steps=params.steps,
            guidance_scale=params.cfg_scale,
            width=ours.shape[1],
            height=ours.shape[0],
            generator=torch.Generator("cpu").manual_seed(params.seeds()[0]),
        ).images[0]
    assert np.abs(np.asarray(image, dtype=np.int16) - ours).max() <= 1
