"""Progress lines for the recipe: stage, step, loss, elapsed time and an estimate of the rest."""

from __future__ import annotations

import sys
import time

from genai_tui.words import duration


class StageProgress:
    """Prints one line every `every` steps of a training stage, and a closing line."""

    def __init__(self, stage: str, total: int, every: int = 50) -> None:
        self.stage = stage
        self.total = total
        self.every = max(every, 1)
        self.started = time.perf_counter()
        self._loss_sum = 0.0
        self._loss_count = 0

    @property
    def elapsed(self) -> float:
        """Seconds since the stage began."""
        return time.perf_counter() - self.started

    def step(self, step: int, loss: float) -> None:
        """Record the loss of step `step` (1-based); print the running mean every `every` steps."""
        self._loss_sum += loss
        self._loss_count += 1
        if step % self.every and step != self.total:
            return
        mean = self._loss_sum / self._loss_count
        self._loss_sum, self._loss_count = 0.0, 0
        eta = self.elapsed / step * (self.total - step)
        say(
            f"[{self.stage}] step {step}/{self.total} loss {mean:.4f} "
            f"elapsed {duration(self.elapsed)} eta {duration(eta)}"
        )

    def done(self, note: str = "") -> float:
        """Print the stage's closing line and return its duration in seconds."""
        say(f"[{self.stage}] done in {duration(self.elapsed)} {note}".rstrip())
        return self.elapsed


def say(line: str) -> None:
    """Print a line at once, even when stdout is a file (a background run's log)."""
    print(line, flush=True)
    sys.stdout.flush()
