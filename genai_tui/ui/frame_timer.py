"""Textual's timers, made to tick at their next period after falling behind, not one later.

A screen draws on a 60 Hz timer that pauses when nothing changed and resumes on the next
change (a key, a progress step). The resumed tick draws at once; then the timer has fallen
behind its schedule, and its catch-up in Textual 7.0-8.2 (`Timer._run`) counts one period too
many: the next tick comes 17-33 ms later instead of within 17. A key typed just after any frame
drawn from a pause (every progress step drawn while a job runs) waited that long for its echo:
the first key typed during each generation, 6 of the slowest 18 of 360 in
`bench/daemon_bench.py keys --pinned`.

`tick_on_time()` swaps in the same loop with the count fixed, only over the `_run` it was
written against (its source's digest): another Textual's is left alone, and
tests/ui/test_frame_timer.py then says whether that one still ticks late.
"""

from __future__ import annotations

import hashlib
import inspect

from textual import _time
from textual.timer import EventTargetGone, Timer

STOCK_RUN = Timer._run
"""Textual's own (kept for the tests, which compare with it)."""

KNOWN_RUN = "60c942a84c1a8765"
"""The first 16 hex digits of sha256 of `Timer._run`'s source in Textual 7.0.0 to 8.2.8."""


async def _run_on_time(self: Timer) -> None:
    """Timer._run, with a timer that fell behind due at its next period."""
    interval = self._interval
    self._active  # noqa: B018 (Textual makes its asyncio.Event here, in the timer's loop)
    await self._active.wait()
    start = _time.get_time()
    count = 0  # ticks due so far: tick n is due at start + n * interval
    while self._repeat is None or count <= self._repeat:
        now = _time.get_time()
        due = start + (count + 1) * interval
        if self._skip and due < now:
            count = int((now - start) / interval)  # the periods gone by, skipped
            if self._repeat is not None and count > self._repeat:
                break
            due = start + (count + 1) * interval
        await _time.sleep(max(0.0, due - now))
        count += 1
        await self._active.wait()
        if self._reset:
            start, count, self._reset = _time.get_time(), 0, False
            continue
        try:
            await self._tick(next_timer=due, count=count)
        except EventTargetGone:
            break


def _digest(function: object) -> str:
    source = inspect.getsource(function)  # type: ignore[arg-type]
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def tick_on_time() -> bool:
    """Fix Textual's timer catch-up for this process; False where its `_run` is not the one
    this was written against (left as it is). Idempotent."""
    if Timer._run is _run_on_time:
        return True
    try:
        known = _digest(STOCK_RUN) == KNOWN_RUN
    except (OSError, TypeError):  # no source on disk (a frozen build): leave it
        return False
    if known:
        Timer._run = _run_on_time  # type: ignore[method-assign]
    return known
