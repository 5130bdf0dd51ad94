"""Put LoRAs on a loaded pipeline for a generation, and take them off again.

Adapters stay loaded between jobs that use them (changing weights is only `set_adapters`); a
job without LoRAs unloads them all, which restores the base model exactly.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_tui.engine.errors import BadInput
from genai_tui.engine.params import LoraWeight
from genai_tui.engine.safetensors_check import check_lora_file

_STATE = "_genai_tui_loras"


@dataclass(frozen=True)
class LoraFile:
    """A LoRA resolved to a file, with the name it is known by and its weight."""

    name: str
    path: Path
    weight: float = 1.0


def lora_file(ref: LoraWeight) -> LoraFile:
    """A LoRA given by path (session names are resolved by the caller, which knows sessions)."""
    path = Path(ref.name_or_path).expanduser()
    if path.suffix.lower() != ".safetensors":
        raise BadInput(
            f"LoRA not found: {ref.name_or_path}",
            hint="give a LoRA of this session by name, or a path to a .safetensors file",
        )
    # Checked here, not left to diffusers: it retries what safetensors cannot read as a pickle.
    return LoraFile(path.stem, check_lora_file(path).path, ref.weight)


def adapter_name(name: str) -> str:
    """A peft adapter name for a LoRA name (no dots or spaces)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name) or "lora"


def activate_loras(pipe: Any, loras: Sequence[LoraFile]) -> None:
    """Make exactly `loras` active on `pipe`, at their weights; none unloads every LoRA."""
    loaded: dict[str, tuple[str, int, int]] = getattr(pipe, _STATE, {})
    wanted: dict[str, LoraFile] = {}
    for lora in loras:
        name, count = adapter_name(lora.name), 1
        while name in wanted:  # two LoRAs of the same name from different folders
            count += 1
            name = f"{adapter_name(lora.name)}_{count}"
        wanted[name] = lora
    if not wanted:
        if loaded:
            pipe.unload_lora_weights()
        setattr(pipe, _STATE, {})
        return
    for name in list(loaded):
        if name not in wanted or loaded[name] != _stamp(wanted[name].path):
            pipe.delete_adapters(name)
            del loaded[name]
    for name, lora in wanted.items():
        if name in loaded:
            continue
        try:
            with warnings.catch_warnings():
                # peft warns that a second adapter joins the first: that is the point here.
                warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                pipe.load_lora_weights(str(lora.path), adapter_name=name, use_safetensors=True)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            _forget(pipe, name)
            setattr(pipe, _STATE, loaded)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BadInput(
                f"{lora.path.name} could not be loaded as a LoRA of this model: {first}",
                hint="use a LoRA made for this base model (SD 1.x), in diffusers or kohya format",
            ) from exc
        loaded[name] = _stamp(lora.path)
    setattr(pipe, _STATE, loaded)
    pipe.set_adapters(list(wanted), [lora.weight for lora in wanted.values()])


def active_loras(pipe: Any) -> list[str]:
    """Adapter names loaded on `pipe` by activate_loras."""
    return list(getattr(pipe, _STATE, {}))


def _forget(pipe: Any, name: str) -> None:
    with contextlib.suppress(ValueError, KeyError, AttributeError):
        pipe.delete_adapters(name)  # fails when it never got as far as being added


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns)
