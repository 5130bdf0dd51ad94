"""Judge a .safetensors file by its header before any library opens it. Imports no torch.

A LoRA, model or checkpoint file given by the user (or recorded in a session) is read here
first: the 8-byte header length, the JSON header, and every tensor's place in the file. What is
not a well-formed safetensors file is one BadInput naming it, never an unpacking error or a
MemoryError from deep inside a library, and never a fall-back to a pickle loader: diffusers
retries a file safetensors cannot read with `torch.load`. A link is judged by its target.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_tui.engine.errors import BadInput

MAX_HEADER = 100_000_000
"""The largest header safetensors itself reads (bytes); anything larger is not one."""

DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "I64": 64,
    "U64": 64,
    "F64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}
"""Bits per element of each dtype safetensors knows."""

_HINT = "the file is damaged or only partly copied: copy or export it again"
_PICKLE_HINT = "only safetensors files are loaded: pickles can run code; use a .safetensors version"


@dataclass(frozen=True)
class TensorEntry:
    """One tensor as the header describes it."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int
    """Byte offsets in the data part of the file (after the header)."""


@dataclass(frozen=True)
class SafetensorsHeader:
    """A checked header: what a library will find when it opens `path`."""

    path: Path
    """The file itself, links resolved: give this to the library."""
    tensors: dict[str, TensorEntry]
    metadata: dict[str, str]
    data_start: int
    """Where the tensor data begins: 8 + the header's length."""
    size: int


def check_safetensors(path: Path, what: str = "file") -> SafetensorsHeader:
    """The header of `path` after checking it all; BadInput saying what is wrong otherwise.

    `what` names the file in messages ("LoRA", "model"). Reads only the header; the file is
    opened for reading bytes, never handed to a loader.
    """
    shown = _shown(path)
    target = _regular_file(path, shown, what)
    try:
        raw, length, size = _header_bytes(target, shown)
    except OSError as exc:
        message = f"cannot read {shown}: {exc.strerror or exc}"
        raise BadInput(message, hint="check its permissions") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"{shown} has a broken header (not valid JSON: {exc})", hint=_HINT) from exc
    if not isinstance(header, dict):
        raise BadInput(f"{shown} has a broken header (not a JSON object)", hint=_HINT)
    metadata = _metadata(header.pop("__metadata__", None), shown)
    data_start = 8 + length
    tensors = {name: _entry(name, value, shown) for name, value in header.items()}
    _check_layout(tensors, size - data_start, shown)
    return SafetensorsHeader(target, tensors, metadata, data_start, size)


def check_lora_file(path: Path) -> SafetensorsHeader:
    """A .safetensors file whose header holds LoRA weights (diffusers/peft or kohya keys)."""
    path = Path(path).expanduser()
    if path.suffix.lower() != ".safetensors":
        raise BadInput(
            f"{path.name} is not a .safetensors file",
            hint="LoRAs are loaded from .safetensors files only (diffusers or kohya format)",
        )
    header = check_safetensors(path, "LoRA")
    if not any("lora" in key.lower() for key in header.tensors):
        raise BadInput(
            f"{path.name} holds no LoRA weights (no lora_A/lora_down keys)",
            hint="give a LoRA file, not a model or an embedding",
        )
    forms = {form for key in header.tensors for form in _OLD_AND_PEFT if f".{form}." in key}
    if len(forms) > 1:
        raise BadInput(
            f"{path.name} mixes two LoRA key forms ({' and '.join(sorted(forms))}): diffusers "
            "would load the layers of one form and silently drop the others",
            hint="use the webui (kohya) file of the same LoRA: it holds every layer",
        )
    return header


_OLD_AND_PEFT = ("lora.down", "lora_A")
"""diffusers' old key form and peft's: a file with both loads only in part (genai-tui's early
diffusers exports of LoRAs on more than the attention projections)."""


def _header_bytes(target: Path, shown: str) -> tuple[bytes, int, int]:
    """(header JSON bytes, their length, file size), refusing what cannot be a header."""
    with target.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        start = handle.read(9)
        if len(start) < 9:
            raise BadInput(
                f"{shown} is not a safetensors file ({_bytes(size)}: too short to hold a header)",
                hint=_HINT,
            )
        (length,) = struct.unpack("<Q", start[:8])
        if length > MAX_HEADER or 8 + length > size or start[8:9] != b"{":
            raise BadInput(_not_safetensors(shown, start, length, size), hint=_hint_for(start))
        return start[8:] + handle.read(length - 1), length, size


def _shown(path: Path) -> str:
    """How a file is named in messages: its name, and where a link leads."""
    if path.is_symlink():
        return f"{path.name} (a link to {os.path.realpath(path)})"
    return path.name


def _regular_file(path: Path, shown: str, what: str) -> Path:
    try:
        target = path.resolve(strict=True)
        mode = target.stat().st_mode
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
        raise BadInput(f"{what} file not found: {path}", hint="check the path") from exc
    if not stat.S_ISREG(mode):
        raise BadInput(f"{shown} is not a file", hint="give the path of a .safetensors file")
    return target


def _not_safetensors(shown: str, start: bytes, length: int, size: int) -> str:
    looks = _looks_like(start)
    if looks:
        return f"{shown} is not a safetensors file (it looks like {looks}: refused, never opened)"
    if start[8:9] != b"{":
        return f"{shown} is not a safetensors file (it does not begin with a safetensors header)"
    if 8 + length > size:
        return (
            f"{shown} is cut short: its header claims {_bytes(8 + length)} but the file "
            f"has {_bytes(size)}"
        )
    return f"{shown} is not a safetensors file (a header of {_bytes(length)} is beyond the limit)"


def _looks_like(start: bytes) -> str:
    """What a file that is no safetensors seems to be, from its first bytes."""
    if start[:1] == b"\x80" and 2 <= start[1] <= 5:
        return "a pickle"
    if start[:4] == b"PK\x03\x04":
        return "a PyTorch zip checkpoint, which holds a pickle"
    return ""


def _hint_for(start: bytes) -> str:
    return _PICKLE_HINT if _looks_like(start) else _HINT


def _metadata(value: Any, shown: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadInput(f"{shown} has a broken header (__metadata__ must map text to text)")
    return dict(value)


def _entry(name: str, value: Any, shown: str) -> TensorEntry:
    bad = f"{shown} has a broken header (tensor {name!r}: "
    if not isinstance(value, dict):
        raise BadInput(bad + "not an object)", hint=_HINT)
    dtype, shape, offsets = value.get("dtype"), value.get("shape"), value.get("data_offsets")
    if dtype not in DTYPE_BITS:
        raise BadInput(bad + f"unknown dtype {dtype!r})", hint=_HINT)
    if not isinstance(shape, list) or not all(_count(n) for n in shape):
        raise BadInput(bad + f"shape {shape!r} is not a list of sizes)", hint=_HINT)
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_count(n) for n in offsets)):
        raise BadInput(bad + f"data_offsets {offsets!r} are not two positions)", hint=_HINT)
    begin, end = offsets
    bits = math.prod(shape) * DTYPE_BITS[str(dtype)]
    if begin > end or bits % 8 or end - begin != bits // 8:
        raise BadInput(
            bad + f"{end - begin} bytes stored for {dtype} {shape}, which needs {bits / 8:g})",
            hint=_HINT,
        )
    return TensorEntry(str(dtype), tuple(shape), begin, end)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_layout(tensors: dict[str, TensorEntry], data_size: int, shown: str) -> None:
    """Tensors tile the data part exactly, as safetensors requires: no gap, overlap or excess."""
    position = 0
    for name, entry in sorted(tensors.items(), key=lambda item: (item[1].begin, item[1].end)):
        if entry.begin != position:
            raise BadInput(
                f"{shown} is damaged (tensor {name!r} starts at byte {entry.begin} of the data, "
                f"expected {position})",
                hint=_HINT,
            )
        position = entry.end
    if position > data_size:
        raise BadInput(
            f"{shown} is cut short: its tensors need {_bytes(position)} of data but the file "
            f"holds {_bytes(data_size)}",
            hint=_HINT,
        )
    if position < data_size:
        raise BadInput(
            f"{shown} is damaged ({_bytes(data_size - position)} after the last tensor)",
            hint=_HINT,
        )


def _bytes(count: int) -> str:
    return f"{count:,} bytes" if count != 1 else "1 byte"
