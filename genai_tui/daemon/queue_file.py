"""The queue's SQLite file: its schema, and opening it without harm to what is there.

Durability: WAL with synchronous=FULL. WAL alone already survives the process being killed
(even kill -9): a commit has been written to the WAL file, in the OS's cache, before it returns.
NORMAL would skip the fsync of each commit, so an OS crash or power cut could roll back the last
jobs whose submit had been acknowledged. Jobs arrive at a person's pace and run for seconds to
hours, so one fsync per change is a cost nobody notices, and "recorded when submitted" then
holds across power cuts too.

A file that is not a queue, a damaged one, or one from a newer genai-tui is refused with a
QueueError and never written: the user decides what becomes of it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from genai_tui.daemon.queue_errors import damaged, refused_newer, sqlite_failed

QUEUE_FILE = "queue.sqlite3"
"""The queue's file name, in the sessions root."""

STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
FINISHED = ("done", "failed", "cancelled", "interrupted")
"""The states a job ends in; only these are pruned."""

SCHEMA_VERSION = 1
"""Kept in PRAGMA user_version; a file with a larger one is refused and left as it is."""

BUSY_SECONDS = 10.0
"""How long a call waits for another process's write before it gives up."""

_SCHEMA = f"""
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    session_root TEXT NOT NULL,
    session TEXT,
    spec TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN {STATES!r}),
    position INTEGER NOT NULL,
    device TEXT,
    submitted REAL NOT NULL,
    started REAL,
    finished REAL,
    summary TEXT NOT NULL DEFAULT '{{}}',
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_by_state ON jobs (state, position, submitted);
PRAGMA user_version = {SCHEMA_VERSION};
"""


def open_queue_file(path: Path) -> sqlite3.Connection:
    """A connection to the queue file at `path`, checked, in WAL, with the schema made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise sqlite_failed(path, "create its folder", e) from e
    try:
        # isolation_level=None: no implicit transactions; each change says BEGIN itself.
        db = sqlite3.connect(
            path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as e:
        raise sqlite_failed(path, "open it", e) from e
    try:
        _prepare(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _prepare(db: sqlite3.Connection, path: Path) -> None:
    """Check the file before anything writes to it, then switch on WAL and the schema."""
    try:
        # Reading the header is the first touch: a file that is not SQLite fails here,
        # and so far nothing has been written.
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise refused_newer(path, version, SCHEMA_VERSION)
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise damaged(path, str(check))  # QueueError makes it one line
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        if version < SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have made the schema while we waited for the lock.
                if int(db.execute("PRAGMA user_version").fetchone()[0]) == 0:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            db.execute(statement)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
    except sqlite3.Error as e:
        raise sqlite_failed(path, "open it", e) from e
