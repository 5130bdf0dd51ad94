"""Errors the engine raises on purpose, each with a message a user can act on."""

from __future__ import annotations


class EngineError(Exception):
    """Base of the engine's own errors; `hint` says what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class BadInput(EngineError, ValueError):
    """A parameter the user gave cannot be used (size not a multiple of 8, steps < 1, ...)."""


class ModelError(EngineError):
    """A model reference that cannot be resolved or loaded (missing, offline, wrong format)."""


class Cancelled(EngineError):
    """The user cancelled the job; any half-finished result was discarded."""
