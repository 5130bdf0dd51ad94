"""The queue panel: every session's jobs, running first, then queued in order, then recent ones.

Keys steer the job under the cursor: cancel it, move it up or down the queue, retry a failed
one or resume an interrupted training (from its last checkpoint). The list is asked for again
every second, so progress moves and other processes' jobs appear.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

if TYPE_CHECKING:
    from genai_tui.daemon.api import JobInfo
    from genai_tui.ui.workspace import Workspace

REFRESH_SECONDS = 1.0

COLUMNS = ("job", "state", "session", "device", "progress", "what")


def when(job: JobInfo) -> str:
    """What the row says of a job's moment: its progress, its error, or its time."""
    if job.progress:
        return job.progress
    if job.error:
        return job.error[:48]
    moment = job.finished or job.started or job.submitted
    return time.strftime("%H:%M:%S", time.localtime(moment)) if moment else ""


class QueueScreen(Screen[None]):
    """Jobs of every session, with keys to steer them."""

    DEFAULT_CSS = """
    QueueScreen Vertical { height: 1fr; border: round $primary; }
    QueueScreen DataTable { height: 1fr; }
    QueueScreen #queue-note { color: $text-muted; height: 1; }
    """

    BINDINGS = [
        Binding("escape,f3", "back", "Back", id="queue.back"),
        Binding("c,delete", "cancel_job", "Cancel", id="queue.cancel", tooltip="Cancel the job"),
        Binding("shift+up,u", "move(-1)", "Up", id="queue.up", tooltip="Run it sooner"),
        Binding("shift+down,d", "move(1)", "Down", id="queue.down", tooltip="Run it later"),
        Binding(
            "r",
            "retry",
            "Retry/resume",
            id="queue.retry",
            tooltip="Queue a failed job again; an interrupted training goes on from its checkpoint",
        ),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self._jobs: list[JobInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Jobs"
            yield DataTable(cursor_type="row", zebra_stripes=True, id="queue-table")
            yield Label("", id="queue-note")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        self._refresh()
        self.set_interval(REFRESH_SECONDS, self._refresh)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _refresh(self) -> None:
        jobs = self.workspace.jobs.list_jobs()
        self.app.call_from_thread(self._show, jobs)

    def _show(self, jobs: list[JobInfo]) -> None:
        table = self.query_one(DataTable)
        selected = self.selected
        self._jobs = jobs
        table.clear()
        for job in jobs:
            row = (job.id, job.state, job.session or "-", job.device or "-", when(job), job.title)
            table.add_row(*row, key=job.id)
        if selected is not None:
            index = next((i for i, j in enumerate(jobs) if j.id == selected.id), 0)
            table.move_cursor(row=index)
        running = sum(j.state == "running" for j in jobs)
        queued = sum(j.state == "queued" for j in jobs)
        daemon = self.workspace.jobs.leaves_jobs_running
        where = "in the daemon: they go on if you quit" if daemon else "in this process"
        self.query_one("#queue-note", Label).update(f"{running} running, {queued} queued, {where}")

    @property
    def selected(self) -> JobInfo | None:
        """The job under the cursor."""
        row = self.query_one(DataTable).cursor_row
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_cancel_job(self) -> None:
        job = self.selected
        if job is not None and not job.ended and self.workspace.jobs.cancel(job.id):
            self.notify(f"cancelling {job.title}")
        self._refresh()

    def action_move(self, delta: int) -> None:
        job = self.selected
        if job is None or job.state != "queued" or not self.workspace.jobs.move(job.id, delta):
            self.notify("only queued jobs move", severity="warning")
        self._refresh()

    def action_retry(self) -> None:
        job = self.selected
        if job is None or not job.ended or job.state == "done":
            self.notify("only a failed, cancelled or interrupted job can run again")
            return
        new = self.workspace.jobs.retry(job.id)
        if new is None:
            self.notify("this job cannot run again here", severity="warning")
        else:
            verb = "resumed" if job.kind == "train" else "queued again"
            self.notify(f"{job.title}: {verb} as job {new}")
        self._refresh()
