"""Turn any exception a job raises into one clear line and a hint the user can act on."""

from __future__ import annotations

import errno

from genai_tui.engine.errors import BadInput, EngineError, ModelError
from genai_tui.session.errors import SessionError

USER_FIXABLE = frozenset({"bad_input", "model", "session"})
"""Failures caused by what the user asked for; the CLI exits with code 2 for these."""

OOM_HINT = (
    "the GPU ran out of memory: lower the size or images per prompt, or turn on attention "
    "slicing, VAE tiling or model CPU offload (--attention-slicing, --vae-tiling, --cpu-offload)"
)


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA/MPS out-of-memory errors, recognised without importing torch."""
    name = type(exc).__name__
    return name == "OutOfMemoryError" or "out of memory" in str(exc).lower()


def describe(exc: BaseException) -> tuple[str, str, str]:
    """(category, error, hint) for a failed job; the categories are those of JobFailed.kind."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if is_out_of_memory(exc):
        return "out_of_memory", "out of memory", OOM_HINT
    if isinstance(exc, ModelError):
        return "model", message, exc.hint or "check the model reference (--model)"
    if isinstance(exc, BadInput):
        return "bad_input", message, exc.hint or "change the value and try again"
    if isinstance(exc, EngineError):
        return "engine", message, exc.hint
    if isinstance(exc, SessionError):
        return "session", message, exc.hint
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "disk", "the disk is full", "free some space; images already saved are safe"
    if isinstance(exc, ConnectionError | TimeoutError):
        return "network", message, "the network is unreachable: work offline with HF_HUB_OFFLINE=1"
    return "bug", f"{type(exc).__name__}: {message}", "unexpected: the log panel has the traceback"
