"""The terminal output and driver: a vanished or stalled terminal never holds the app.

Issue 11, finding 7: a hang-up's SIGCONT restarted Textual's application mode on the dead
terminal, and a writer that failed once left a full queue that blocked the app for ever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

import pytest
from textual.app import App
from textual.drivers.linux_driver import LinuxDriver

from genai_tui.ui.terminal import LEAVING_WAIT, TerminalDriver, TerminalOutput


@pytest.fixture
def hangups() -> Iterator[list[int]]:
    """The SIGHUPs this process receives while the test runs."""
    seen: list[int] = []

    def record(number: int, _frame: FrameType | None) -> None:
        seen.append(number)

    previous = signal.signal(signal.SIGHUP, record)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGHUP, previous)


@pytest.fixture
def terminal() -> Iterator[tuple[int, TerminalOutput]]:
    """A pseudo-terminal's master and an output to its slave side (as the app has it)."""
    master, slave = os.openpty()
    stream = os.fdopen(slave, "w", encoding="utf-8")
    output = TerminalOutput.open(stream)
    try:
        yield master, output
    finally:
        stream.close()
        os.close(output.fileno())
        with contextlib.suppress(OSError):  # closed by the test already
            os.close(master)


def wait_for(condition: Callable[[], object], seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_vanished_terminal_is_a_hang_up_not_an_error(
    terminal: tuple[int, TerminalOutput], hangups: list[int]
) -> None:
    master, output = terminal
    output.write("drawn\n")
    output.flush()
    assert os.read(master, 100).startswith(b"drawn")
    os.close(master)  # the terminal goes away (an SSH drop)

    output.write("the next frame")
    output.flush()  # no error: the writer thread must live on and drain its queue
    wait_for(lambda: hangups)
    assert output.gone
    assert hangups == [signal.SIGHUP]
    output.write("more")
    output.flush()
    assert hangups == [signal.SIGHUP]  # said once


def test_a_hung_up_terminal_is_found_without_a_write(
    terminal: tuple[int, TerminalOutput], hangups: list[int]
) -> None:
    master, output = terminal
    assert output.probe()
    os.close(master)
    assert not output.probe()
    wait_for(lambda: hangups)
    assert hangups == [signal.SIGHUP]


def test_a_stalled_terminal_is_waited_for_until_the_app_leaves(
    terminal: tuple[int, TerminalOutput],
) -> None:
    _master, output = terminal  # nobody reads the master: the terminal's buffer fills
    done = threading.Event()

    def writer() -> None:
        output.write("x" * 1_000_000)
        output.flush()
        done.set()

    threading.Thread(target=writer, daemon=True).start()
    assert not done.wait(0.5), "output was dropped while the app still runs"
    left = time.monotonic()
    output.leave()
    assert done.wait(2.0), "a leaving app waited on a stalled terminal"
    assert time.monotonic() - left < LEAVING_WAIT + 0.5


async def test_sigcont_from_a_hang_up_does_not_restart_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    starts: list[object] = []
    monkeypatch.setattr(LinuxDriver, "start_application_mode", starts.append)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGTSTP, signal.SIGCONT)}
    try:
        TerminalDriver(App())  # puts its SIGTSTP and SIGCONT handlers in place
        os.kill(os.getpid(), signal.SIGCONT)  # what a hang-up sends along with SIGHUP
        time.sleep(0.05)  # the handler runs on this (the main) thread
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert starts == []
