"""How often a running job's progress is drawn, and why a key typed comes first.

Each drawing of the progress (the bar, the step line, a preview frame) holds the app's one
event-loop thread for a few milliseconds, and a key that arrives meanwhile waits for it: while a
generation ran, that was the longest wait a typist had (bench/daemon_bench.py keys). So progress
is drawn at most every STEP_INTERVAL, and while keys come it waits for a pause in the typing,
drawn at least every TYPING_MAX_WAIT so the preview still moves. The last step is always drawn.
Each thing drawn (the preview, the header's training step, the loss plot) keeps its own time, so
a generation and a training on two workers never take each other's turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable

STEP_INTERVAL = 0.1
"""Seconds between steps drawn while nobody types (a repaint a step made every key wait while
the demo model ran 30 steps a second)."""

TYPING_PAUSE = 0.3
"""Seconds without a key after which progress is drawn at STEP_INTERVAL again."""

TYPING_MAX_WAIT = 1.0
"""Seconds progress may go undrawn while keys keep coming."""


class ProgressPace:
    """Says when progress is due to be drawn; told of every key pressed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._typed_at = -1e9
        self._drawn_at: dict[str, float] = {}

    def key_pressed(self) -> None:
        """A key reached the app: hold progress back until the typing pauses."""
        self._typed_at = self._clock()

    @property
    def typing(self) -> bool:
        """Whether a key came within TYPING_PAUSE."""
        return self._clock() - self._typed_at < TYPING_PAUSE

    def due(self, what: str, *, last: bool = False) -> bool:
        """Whether to draw `what` now (then counted drawn); `last`: the job's last step."""
        now = self._clock()
        wait = TYPING_MAX_WAIT if self.typing else STEP_INTERVAL
        if not last and now - self._drawn_at.get(what, -1e9) < wait:
            return False
        self._drawn_at[what] = now
        return True
