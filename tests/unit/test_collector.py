"""A full collection (tens of ms with the event loop held) runs when nobody types: never
between two keys, unless garbage has waited very long."""

from __future__ import annotations

import gc

import pytest

from genai_tui.ui.collector import FULL_AFTER, OVERDUE, Collector


class Typist:
    def __init__(self) -> None:
        self.typing = False


@pytest.fixture
def collections(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    done: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: done.append(generation) or 0)
    return done


def young_collections(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setattr(gc, "get_count", lambda: (0, 0, count))


def test_a_due_full_collection_waits_while_keys_come(
    monkeypatch: pytest.MonkeyPatch, collections: list[int]
) -> None:
    typist = Typist()
    collector = Collector(lambda: typist.typing)
    young_collections(monkeypatch, FULL_AFTER - 1)
    collector.tick()
    assert collections == []  # not due yet
    young_collections(monkeypatch, FULL_AFTER)
    typist.typing = True
    collector.tick()
    assert collections == []  # due, but keys come
    typist.typing = False
    collector.tick()
    assert collections == [2]  # the typing paused: everything walked


def test_an_overdue_full_collection_runs_even_while_keys_come(
    monkeypatch: pytest.MonkeyPatch, collections: list[int]
) -> None:
    collector = Collector(lambda: True)
    young_collections(monkeypatch, OVERDUE)
    collector.tick()
    assert collections == [2]


def test_python_collects_everything_again_once_the_app_stops() -> None:
    before = gc.get_threshold()
    collector = Collector(lambda: False)
    collector.start()
    assert gc.get_threshold()[:2] == before[:2]  # the young generations stay Python's
    assert gc.get_threshold()[2] > 10**9
    collector.stop()
    assert gc.get_threshold() == before
