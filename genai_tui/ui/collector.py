"""When Python's cycle collector walks the TUI's objects: in a pause of the typing.

A full collection walks every object the process holds, with the event loop held meanwhile: in
the TUI 160k objects at the start, 190k after a few generations (a half-cell picture is a Style
and two Colors a cell), 40-65 ms each, a few times a generation, and the key typed then waited
for it (bench/daemon_bench.py keys). So while the app runs, Python's own full collections are
off and the app runs them, as often, when nobody types. Where the daemon holds the models, what
the app started with is also frozen (gc.freeze): no walk goes over it again. Never in-process:
the model cache frees models by collecting, and a frozen model never would be. The young
generations are Python's, as always (well under a millisecond each).
"""

from __future__ import annotations

import gc
from collections.abc import Callable

FULL_AFTER = 10
"""Young collections between full ones: Python's own default (gc.get_threshold()[2])."""

OVERDUE = 100
"""Young collections after which a full one runs even while keys come: garbage in reference
cycles must not pile up under a typist who never pauses."""

CHECK_SECONDS = 0.5
"""How often the app asks whether a full collection is due."""

_NEVER = 2**31 - 1  # the largest threshold Python takes: its own full collections never come


class Collector:
    """Runs full collections when due and nobody types; `typing` says whether keys come."""

    def __init__(self, typing: Callable[[], bool]) -> None:
        self._typing = typing
        self._saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        """Take full collections over from Python, until `stop`."""
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, _NEVER)

    @staticmethod
    def freeze_what_lives() -> None:
        """Everything alive now lives as long as the app: no walk goes over it again. Only
        where no model lives in this process."""
        gc.freeze()

    def tick(self) -> None:
        """A full collection, if due and nobody types (or overdue)."""
        waited = gc.get_count()[2]  # young collections since the last full one
        if waited >= OVERDUE or (waited >= FULL_AFTER and not self._typing()):
            gc.collect()

    def stop(self) -> None:
        """Give full collections back to Python."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
