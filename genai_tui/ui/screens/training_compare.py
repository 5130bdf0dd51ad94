"""The training screen's checkpoint comparison: a sweep of a run's checkpoints over its
validation prompts and seeds (jobs/checkpoints.py builds it), the checkpoints ranked by mean
CLIP score when its grid is ready, and `e` on the ranking keeping the chosen one as a LoRA.

`export_checkpoint(run, step)` is the one way in for an export, so a grid viewer's "export"
choice can call it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from genai_tui.engine.errors import BadInput
from genai_tui.jobs.events import (
    Event,
    GridReady,
    ImageReady,
    JobCancelled,
    JobFailed,
    JobFinished,
    LoraReady,
)
from genai_tui.ui.widgets.checkpoint_ranking import CheckpointRanking
from genai_tui.ui.workspace import Workspace

if TYPE_CHECKING:
    from pathlib import Path

    from genai_tui.session.models import TrainRun
    from genai_tui.ui.images import ImageDrawing
    from genai_tui.ui.screens.grid_viewer import GridChoice


class CheckpointComparing(Screen[None]):
    """What the training screen does to compare a run's checkpoints and keep one."""

    _drawing: ImageDrawing  # the training screen's

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self._run: str | None = None
        """The run shown (from its events): what "compare checkpoints" compares."""
        self._side_jobs: dict[str, str] = {}
        """Comparisons and exports started here: job id -> the run they are about."""

    def log_line(self, text: str, level: str = "info") -> None:
        """Write to the screen's log (the training screen's)."""
        raise NotImplementedError

    def _compared_run(self) -> TrainRun | None:
        """The run shown, else the session's last run with a checkpoint on disk."""
        store = self.workspace.store
        if store is None:
            return None
        store.catch_up()  # runs the daemon recorded meanwhile
        runs = store.session.runs
        shown = next((run for run in runs if run.name == self._run), None)
        if shown is not None:
            return shown
        with_checkpoints = [run for run in runs if run.checkpoints]
        return with_checkpoints[-1] if with_checkpoints else None

    def action_compare(self) -> None:
        """Queue a sweep of the run's checkpoints over its prompts and seeds, ranked by CLIP."""
        from genai_tui.jobs.checkpoints import compare_job
        from genai_tui.jobs.sweep import plan_for

        store = self.workspace.store
        run = self._compared_run()
        if store is None or run is None:
            self.notify("No training run with checkpoints yet.", severity="warning")
            return
        options = self.workspace.options
        try:
            job = compare_job(store, run, model=None, clip=options.clip, load=options.load)
            plan = plan_for(job)
        except BadInput as error:
            hint = f"\n{error.hint}" if error.hint else ""
            self.notify(f"{error}{hint}", title="Cannot compare", severity="error", timeout=10)
            return
        self._side_jobs[job.id] = run.name
        self.workspace.jobs.submit(job)
        columns, rows, grids = plan.shape
        self.log_line(
            f"queued: compare {columns} checkpoints of {run.name} over {rows * grids} "
            "prompt and seed cells each, ranked by CLIP"
        )

    def show_ranking(self, run: str, sweep: str) -> None:
        """Rank the checkpoints of comparison `sweep` by their mean CLIP score, best first."""
        from genai_tui.jobs.checkpoints import rank_checkpoints

        store = self.workspace.store
        if store is None:
            return
        store.catch_up()  # the cells' records, written by the daemon
        ranked = rank_checkpoints(store.session.images, sweep)
        table = self.query_one(CheckpointRanking)
        table.show(run, ranked)
        table.focus()
        if ranked and ranked[0].score is not None:
            best = ranked[0]
            self.log_line(
                f"best checkpoint of {run}: step {best.step} (CLIP {best.score:.2f} mean of "
                f"{best.cells}); e exports the chosen one as a LoRA",
                "ok",
            )

    def on_checkpoint_ranking_export(self, message: CheckpointRanking.Export) -> None:
        self.export_checkpoint(message.run, message.step)

    def export_checkpoint(self, run: str, step: int, name: str | None = None) -> None:
        """Keep checkpoint `step` of `run` as a LoRA of the session (the main screen's sliders
        and generate use it): the hook a grid viewer's "export" calls too."""
        from genai_tui.jobs.checkpoints import export_name, find_checkpoint, find_run
        from genai_tui.jobs.specs import ExportCheckpointJob

        store = self.workspace.store
        if store is None:
            return
        try:
            found = find_run(store, run)
            find_checkpoint(store, found, step)
            chosen = export_name(store, found, step, name)
        except BadInput as error:
            hint = f"\n{error.hint}" if error.hint else ""
            self.notify(f"{error}{hint}", title="Cannot export", severity="error", timeout=10)
            return
        job = ExportCheckpointJob(found.name, step, store, chosen, self.workspace.options.load)
        self._side_jobs[job.id] = found.name
        self.workspace.jobs.submit(job)
        self.log_line(f"queued: export checkpoint {step} of {found.name} as LoRA {chosen}")

    def _open_grid(self, run: str, layout_path: Path) -> None:
        """The comparison's grid over this screen: e exports the chosen cell's checkpoint."""
        from genai_tui.ui.grid_layout import LayoutError, read_layout
        from genai_tui.ui.screens.grid_viewer import GridScreen

        store = self.workspace.store
        if store is None or self.app.screen is not self:
            return  # the ranking table and the log say it; g in the gallery opens the grid
        try:
            layout = read_layout(layout_path)
        except LayoutError as error:
            self.notify(str(error), severity="warning")
            return

        def chosen(choice: GridChoice | None) -> None:
            if choice is None:
                return
            step = next(
                (v for k, v in choice.record.axes.items() if k.startswith("Checkpoint")), None
            )
            if choice.action == "export" and step is not None and step.isdigit():
                self.export_checkpoint(run, int(step))
            elif choice.action != "export":
                self.notify("the cell is in the main screen's gallery: p there reuses it")

        store.catch_up()  # the last cells' records: the daemon wrote them just now
        grid = GridScreen(layout, store.path, self._drawing, store.session.images)
        self.app.push_screen(grid, chosen)

    def _side_event(self, event: Event) -> None:
        """An event of a comparison or an export started here."""
        run = self._side_jobs[event.job_id]
        if isinstance(event, GridReady):
            self.log_line(event.sentence(), event.level)
            self.show_ranking(run, event.sweep)
            self._open_grid(run, event.layout)
        elif isinstance(event, LoraReady):
            self.log_line(event.sentence(), event.level)  # the main screen switches it on
        elif isinstance(event, JobFailed):
            self.log_line(event.sentence(), event.level)
            self.notify(event.sentence(), severity="error", timeout=10)
        elif not isinstance(event, JobFinished | ImageReady) and (line := event.sentence()):
            self.log_line(line, event.level)  # a cell's SweepCell line says what ImageReady does
        if isinstance(event, JobFinished | JobCancelled | JobFailed):
            del self._side_jobs[event.job_id]
