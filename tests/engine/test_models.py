"""Model references, devices, precision, hashes and preview maps."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from genai_tui.engine import sources
from genai_tui.engine.errors import BadInput, ModelError
from genai_tui.engine.models import load_model, pick_device, pick_dtype
from genai_tui.engine.params import LoadOptions
from genai_tui.engine.preview import SD15_LATENT_RGB
from genai_tui.engine.sources import resolve_source


def test_a_diffusers_folder_resolves_and_loads_on_the_cpu(
    tiny_model: Any, tiny_model_dir: Path
) -> None:
    assert tiny_model.source.kind == "folder"
    assert tiny_model.source.name == tiny_model_dir.name
    assert (tiny_model.device, tiny_model.dtype) == ("cpu", "fp32")
    assert tiny_model.native_size == 32


def test_model_hash_is_a1111_style_sha256_of_the_unet(
    tiny_model: Any, tiny_model_dir: Path
) -> None:
    weights = tiny_model_dir / "unet" / "diffusion_pytorch_model.safetensors"
    assert tiny_model.model_hash == hashlib.sha256(weights.read_bytes()).hexdigest()[:10]


def test_preview_map_is_sd15_unless_the_model_ships_its_own(
    tmp_path: Path, tiny_model: Any
) -> None:
    assert tiny_model.latent_rgb == SD15_LATENT_RGB


def test_a_model_folder_with_its_own_preview_map_uses_it(tmp_path: Path) -> None:
    from tests.fixtures.tiny_pipeline import make_tiny_pipeline

    folder = make_tiny_pipeline(tmp_path / "m")
    factors = [[0.1, 0.2, 0.3]] * 4
    (folder / "latent_rgb.json").write_text(json.dumps({"factors": factors, "bias": [0.5] * 3}))
    loaded = load_model(str(folder))
    assert loaded.latent_rgb.factors == factors and loaded.latent_rgb.bias == [0.5] * 3


def test_hub_ids_resolve_without_touching_the_network() -> None:
    source = resolve_source("stable-diffusion-v1-5/stable-diffusion-v1-5")
    assert (source.kind, source.name) == ("hub", "stable-diffusion-v1-5")


def test_a_hub_model_missing_offline_names_it_and_how_to_fetch_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ModelError) as caught:
        load_model("someone/not-downloaded")
    assert "someone/not-downloaded" in str(caught.value)
    assert "hf download someone/not-downloaded" in caught.value.hint


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.safetensors", "model file not found"),
        (lambda p: (p / "x.ckpt").write_bytes(b"") or p / "x.ckpt", "pickle checkpoints"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "not a diffusers model"),
        (lambda p: p / "no" / "such" / "folder", "model not found"),
    ],
)
def test_bad_model_references_say_what_is_wrong(tmp_path: Path, make: Any, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        resolve_source(str(make(tmp_path)))


def test_demo_reports_missing_assets_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "assets_dir", lambda: tmp_path)
    with pytest.raises(ModelError, match="demo model is missing"):
        resolve_source("demo")


def test_a_single_file_without_a_local_config_is_refused_not_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    checkpoint = tmp_path / "model.safetensors"
    import torch
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(checkpoint))
    with pytest.raises(ModelError, match="needs a diffusers config"):
        load_model(str(checkpoint))


def test_device_and_precision_choices() -> None:
    import torch

    assert pick_device("auto") in {"cuda", "mps", "cpu"}
    assert pick_dtype("cpu") == torch.float32
    assert pick_dtype("cuda") == torch.float16
    assert pick_dtype("cuda", "bf16") == torch.bfloat16
    with pytest.raises(BadInput, match="needs a GPU"):
        pick_dtype("cpu", "fp16")
    with pytest.raises(BadInput):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="not available"):
            pick_device("cuda")
        with pytest.raises(BadInput, match="CUDA"):
            load_model("demo", LoadOptions(cpu_offload=True))


def test_two_workers_loading_at_once_both_get_real_weights(tiny_model_dir: Path) -> None:
    """The daemon's workers load in threads of one process; accelerate's empty-weights patch is
    process-wide, so unguarded concurrent loads left parameters on the meta device."""
    import threading

    loaded: list[Any] = []
    failures: list[BaseException] = []

    def load_twice() -> None:
        for _ in range(2):
            try:
                loaded.append(load_model(str(tiny_model_dir)))
            except BaseException as exc:  # the test reports what a worker would have shown
                failures.append(exc)

    threads = [threading.Thread(target=load_twice) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for model in loaded:
        modules = (model.pipe.unet, model.pipe.text_encoder, model.pipe.vae)
        assert not any(p.is_meta for m in modules for p in m.parameters())
