"""Write a trained LoRA as files other tools load: diffusers format and webui (kohya) format.

- `pytorch_lora_weights.safetensors`: diffusers keys, with the peft adapter config in the
  metadata so `load_lora_weights` gets alpha right (without it alpha silently becomes rank).
- `<name>.safetensors`: kohya keys (`lora_unet_..._to_k.lora_down.weight`, `.lora_up.weight`,
  `.alpha`) and the `ss_*` metadata A1111 and ComfyUI read. diffusers' converter writes
  alpha = rank whatever alpha was: the true alpha is set here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from genai_tui.engine.lora.hashes import SHORT, data_hash

DIFFUSERS_FILE = "pytorch_lora_weights.safetensors"


@dataclass(frozen=True)
class ExportedLora:
    """The files written for one LoRA."""

    folder: Path
    diffusers_file: Path
    webui_file: Path
    hash: str
    """The webui file's A1111 LoRA hash (full sha256 of its tensor data)."""

    @property
    def short_hash(self) -> str:
        """What A1111 writes in "Lora hashes"."""
        return self.hash[:SHORT]


def export_lora(
    adapter: dict[str, torch.Tensor],
    adapter_config: dict[str, Any],
    folder: Path,
    name: str,
    metadata: dict[str, str],
) -> ExportedLora:
    """Write both formats into `folder`; `metadata` (ss_* keys) goes into the webui file."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils.state_dict_utils import convert_state_dict_to_diffusers

    folder.mkdir(parents=True, exist_ok=True)
    StableDiffusionPipeline.save_lora_weights(
        folder,
        unet_lora_layers=convert_state_dict_to_diffusers(dict(adapter)),  # type: ignore[no-untyped-call]
        unet_lora_adapter_metadata=_json_ready(adapter_config),
        weight_name=DIFFUSERS_FILE,
    )
    webui = folder / f"{name}.safetensors"
    tensors = webui_state_dict(adapter, float(adapter_config["lora_alpha"]))
    save_file(tensors, webui, metadata=metadata)
    # The data bytes do not depend on the metadata: hash them, then record the hash in the
    # metadata as kohya's trainer does, so A1111 shows this hash without re-reading the file.
    digest = data_hash(webui)
    save_file(tensors, webui, metadata={**metadata, "sshs_model_hash": digest})
    return ExportedLora(folder, folder / DIFFUSERS_FILE, webui, digest)


def webui_state_dict(adapter: dict[str, torch.Tensor], alpha: float) -> dict[str, torch.Tensor]:
    """Kohya keys for peft LoRA weights, with every `.alpha` set to the true alpha."""
    from diffusers.utils.state_dict_utils import convert_state_dict_to_kohya

    prefixed = {f"unet.{k}": v for k, v in adapter.items()}
    kohya = convert_state_dict_to_kohya(prefixed)  # type: ignore[no-untyped-call]
    out: dict[str, torch.Tensor] = {}
    for key, value in kohya.items():
        if key.endswith(".alpha"):
            value = torch.tensor(alpha, dtype=torch.float32)
        out[key] = value.detach().to("cpu").contiguous()
    return out


def kohya_metadata(
    *,
    name: str,
    rank: int,
    alpha: float,
    steps: int,
    extra: dict[str, Any],
) -> dict[str, str]:
    """The `ss_*` metadata of a webui LoRA (A1111 reads dim, alpha, base model and name)."""
    values: dict[str, Any] = {
        "ss_network_module": "networks.lora",
        "ss_network_dim": rank,
        "ss_network_alpha": alpha,
        "ss_base_model_version": "sd_v1",
        "ss_output_name": name,
        "ss_max_train_steps": steps,
        "ss_steps": steps,
        **extra,
    }
    return {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()
    }


def _json_ready(config: dict[str, Any]) -> dict[str, Any]:
    """peft's config dict holds sets; safetensors metadata must be JSON."""
    text = json.dumps(config, default=lambda v: sorted(v) if isinstance(v, set) else str(v))
    loaded: dict[str, Any] = json.loads(text)
    return loaded
