"""LoRAs named in a generation, resolved against the session: a session LoRA or a file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from genai_tui.engine.errors import BadInput
from genai_tui.engine.lora.hashes import SHORT, lora_hash
from genai_tui.engine.params import GenerateParams, LoraWeight
from genai_tui.engine.safetensors_check import check_lora_file
from genai_tui.session.models import LoraUse
from genai_tui.session.store import SessionStore


def resolve_loras(
    store: SessionStore, params: GenerateParams
) -> tuple[GenerateParams, list[LoraUse]]:
    """`params` with each LoRA given by file path, and what the image records say about them.

    A name is first looked up among the session's LoRAs (their webui file is used: its stem is
    the LoRA's name, which keeps A1111's `<lora:name:w>` and our adapter names the same);
    otherwise it must be a path to a .safetensors file, diffusers or kohya format.
    """
    resolved: list[LoraWeight] = []
    uses: list[LoraUse] = []
    for lora in params.loras:
        record = store.lora(lora.name_or_path)
        if record is not None:
            path = store.path / record.webui_file
            if not path.is_file():
                raise BadInput(f'LoRA "{record.name}" is recorded but {path} is missing')
            check_lora_file(path)
            uses.append(LoraUse(name=record.name, weight=lora.weight, hash=record.hash[:SHORT]))
        else:
            path = Path(lora.name_or_path).expanduser()
            if path.suffix.lower() != ".safetensors" or not path.is_file():
                names = ", ".join(r.name for r in store.session.loras) or "none yet"
                raise BadInput(
                    f"no LoRA {lora.name_or_path!r} in session {store.name!r} and no such "
                    ".safetensors file",
                    hint=f"this session's LoRAs: {names}",
                )
            path = check_lora_file(path).path
            uses.append(
                LoraUse(
                    name=path.stem,
                    weight=lora.weight,
                    hash=lora_hash(path)[:SHORT],
                    path=str(path),
                )
            )
        resolved.append(LoraWeight(str(path), lora.weight))
    return replace(params, loras=tuple(resolved)), uses


def session_loras(store: SessionStore) -> list[str]:
    """Names of the session's LoRAs whose files are on disk, oldest first (for pickers)."""
    return [r.name for r in store.session.loras if (store.path / r.webui_file).is_file()]
