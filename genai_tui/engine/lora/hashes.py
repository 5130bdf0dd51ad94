"""The hash A1111 shows for a LoRA ("Lora hashes"). Imports no torch.

For a .safetensors LoRA, A1111 uses the `sshs_model_hash` of the file's metadata when there is
one, else the "addnet" hash: the sha256 of the tensor data, the bytes after the header. So
editing a file's metadata does not change its hash. Our exports write `sshs_model_hash`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from genai_tui.engine.safetensors_check import check_safetensors

SHORT = 12
"""Hex digits A1111 writes for a LoRA hash."""


def safetensors_metadata(path: Path) -> dict[str, str]:
    """The `__metadata__` of a .safetensors file ({} when it has none); BadInput if damaged."""
    return check_safetensors(path).metadata


def data_hash(path: Path) -> str:
    """sha256 of the tensor data of a .safetensors file (kohya's and A1111's "addnet" hash)."""
    header = check_safetensors(path)
    digest = hashlib.sha256()
    with header.path.open("rb") as handle:
        handle.seek(header.data_start)
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def lora_hash(path: Path) -> str:
    """The full LoRA hash as A1111 computes it; the first SHORT digits go into PNG Info."""
    if path.suffix.lower() == ".safetensors":
        recorded = safetensors_metadata(path).get("sshs_model_hash", "")
        return recorded or data_hash(path)
    digest = hashlib.sha256(path.read_bytes())
    return digest.hexdigest()
