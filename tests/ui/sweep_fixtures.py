"""A finished sweep on disk without a model: coloured cell images, their records, the real grid
writer's sidecar; and an app that shows one screen and keeps what it answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image
from textual.app import App
from textual.screen import Screen

from genai_tui.engine.params import GenerateParams
from genai_tui.jobs.sweep_axes import plan_sweep
from genai_tui.jobs.sweep_grid import write_grids
from genai_tui.session.models import ImageRecord

COLOURS = ("red", "green", "blue", "yellow", "purple", "orange", "white", "black")


def make_sweep(
    folder: Path,
    axes: Sequence[str] = ("steps=2,3", "cfg=5,9"),
    scores: Sequence[float | None] = (20.0, 25.0, 30.0, 22.0),
    sweep: str = "s1",
) -> tuple[Path, list[ImageRecord]]:
    """The cells of `axes` as 32 px images under `folder`/images, scored in plan order (x
    fastest); returns the layout sidecar and the records."""
    base = GenerateParams(prompt="a red circle", seed=42, width=32, height=32)
    plan = plan_sweep(base, axes)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    records = []
    for n, cell in enumerate(plan.cells):
        params = cell.params
        file = f"images/{n + 1:04d}-{params.seed}.png"
        Image.new("RGB", (32, 32), COLOURS[n % len(COLOURS)]).save(folder / file)
        records.append(
            ImageRecord(
                file=file,
                prompt=params.prompt,
                steps=params.steps,
                cfg_scale=params.cfg_scale,
                scheduler=params.scheduler,
                seed=params.seed or 0,
                width=32,
                height=32,
                model="demo",
                clip_score=scores[n % len(scores)],
                sweep=sweep,
                axes=cell.axes,
            )
        )
    grids = write_grids(folder, sweep, plan, records, "clip")
    return grids.layout, records


class OneScreen(App[None]):
    """Shows the screen `make` builds; what it is dismissed with lands in `answers`."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self._make = make
        self.answers: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self._make(), self.answers.append)
