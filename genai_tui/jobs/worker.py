"""The one long-lived thread that owns the GPU: runs jobs one at a time, reports by events.

Nothing else touches a model. Every exception a job raises becomes a JobFailed event; the
thread itself never dies from a job. It waits on its queue with a timeout so exit is prompt.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from genai_tui.engine.errors import Cancelled
from genai_tui.jobs.events import Event, JobCancelled, JobFailed, JobFinished, JobStarted
from genai_tui.jobs.hints import describe, is_out_of_memory
from genai_tui.jobs.models_cache import ModelCache

if TYPE_CHECKING:
    # The specs name session stores (pydantic): an app draws its first frame before those load.
    from genai_tui.jobs.specs import Job

Listener = Callable[[Event], None]

_POLL_SECONDS = 0.1


class Worker:
    """Runs submitted jobs on its own thread and sends every outcome to `listener`."""

    def __init__(self, listener: Listener) -> None:
        self._listener = listener
        self._queue: queue.Queue[Job] = queue.Queue()
        self._exit = threading.Event()
        self._lock = threading.Lock()
        self._cancelled: set[str] = set()
        self._current: Job | None = None
        self._current_cancel = threading.Event()
        self.models = ModelCache()
        self._thread = threading.Thread(target=self._run, name="genai-tui-worker", daemon=True)

    @property
    def started(self) -> bool:
        """Whether `start` was called (a thread starts once)."""
        return self._thread.ident is not None

    def start(self) -> Worker:
        """Start the thread; returns self so `Worker(listener).start()` reads well."""
        self._thread.start()
        return self

    def submit(self, job: Job) -> str:
        """Queue a job; returns its id."""
        self._queue.put(job)
        return job.id

    @property
    def busy(self) -> bool:
        """Whether a job is running or waiting."""
        return self._current is not None or not self._queue.empty()

    @property
    def current_job(self) -> Job | None:
        """The job running now, if any."""
        return self._current

    def cancel(self, job_id: str | None = None) -> bool:
        """Cancel a job by id (the running one when None); True if there was one to cancel."""
        with self._lock:
            current = self._current
            if job_id is None or (current is not None and current.id == job_id):
                if current is None:
                    return False
                self._current_cancel.set()
                return True
            self._cancelled.add(job_id)
            return True

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel what runs, drop what waits, and end the thread; waits up to `timeout` for it
        (0: not at all, the thread ends at the job's next cancel check)."""
        self._exit.set()
        self._current_cancel.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job runs or waits (for the CLI and tests); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.busy:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _emit(self, event: Event) -> None:
        try:
            self._listener(event)
        except Exception:
            traceback.print_exc()

    def _run(self) -> None:
        while not self._exit.is_set():
            try:
                job = self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            with self._lock:
                skipped = job.id in self._cancelled
                self._cancelled.discard(job.id)
                self._current_cancel = threading.Event()
                self._current = job
            try:
                skip = skipped or self._exit.is_set()
                end = JobCancelled(job.id) if skip else self._run_one(job)
            finally:
                with self._lock:
                    self._current = None
            # Sent once the job is no longer current: whoever sees the end sees `busy` right.
            self._emit(end)
        self.models.release()

    def _run_one(self, job: Job) -> JobCancelled | JobFailed | JobFinished:
        """Run `job`, streaming its events; return the event that ends it (not yet sent)."""
        from genai_tui.jobs.context import JobContext
        from genai_tui.jobs.runners import run_job

        started = time.perf_counter()
        self._emit(JobStarted(job.id, job.title))
        try:
            session = getattr(job, "session", None)
            run_job(job, JobContext(job.id, session, self.models, self._emit, self._current_cancel))
        except Cancelled:
            return JobCancelled(job.id)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            if is_out_of_memory(exc):
                self.models.free_memory()
            kind, error, hint = describe(exc)
            return JobFailed(job.id, kind, error, hint, traceback.format_exc())
        return JobFinished(job.id, time.perf_counter() - started)
