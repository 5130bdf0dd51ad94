"""Resumable training checkpoints in safetensors and JSON only: never a pickle.

A checkpoint folder `checkpoint-<step>/` holds:

- `adapter_model.safetensors`: the LoRA weights (peft keys, fp32)
- `optimizer.safetensors` + `optimizer.json`: the optimizer's tensors, and the rest of its state
- `rng.safetensors` + `rng.json`: torch (CPU, CUDA, the noise generator) states as uint8
  tensors; Python's and numpy's states as JSON
- `state.json`: step, data order, LR scheduler, grad scaler, the parameters of the run

The folder is written under a temporary name and renamed, so a crash leaves no half checkpoint.
Its files get the mode the umask gives, like the session's other files. On resume every
.safetensors header is checked before safetensors reads the file.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from genai_tui.engine.errors import BadInput
from genai_tui.engine.lora.params import TrainParams
from genai_tui.engine.safetensors_check import check_safetensors
from genai_tui.engine.weights_file import save_weights

FORMAT = 1
PREFIX = "checkpoint-"
ADAPTER_FILE = "adapter_model.safetensors"


@dataclass
class Checkpoint:
    """Everything read back from a checkpoint folder."""

    folder: Path
    step: int
    adapter: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    state: dict[str, Any]
    rng_tensors: dict[str, torch.Tensor]
    rng_json: dict[str, Any]


def checkpoint_dir(run_dir: Path, step: int) -> Path:
    """Where the checkpoint of `step` goes."""
    return run_dir / f"{PREFIX}{step}"


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint of the highest step in `run_dir`, if any."""
    found = [
        (int(p.name[len(PREFIX) :]), p)
        for p in run_dir.glob(f"{PREFIX}*")
        if p.name[len(PREFIX) :].isdigit() and (p / "state.json").is_file()
    ]
    return max(found)[1] if found else None


def save_checkpoint(
    folder: Path,
    *,
    step: int,
    adapter: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    noise_generator: torch.Generator,
    state: dict[str, Any],
) -> Path:
    """Write a checkpoint to `folder` (replacing one of the same step); returns `folder`."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_weights(adapter, tmp / ADAPTER_FILE)
    opt_tensors, opt_json = _split_optimizer(optimizer.state_dict())
    save_weights(opt_tensors, tmp / "optimizer.safetensors")
    _write_json(tmp / "optimizer.json", opt_json)
    rng_tensors, rng_json = _rng_states(noise_generator)
    save_weights(rng_tensors, tmp / "rng.safetensors")
    _write_json(tmp / "rng.json", rng_json)
    _write_json(tmp / "state.json", {"format": FORMAT, "step": step, **state})
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder


def load_checkpoint(folder: Path) -> Checkpoint:
    """Read a checkpoint folder; BadInput with a hint when it is missing or incomplete."""
    folder = Path(folder).expanduser()
    needed = [
        ADAPTER_FILE,
        "optimizer.safetensors",
        "optimizer.json",
        "rng.safetensors",
        "rng.json",
        "state.json",
    ]
    state = _checked_state(folder, needed)
    optimizer = _join_optimizer(
        _load_tensors(folder / "optimizer.safetensors"),
        json.loads((folder / "optimizer.json").read_text(encoding="utf-8")),
    )
    return Checkpoint(
        folder=folder,
        step=int(state["step"]),
        adapter=_load_tensors(folder / ADAPTER_FILE),
        optimizer=optimizer,
        state=state,
        rng_tensors=_load_tensors(folder / "rng.safetensors"),
        rng_json=json.loads((folder / "rng.json").read_text(encoding="utf-8")),
    )


def _checked_state(folder: Path, needed: list[str]) -> dict[str, Any]:
    """The checkpoint's state.json, once `needed` files are there and its format is ours."""
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise BadInput(
            f"{folder} is not a complete checkpoint (missing {', '.join(missing)})",
            hint="give a runs/<run>/checkpoint-<step> folder",
        )
    state: dict[str, Any] = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    if state.get("format", 0) > FORMAT:
        raise BadInput(f"{folder} was written by a newer genai-tui")
    return state


def lora_config(params: TrainParams) -> Any:
    """The peft LoraConfig training puts on the UNet for `params` (and a checkpoint's export
    rebuilds, so its diffusers file tells `load_lora_weights` the same rank and alpha)."""
    from peft import LoraConfig

    alpha: Any = int(params.alpha) if float(params.alpha).is_integer() else params.alpha
    return LoraConfig(
        r=params.rank,
        lora_alpha=alpha,  # peft types it as int: a whole alpha goes in as one
        init_lora_weights="gaussian",
        target_modules=list(params.target_modules),
    )


@dataclass(frozen=True)
class CheckpointAdapter:
    """A checkpoint's LoRA weights and what exporting them needs; no optimizer state."""

    folder: Path
    step: int
    adapter: dict[str, torch.Tensor]
    adapter_config: dict[str, Any]
    params: TrainParams


def checkpoint_adapter(folder: Path) -> CheckpointAdapter:
    """Read only the adapter and state of a checkpoint folder (files checked first)."""
    folder = Path(folder).expanduser()
    state = _checked_state(folder, [ADAPTER_FILE, "state.json"])
    params = TrainParams.from_json(state["params"])
    return CheckpointAdapter(
        folder=folder,
        step=int(state["step"]),
        adapter={k: v.float() for k, v in _load_tensors(folder / ADAPTER_FILE).items()},
        adapter_config=lora_config(params).to_dict(),
        params=params,
    )


def restore_rng(checkpoint: Checkpoint, noise_generator: torch.Generator) -> None:
    """Put every random generator back where the checkpoint left it."""
    tensors, saved = checkpoint.rng_tensors, checkpoint.rng_json
    torch.set_rng_state(tensors["torch_cpu"])
    noise_generator.set_state(tensors["noise_generator"])
    cuda = sorted(k for k in tensors if k.startswith("torch_cuda_"))
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])
    version, internal, gauss = saved["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = saved["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


def _rng_states(noise_generator: torch.Generator) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {"torch_cpu": torch.get_rng_state(), "noise_generator": noise_generator.get_state()}
    if torch.cuda.is_available():
        for index, value in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{index}"] = value
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return tensors, {
        "python": [version, list(internal), gauss],
        "numpy": [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)],
    }


def _split_optimizer(state_dict: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors of the optimizer state to safetensors, everything else to JSON."""
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, Any] = {}
    for param_id, values in state_dict["state"].items():
        for key, value in values.items():
            name = f"{param_id}.{key}"
            if isinstance(value, torch.Tensor):
                tensors[name] = value.detach().cpu().contiguous()
            else:
                plain[name] = value
    return tensors, {"param_groups": state_dict["param_groups"], "plain": plain}


def _join_optimizer(tensors: dict[str, torch.Tensor], saved: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for source in (tensors, saved["plain"]):
        for name, value in source.items():
            param_id, key = name.split(".", 1)
            state.setdefault(int(param_id), {})[key] = value
    return {"state": state, "param_groups": saved["param_groups"]}


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file, after its header was checked (BadInput if damaged)."""
    return load_file(check_safetensors(path, "checkpoint").path)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
