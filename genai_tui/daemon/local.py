"""`--in-process`: the worker thread in this process, behind the same interface as the daemon.

For debugging, and for machines where a background process is unwanted. Jobs stop when this
process leaves. The queue panel lists this process's jobs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from genai_tui.daemon.api import JobInfo, Listener
from genai_tui.daemon.live import LiveJobs
from genai_tui.jobs.events import Event, JobCancelled, JobFailed, JobFinished, JobStarted

if TYPE_CHECKING:
    from genai_tui.jobs.specs import Job
    from genai_tui.jobs.worker import Worker

_ENDS = {JobFinished: "done", JobFailed: "failed", JobCancelled: "cancelled"}


def job_kind(job: Job) -> str:
    """generate, load_model, score, sweep, export_checkpoint or train (as the wire names
    kinds)."""
    return kind_of(type(job))


def kind_of(job_type: type[Job]) -> str:
    """The kind (JobInfo.kind) of jobs of this type."""
    names = {
        "GenerateJob": "generate",
        "LoadModelJob": "load_model",
        "ScoreJob": "score",
        "SweepJob": "sweep",
        "ExportCheckpointJob": "export_checkpoint",
    }
    return names.get(job_type.__name__, "train")


def info_of(job: Job, state: str = "queued") -> JobInfo:
    """What the queue panel shows of a job submitted here."""
    store = getattr(job, "session", None)
    return JobInfo(
        id=job.id,
        kind=job_kind(job),
        title=job.title,
        state=state,
        session_root=str(store.path.parent) if store is not None else "",
        session=store.name if store is not None else None,
        submitted=time.time(),
    )


class InProcessJobs:
    """A worker thread of this process; `stop` cancels what runs."""

    leaves_jobs_running = False

    def __init__(self, root: Path, listener: Listener | None = None) -> None:
        from genai_tui.jobs.worker import Worker

        self.root = Path(root)
        self._listener = listener
        self._lock = threading.Lock()
        self._infos: dict[str, JobInfo] = {}
        self._live = LiveJobs()
        self.worker: Worker = Worker(self._from_worker)

    def start(self) -> None:
        """Start the worker thread."""
        if not self.worker.started:
            self.worker.start()

    def _from_worker(self, event: Event) -> None:
        with self._lock:
            info = self._infos.get(event.job_id)
            if info is not None:
                if isinstance(event, JobStarted):
                    info = replace(info, state="running", started=time.time())
                elif type(event) in _ENDS:
                    info = replace(info, state=_ENDS[type(event)], finished=time.time())
                    self._live.forget(event.job_id)
                else:
                    self._live.record(event)
                self._infos[event.job_id] = info
        if self._listener is not None:
            self._listener(event)

    def submit(self, job: Job) -> str:
        """Queue a job on the worker thread."""
        with self._lock:
            self._infos[job.id] = info_of(job)
        return self.worker.submit(job)

    def cancel(self, job_id: str | None = None) -> bool:
        """Cancel a job (None: the one running)."""
        return self.worker.cancel(job_id)

    @property
    def busy(self) -> bool:
        """Whether a job runs or waits."""
        return self.worker.busy

    def info(self, job_id: str) -> JobInfo | None:
        """What is known of a job submitted here."""
        return self._infos.get(job_id)

    def unfinished(self) -> list[JobInfo]:
        """The jobs submitted here that have not ended (they stop with this process)."""
        with self._lock:
            return [info for info in self._infos.values() if not info.ended]

    def list_jobs(self, limit: int = 200) -> list[JobInfo]:
        """This process's jobs: running, queued, then the ended ones newest first."""
        with self._lock:
            infos = [replace(i, progress=self._live.progress(i.id)) for i in self._infos.values()]
        order = {"running": 0, "queued": 1}
        infos.sort(key=lambda i: (order.get(i.state, 2), -(i.finished or i.submitted)))
        return infos[:limit]

    def move(self, job_id: str, delta: int) -> bool:
        """The worker runs jobs in the order given: nothing to move."""
        return False

    def retry(self, job_id: str) -> str | None:
        """Not kept here: an in-process job is gone once it ended."""
        return None

    def stop(self, timeout: float = 2.0) -> None:
        """Cancel what runs, drop what waits, end the thread (waiting up to `timeout`)."""
        self.worker.stop(timeout=timeout)
