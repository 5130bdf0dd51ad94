"""Leaving on time: after SIGHUP, SIGTERM, ctrl+q or a vanished terminal the process is gone
within EXIT_SECONDS, the session saved first (issue 11, findings 7 and 18).

The app saves the editor state (MainScreen.save_now), tells the worker to stop, and ends
Textual; the worker is given WORKER_GRACE to stop at its next step. A watchdog armed at the
request ends the process at WATCHDOG_SECONDS whatever is still stuck: a model step that runs on,
a terminal that takes no bytes. Ending it there loses nothing the app keeps: session.json, PNGs
and LoRA files are written atomically (session/atomic.py: a write cut short leaves the old file
and a locked temporary the next open removes), a checkpoint is renamed into place whole, and a
training run left "running" is marked interrupted when the session opens again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn

EXIT_SECONDS = 2.0
"""What we promise: from the request to the process gone."""

WORKER_GRACE = 1.0
"""Seconds the worker gets to stop after the request. A step of SD 1.5 on a GPU takes tens of
milliseconds (SDXL a few hundred) and a LoRA checkpoint is a few megabytes, so a generation
stops at its next step and a training run writes its checkpoint well within it; what is left of
EXIT_SECONDS restores the terminal and ends the interpreter. A slower step (a CPU) is not waited
for."""

WATCHDOG_SECONDS = 1.5
"""The hard stop after the request; the rest of EXIT_SECONDS is the kernel freeing the process
(closing its files, a GPU's memory)."""

QUIT = 0
"""The exit code of ctrl+q."""

LEAVING_SIGNALS = (signal.SIGHUP, signal.SIGTERM)


def signal_exit_code(number: int) -> int:
    """The shell's code for a process that ended on signal `number` (129 SIGHUP, 143 SIGTERM)."""
    return 128 + number


def end_process(code: int) -> NoReturn:
    """Leave now, without finalising the interpreter (threads still inside a model)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


class ExitWatchdog:
    """Ends the process `seconds` after it is armed, whatever the rest of it waits on.

    Its thread starts waiting at once; arming writes one byte to a pipe, which is safe in a
    signal handler (no lock that the interrupted code may hold).
    """

    def __init__(self, seconds: float = WATCHDOG_SECONDS) -> None:
        self.seconds = seconds
        self._read, self._write = os.pipe()
        self._thread = threading.Thread(
            target=self._watch, name="genai-tui-exit-watchdog", daemon=True
        )

    def start(self) -> ExitWatchdog:
        self._thread.start()
        return self

    def arm(self, code: int) -> None:
        """End the process with `code` in `seconds` (the first arming counts)."""
        with contextlib.suppress(OSError):
            os.write(self._write, bytes([code & 0xFF]))

    def _watch(self) -> None:
        code = os.read(self._read, 1)[0]
        time.sleep(self.seconds)
        os._exit(code)  # not end_process: flushing a stalled terminal could block here too


def install_exit_signals(on_signal: Callable[[int], None]) -> Callable[[], None]:
    """Call `on_signal(exit code)` on SIGHUP and SIGTERM; returns what puts the old ones back.

    Plain signal handlers, not the event loop's: they run even while the loop is blocked, so
    the watchdog is armed whatever the app is stuck on.
    """

    def handler(number: int, _frame: FrameType | None) -> None:
        on_signal(signal_exit_code(number))

    previous: dict[int, Any] = {}
    for number in LEAVING_SIGNALS:
        # Not possible off the main thread or where the signal does not exist.
        with contextlib.suppress(ValueError, OSError, AttributeError):
            previous[number] = signal.signal(number, handler)

    def restore() -> None:
        for number, old in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(number, old)

    return restore
