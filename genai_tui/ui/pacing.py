"""How often a running job's progress is drawn, and why a key typed comes first.

Each drawing of the progress (the bar, the step line, a preview frame) holds the app's one
event-loop thread for a few milliseconds, and a key that arrives meanwhile waits for it: while a
generation ran, that was the longest wait a typist had (bench/daemon_bench.py keys). So progress
is drawn at most every STEP_INTERVAL, and while keys come only just after a key's echo, at most
every TYPING_MAX_WAIT, so the preview still moves. After a key, because a frame drawn on its own
holds the next one back: Textual's screen timer draws its next frame 17-33 ms after (one to two
60 Hz periods), and a key typed just after waited that long for its echo; just after an echo,
the next key is furthest off. (Drawn in the key's own frame, it put the drawing's cost on that
key instead.) The last step is always drawn at once. Each thing drawn (the preview, the
header's training step, the training's step line, the loss plot) keeps its own time, so a
generation and a training on two workers never take each other's turn.
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
    """Draws progress when due; told of every key pressed, and of every key handled."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._typed_at = -1e9
        self._drawn_at: dict[str, float] = {}
        self._held: dict[str, Callable[[], None]] = {}
        self._drawings: dict[str, int] = {}  # drawings (and drops) of each so far

    def key_pressed(self) -> None:
        """A key reached the app: hold progress back until the typing pauses."""
        self._typed_at = self._clock()

    @property
    def typing(self) -> bool:
        """Whether a key came within TYPING_PAUSE."""
        return self._clock() - self._typed_at < TYPING_PAUSE

    def offer(self, what: str, draw: Callable[[], None], *, last: bool = False) -> None:
        """Draw `what` with `draw` now if it is due (`last`: the job's last step, always);
        else keep it, the newest of `what`, for the next key handled."""
        now = self._clock()
        quiet_and_due = not self.typing and now - self._drawn_at.get(what, -1e9) >= STEP_INTERVAL
        if last or quiet_and_due:
            self._draw(what, draw, now)
        else:
            self._held[what] = draw

    def key_handled(self) -> list[Callable[[], None]]:
        """A key was handled: what has waited TYPING_MAX_WAIT, to draw once the key's echo is
        out (a drawing superseded or dropped meanwhile does nothing)."""
        now = self._clock()
        due = [w for w in self._held if now - self._drawn_at.get(w, -1e9) >= TYPING_MAX_WAIT]
        return [self._later(what, self._held.pop(what), now) for what in due]

    def drop(self, what: str) -> None:
        """`what` ended (its job finished, failed or was cancelled): nothing of it to draw."""
        self._held.pop(what, None)
        self._count(what)

    def _draw(self, what: str, draw: Callable[[], None], now: float) -> None:
        self._held.pop(what, None)
        self._drawn_at[what] = now
        self._count(what)
        draw()

    def _later(self, what: str, draw: Callable[[], None], now: float) -> Callable[[], None]:
        self._drawn_at[what] = now
        mine = self._count(what)

        def unless_superseded() -> None:
            if self._drawings[what] == mine:
                draw()

        return unless_superseded

    def _count(self, what: str) -> int:
        self._drawings[what] = self._drawings.get(what, 0) + 1
        return self._drawings[what]
