"""What `genai-tui daemon status` says: pid, devices, loaded models, GPU memory, queue."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genai_tui.daemon.server import Daemon


def gpu_memory(device: str) -> int | None:
    """Bytes of GPU memory the daemon holds on `device` (None off CUDA, or before torch)."""
    torch = sys.modules.get("torch")  # never import torch just to say nothing is loaded
    if torch is None or not device.startswith("cuda") or not torch.cuda.is_available():
        return None
    return int(torch.cuda.memory_reserved(torch.device(device)))


def daemon_status(daemon: Daemon) -> dict[str, Any]:
    """The daemon's state as JSON."""
    workers = []
    for name, worker in daemon.workers.items():
        models = worker.models
        workers.append(
            {
                "device": name,
                "job": daemon.running.get(name),
                "model": models.loaded.source.name if models.loaded is not None else None,
                "clip": models.loaded_clip.name if models.loaded_clip is not None else None,
                "gpu_memory": gpu_memory(name),
            }
        )
    queued = daemon.queue.list(states=["queued"])
    return {
        "pid": os.getpid(),
        "uptime": time.time() - daemon.started,
        "socket": str(daemon.socket_file),
        "root": str(daemon.root),
        "workers": workers,
        "queued": len(queued),
        "running": sum(1 for job in daemon.running.values() if job),
        "clients": len(daemon.clients),
        "idle_seconds": daemon.idle_seconds,
    }
