"""A session, a recording listener and a running worker for job tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from genai_tui.jobs.worker import Worker
from genai_tui.session.store import SessionStore
from tests.fixtures.recorder import Recorder


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore.open(tmp_path / "sessions", "work")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def worker(recorder: Recorder) -> Iterator[Worker]:
    running = Worker(recorder).start()
    yield running
    running.stop()
