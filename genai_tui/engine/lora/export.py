"""Write a trained LoRA as files other tools load: diffusers format and webui (kohya) format.

- `pytorch_lora_weights.safetensors`: peft keys under `unet.` (`unet.<module>.lora_A.weight`,
  `.lora_B.weight`), as diffusers' training scripts save them, with the peft adapter config in
  the metadata so `load_lora_weights` gets alpha right (without it alpha silently becomes
  rank). Every key has the one form: diffusers picks its key converter from the file's first
  key and silently drops layers of another form.
- `<name>.safetensors`: kohya keys (`lora_unet_..._to_k.lora_down.weight`, `.lora_up.weight`,
  `.alpha`) and the `ss_*` metadata A1111 and ComfyUI read. diffusers' converter writes
  alpha = rank whatever alpha was: the true alpha is set here.

Both are written with the process umask deciding their mode, like the session's images.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genai_tui.engine.lora.hashes import SHORT, data_hash
from genai_tui.engine.weights_file import save_weights

DIFFUSERS_FILE = "pytorch_lora_weights.safetensors"
ADAPTER_METADATA_KEY = "lora_adapter_metadata"
"""Where diffusers' `load_lora_weights` finds the peft config (LORA_ADAPTER_METADATA_KEY)."""


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
    diffusers_tensors, diffusers_metadata = diffusers_state_dict(adapter, adapter_config)
    save_weights(diffusers_tensors, folder / DIFFUSERS_FILE, diffusers_metadata)
    webui = folder / f"{name}.safetensors"
    tensors = webui_state_dict(adapter, float(adapter_config["lora_alpha"]))
    save_weights(tensors, webui, metadata)
    # The data bytes do not depend on the metadata: hash them, then record the hash in the
    # metadata as kohya's trainer does, so A1111 shows this hash without re-reading the file.
    digest = data_hash(webui)
    save_weights(tensors, webui, {**metadata, "sshs_model_hash": digest})
    return ExportedLora(folder, folder / DIFFUSERS_FILE, webui, digest)


def diffusers_state_dict(
    adapter: dict[str, torch.Tensor], adapter_config: dict[str, Any]
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata of the diffusers file, as `save_lora_weights` would write them.

    Not diffusers' `convert_state_dict_to_diffusers`: it renames only to_q/k/v/out to the old
    `.lora.down` form, so a LoRA on more layers (proj_in, ff) came out in two forms and
    diffusers loaded only the layers in the form of the file's first key.
    """
    config = {f"unet.{key}": value for key, value in _json_ready(adapter_config).items()}
    metadata = {"format": "pt", ADAPTER_METADATA_KEY: json.dumps(config, indent=2, sort_keys=True)}
    return {f"unet.{key}": value for key, value in adapter.items()}, metadata


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
