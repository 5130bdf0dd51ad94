"""Write tensors to a .safetensors file the way the session's other files are written.

safetensors' `save_file` creates its files private (0600), so a webui running as another user
on the same server could not read a LoRA while it reads the images beside it (0644 under the
usual umask). Here the bytes are made in memory and written through `os.open(..., 0o666)`: the
process umask decides the mode, as for a plain `open()`. The file appears whole or not at all
(a temporary name in the same folder, flushed, then renamed), as session files do.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import torch
from safetensors.torch import save


def save_weights(
    tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None
) -> Path:
    """Write `tensors` (and text `metadata`) to `path` atomically; returns `path`."""
    payload = save(
        {key: value.detach().to("cpu").contiguous() for key, value in tensors.items()},
        metadata=metadata,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path
