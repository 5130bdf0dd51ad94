"""The daemon's durable job queue: every job recorded in SQLite when it is submitted.

A daemon that dies loses no queued job, and never silently re-runs the one it was running: the
next daemon marks that one `interrupted` (recover) and keeps the queued ones. Finished jobs stay
listable until pruned by age.

Durability and a file that is not a queue: daemon/queue_file.py.

Concurrency: one connection behind a lock, so the daemon's asyncio thread and its worker threads
may all call it; every change is one `BEGIN IMMEDIATE` transaction, so two workers never claim
the same job, and a second process (`genai-tui jobs` reading the file) waits up to
BUSY_SECONDS (daemon/queue_file.py) for a writer instead of failing.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_tui.daemon.queue_errors import QueueError, damaged, sqlite_failed
from genai_tui.daemon.queue_file import FINISHED, QUEUE_FILE, STATES, open_queue_file

__all__ = ["FINISHED", "QUEUE_FILE", "STATES", "JobQueue", "QueueError", "QueuedJob"]

INTERRUPTED = "the daemon stopped while it ran"

_COLUMNS = (
    "id, kind, title, session_root, session, spec, state, position, device, submitted, "
    "started, finished, summary, error"
)

# Running first (oldest first), then queued in the order they will run, then finished newest
# first; rowid breaks ties so the order never changes between two calls.
_LIST_ORDER = (
    "CASE state WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END, "
    "CASE state WHEN 'running' THEN started WHEN 'queued' THEN position ELSE -finished END, "
    "submitted, rowid"
)


@dataclass(frozen=True)
class QueuedJob:
    """One job as the queue records it."""

    id: str
    kind: str
    """What the job does, as the wire codec names it (generate, train, score...)."""
    title: str
    """One line a person reads about the job."""
    session_root: str
    session: str | None
    """The session it writes into; None for a job that writes none."""
    spec: dict[str, Any]
    """The job as the wire codec writes it (a JSON object)."""
    state: str
    """One of STATES."""
    position: int
    """Order among queued jobs: lower runs first. An order key, not a place in line (gaps)."""
    device: str | None
    """The worker (device) it is pinned to, or ran on; None: any."""
    submitted: float
    """Epoch seconds, like started and finished."""
    started: float | None
    finished: float | None
    summary: dict[str, Any]
    """What it made (e.g. {"images": [...], "lora": "..."}); {} until it finishes."""
    error: str
    """One line when it failed or was interrupted; '' otherwise."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


class JobQueue:
    """The queue file at `path` (normally <sessions root>/QUEUE_FILE); every method is
    thread-safe. `clock` gives epoch seconds (tests pass their own)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = open_queue_file(self.path)

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def _reading(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as e:
                raise sqlite_failed(self.path, what, e) from e

    @contextmanager
    def _writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction: all of it is recorded, or none (the file as before)."""
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        # SQLite may have rolled back already; the first error is what to tell.
                        with suppress(sqlite3.Error):
                            db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                raise sqlite_failed(self.path, what, e) from e

    def _row(self, db: sqlite3.Connection, job_id: str) -> QueuedJob | None:
        row = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else self._job(row)

    def _job(self, row: Sequence[Any]) -> QueuedJob:
        try:
            spec, summary = json.loads(row[5]), json.loads(row[12])
        except ValueError as e:
            raise damaged(self.path, f"job {row[0]}: {e}") from e
        return QueuedJob(
            id=row[0],
            kind=row[1],
            title=row[2],
            session_root=row[3],
            session=row[4],
            spec=spec,
            state=row[6],
            position=row[7],
            device=row[8],
            submitted=row[9],
            started=row[10],
            finished=row[11],
            summary=summary,
            error=row[13],
        )

    # -- the queue -------------------------------------------------------------------------

    def add(
        self,
        job_id: str,
        kind: str,
        title: str,
        spec: Mapping[str, Any],
        *,
        session_root: str,
        session: str | None,
        device: str | None = None,
    ) -> QueuedJob:
        """Record a job, queued last; when this returns, the job is on disk."""
        encoded = _encode(job_id, "spec", spec)
        with self._writing(f"record job {job_id}") as db:
            if db.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone():
                raise QueueError(f"a job {job_id} is already in the queue", "submit it again")
            position = int(
                db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM jobs").fetchone()[0]
            )
            db.execute(
                "INSERT INTO jobs (id, kind, title, session_root, session, spec, state, position,"
                " device, submitted) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
                (
                    job_id,
                    kind,
                    title,
                    session_root,
                    session,
                    encoded,
                    position,
                    device,
                    self._clock(),
                ),
            )
            job = self._row(db, job_id)
        assert job is not None
        return job

    def claim_next(self, device: str, *, devices: Sequence[str] = ()) -> QueuedJob | None:
        """The first queued job (by position, then submit time) the worker on `device` may run,
        now marked running on it; None when there is none.

        A worker runs jobs pinned to its device and unpinned ones; a job pinned to another
        device waits for that worker, and the jobs behind it go on. `devices`, when given, names
        every worker the daemon runs: a job pinned to a device none of them is (a GPU gone since
        it was queued) is then claimed by any worker rather than waiting forever.
        """
        where = "state = 'queued' AND (device IS NULL OR device = ?"
        params: list[str] = [device]
        if devices:
            known = [device, *devices]
            where += f" OR device NOT IN ({', '.join('?' * len(known))})"
            params += known
        where += ")"
        with self._writing(f"give a job to {device}") as db:
            row = db.execute(
                f"SELECT id FROM jobs WHERE {where} ORDER BY position, submitted LIMIT 1", params
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'running', started = ?, device = ? WHERE id = ?",
                (self._clock(), device, row[0]),
            )
            return self._row(db, row[0])

    def finish(
        self,
        job_id: str,
        state: str,
        *,
        summary: Mapping[str, Any] | None = None,
        error: str = "",
    ) -> QueuedJob:
        """Record how a running (or queued) job ended: `state` is one of FINISHED, `summary`
        what it made, `error` one line why it failed. A job already finished is refused."""
        if state not in FINISHED:
            raise ValueError(f"a job cannot finish as {state!r}; one of {FINISHED}")
        encoded = _encode(job_id, "summary", summary or {})
        with self._writing(f"record how job {job_id} ended") as db:
            job = self._row(db, job_id)
            if job is None:
                raise QueueError(f"there is no job {job_id} in the queue")
            if job.state in FINISHED:
                raise QueueError(f"job {job_id} has already ended ({job.state})")
            db.execute(
                "UPDATE jobs SET state = ?, finished = ?, summary = ?, error = ? WHERE id = ?",
                (state, self._clock(), encoded, _one_line(error), job_id),
            )
            job = self._row(db, job_id)
        assert job is not None
        return job

    def cancel_queued(self, job_id: str) -> bool:
        """A queued job becomes cancelled; False when it is not queued (running, ended, gone)."""
        with self._writing(f"cancel job {job_id}") as db:
            changed = db.execute(
                "UPDATE jobs SET state = 'cancelled', finished = ?"
                " WHERE id = ? AND state = 'queued'",
                (self._clock(), job_id),
            ).rowcount
        return changed == 1

    def move(self, job_id: str, delta: int) -> bool:
        """Move a queued job `delta` places among the queued jobs (-1: one earlier, +1: one
        later), stopping at either end; False when it is not queued or cannot move that way."""
        with self._writing(f"move job {job_id}") as db:
            rows = db.execute(
                "SELECT id, position FROM jobs WHERE state = 'queued' ORDER BY position, submitted"
            ).fetchall()
            order = [row[0] for row in rows]
            if job_id not in order:
                return False
            start = order.index(job_id)
            end = min(max(start + delta, 0), len(order) - 1)
            if end == start:
                return False
            order.insert(end, order.pop(start))
            # The same position values, handed out again in the new order: only the span between
            # the old and new place changes.
            for place in range(min(start, end), max(start, end) + 1):
                db.execute(
                    "UPDATE jobs SET position = ? WHERE id = ?", (rows[place][1], order[place])
                )
        return True

    def get(self, job_id: str) -> QueuedJob | None:
        """The job with this id, or None."""
        with self._reading(f"read job {job_id}") as db:
            return self._row(db, job_id)

    def list(
        self, *, states: Sequence[str] | None = None, limit: int = 200
    ) -> builtins.list[QueuedJob]:
        """Jobs (of `states`, all when None): running first, then queued in the order they will
        run, then ended ones newest first; at most `limit`."""
        if states is not None and (unknown := set(states) - set(STATES)):
            raise ValueError(f"unknown job states {sorted(unknown)}; states are {STATES}")
        if states is not None and not states:
            return []
        where = "" if states is None else f"WHERE state IN ({', '.join('?' * len(states))})"
        with self._reading("list jobs") as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM jobs {where} ORDER BY {_LIST_ORDER} LIMIT ?",
                [*(states or ()), limit],
            ).fetchall()
            return [self._job(row) for row in rows]

    def recover(self) -> builtins.list[QueuedJob]:
        """At daemon start: every job left running becomes interrupted (never re-run silently);
        queued ones stay queued. Returns the interrupted jobs."""
        with self._writing("mark its running jobs interrupted") as db:
            ids = [row[0] for row in db.execute("SELECT id FROM jobs WHERE state = 'running'")]
            db.execute(
                "UPDATE jobs SET state = 'interrupted', finished = ?, error = ?"
                " WHERE state = 'running'",
                (self._clock(), INTERRUPTED),
            )
            jobs = [self._row(db, job_id) for job_id in ids]
        return [job for job in jobs if job is not None]

    def prune(self, older_than_seconds: float) -> int:
        """Delete jobs that ended more than `older_than_seconds` ago; returns how many."""
        cutoff = self._clock() - older_than_seconds
        with self._writing("forget old jobs") as db:
            return db.execute(
                f"DELETE FROM jobs WHERE state IN ({', '.join('?' * len(FINISHED))})"
                " AND finished < ?",
                (*FINISHED, cutoff),
            ).rowcount

    def close(self) -> None:
        """Close the file (the WAL is folded back into it when no one else has it open)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> JobQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _encode(job_id: str, what: str, value: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(value), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise QueueError(
            f"job {job_id}: its {what} is not plain JSON ({e})", "this is a bug: please report it"
        ) from e
