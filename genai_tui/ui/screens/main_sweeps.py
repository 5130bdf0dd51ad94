"""The main screen's sweeps: the form (f4) to the queued SweepJob, progress, and the grid viewer.

A sweep started here opens its grid when it is written, if the main screen is what the user
looks at; any sweep's grid opens with `g` on one of its images, in the gallery or the viewer.
The grid's choices are carried out as the viewer's are.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from genai_tui.engine.errors import BadInput

if TYPE_CHECKING:
    from genai_tui.engine.params import GenerateParams
    from genai_tui.jobs.events import GridReady, SweepCell
    from genai_tui.session.models import ImageRecord
    from genai_tui.ui.screens.grid_viewer import GridChoice
    from genai_tui.ui.screens.main import MainScreen
    from genai_tui.ui.screens.sweep_form import SweepRequest
    from genai_tui.ui.screens.viewer import ViewerChoice

EXPORT_ELSEWHERE = "export checkpoints from the training screen (compare checkpoints)"


class MainSweeps:
    """What the main screen knows of the sweeps it started, and the screens they use."""

    def __init__(self, screen: MainScreen) -> None:
        self._screen = screen
        self._started: dict[str, tuple[int, int]] = {}
        """Job id -> (cells made, cells in all) of each sweep queued from this screen."""
        self._last: tuple[str, ...] = ()
        """The axes of the last sweep queued, for the form to start from."""

    # -- the form -----------------------------------------------------------------------------

    def open_form(self) -> None:
        """The sweep form over the editor's knobs now; Run queues the sweep."""
        from genai_tui.jobs.editor import params_from_editor
        from genai_tui.jobs.loras import session_loras
        from genai_tui.ui.screens.sweep_form import SweepForm, session_rate

        screen = self._screen
        store = screen.workspace.store
        if store is None:
            screen.notify("no session is open yet", severity="warning")
            return
        try:
            base = params_from_editor(screen.editor_state()).validate()
        except BadInput as error:
            screen.notify(f"{error}. {error.hint}".strip(" ."), severity="error")
            return
        form = SweepForm(base, session_rate(store.session.images), session_loras(store), self._last)
        screen.app.push_screen(form, lambda request: self._run(base, request))

    def _run(self, base: GenerateParams, request: SweepRequest | None) -> None:
        from genai_tui.jobs.specs import SweepJob

        screen = self._screen
        store = screen.workspace.store
        if request is None or store is None:
            return
        options = screen.workspace.options
        job = SweepJob(
            params=replace(base, batch_size=1),
            axes=request.axes,
            model=screen.workspace.model_ref,
            session=store,
            load=options.load,
            clip=options.clip,
            yes=request.yes,
            preview=screen.preview_mode,
        )
        self._started[job.id] = (0, request.cells)
        self._last = request.axes
        screen.workspace.jobs.submit(job)
        screen.log_line(f"queued sweep of {request.cells:,} cells ({job.title})")
        screen.save_now()

    # -- progress -----------------------------------------------------------------------------

    def cell_made(self, event: SweepCell) -> str:
        """A cell is in the session: what the header says ("cell 3 of 9")."""
        self._started[event.job_id] = (event.index, event.total)
        return f"cell {event.index} of {event.total}"

    def cell(self, job_id: str) -> str:
        """The header during a step: "cell 4 of 9" for a sweep started here, else ""."""
        if job_id not in self._started:
            return ""
        made, total = self._started[job_id]
        return f"cell {min(made + 1, total)} of {total}"

    def grid_ready(self, event: GridReady) -> None:
        """Open the grid of a sweep started here, if the user is on the main screen."""
        screen = self._screen
        if event.job_id not in self._started:
            return
        if screen.app.screen is screen:
            self._open(event.layout, None)
        else:
            # The training screen opens its comparisons' grids itself, after this event.
            screen.app.call_after_refresh(self._say_ready, event.sweep)

    def _say_ready(self, sweep: str) -> None:
        from genai_tui.ui.screens.grid_viewer import GridScreen

        if not isinstance(self._screen.app.screen, GridScreen):
            self._screen.notify(f"the grid of sweep {sweep} is ready: g on one of its images")

    def ended(self, job_id: str) -> None:
        self._started.pop(job_id, None)

    # -- the grid -----------------------------------------------------------------------------

    def open_grid(self, record: ImageRecord) -> None:
        """The grid of the sweep `record` is a cell of, that cell selected."""
        store = self._screen.workspace.store
        if record.sweep is None:
            self._screen.notify(f"{record.file} is not part of a sweep", severity="warning")
        elif store is not None:
            from genai_tui.jobs.sweep_grid import GRID_FOLDER

            self._open(store.path / GRID_FOLDER / f"{record.sweep}.json", record.file)

    def _open(self, path: Path, selected: str | None) -> None:
        # Imported on first use, as the other screens the first frame does not need.
        from genai_tui.ui.grid_layout import LayoutError, read_layout
        from genai_tui.ui.screens.grid_viewer import GridScreen

        screen = self._screen
        store = screen.workspace.store
        if store is None:
            return
        try:
            layout = read_layout(path)
        except LayoutError as error:
            screen.notify(str(error), severity="warning")
            return
        store.catch_up()  # the last cells' records: the daemon wrote them just now
        grid = GridScreen(
            layout, store.path, screen.drawing, store.session.images, selected=selected
        )
        screen.app.push_screen(grid, self._grid_done)

    def _grid_done(self, choice: GridChoice | None) -> None:
        from genai_tui.ui.screens.viewer import ViewerScreen

        screen = self._screen
        store = screen.workspace.store
        if choice is None or store is None:
            return
        record = choice.record
        if choice.action == "reuse":
            screen.reuse_parameters(record)
        elif choice.action == "export":
            screen.notify(EXPORT_ELSEWHERE)
        else:  # open: the sweep's cells in the viewer; escape there comes back to the grid
            cells = [r for r in store.session.images if r.sweep == record.sweep]
            index = next(i for i, r in enumerate(cells) if r.file == record.file)

            def viewed(viewer_choice: ViewerChoice | None) -> None:
                if viewer_choice is None:
                    self.open_grid(record)
                else:
                    screen.viewer_done(viewer_choice)

            screen.app.push_screen(ViewerScreen(cells, index, store.path, screen.drawing), viewed)
