"""The headless progress bar, on stderr so stdout carries only the image paths."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class ProgressView:
    """A rich progress bar for steps, with a status line for loading and one-off log lines."""

    def __init__(self, console: Console, total_steps: int) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID = self._progress.add_task("starting", total=total_steps, rate="")
        self._round = 0

    def __enter__(self) -> ProgressView:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def status(self, what: str) -> None:
        """Show what is happening before the steps start (loading, downloading)."""
        self._progress.update(self._task, description=what)

    def step(self, step: int, total: int) -> None:
        """A denoising step finished."""
        task = self._progress.tasks[0]
        rate = f"{task.speed:.1f} it/s" if task.speed else ""
        self._progress.update(
            self._task, description="denoising", completed=step, total=total, rate=rate
        )

    def log(self, line: str) -> None:
        """A line printed above the bar."""
        self._progress.console.print(line, highlight=False, markup=False)
