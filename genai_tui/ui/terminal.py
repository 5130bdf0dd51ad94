"""The terminal the app draws on: noticed when it goes away, never waited on for ever.

Textual's Linux driver, changed where a terminal that vanishes under the app (an SSH link that
drops, tmux kill-session, a closed window) used to hang it for good (issue 11, finding 7):

- When a terminal hangs up, the kernel sends SIGCONT along with SIGHUP. Textual took that
  SIGCONT for a return from ctrl+z and started application mode again: a second writer thread,
  which died at its first write on the dead terminal, so its bounded queue filled and the next
  write (at the latest the driver's close) blocked the app for ever. Here SIGCONT resumes only
  after the app suspended itself.
- Textual's writer thread writes through TerminalOutput, which never raises: a write the
  terminal refuses is a hang-up, reported as SIGHUP to this process (so a vanished terminal
  ends the app exactly as SIGHUP does), and everything after it is dropped, so the queue
  always drains.
- TerminalOutput writes on a descriptor of its own, non-blocking: once the app leaves, a
  terminal that takes no bytes (a stalled link) gets LEAVING_WAIT seconds, then nothing more.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import sys
import termios
import time
from typing import TYPE_CHECKING, Any, TextIO, cast

from textual.drivers.linux_driver import LinuxDriver

if TYPE_CHECKING:
    from textual.app import App

LEAVING_WAIT = 0.25
"""Seconds a leaving app waits for a terminal that takes no bytes before it stops writing."""

_POLL_SECONDS = 0.1  # how often a wait for a full terminal looks whether the app is leaving
_CHUNK = 64 * 1024  # bytes buffered before they are written without waiting for a flush


class TerminalOutput:
    """What Textual's writer thread writes to: the terminal, on a descriptor of its own.

    Only the writer thread writes and flushes; `leave` and `probe` may be called from any thread
    (and `leave` from a signal handler: it sets one attribute).
    """

    def __init__(self, fd: int, encoding: str = "utf-8", errors: str = "replace") -> None:
        self._fd = fd
        self._encoding = encoding
        self._errors = errors
        self._pending = bytearray()
        self._leaving_since: float | None = None
        self._dropping = False
        self.gone = False
        """The terminal hung up: nothing written reaches anyone."""

    @classmethod
    def open(cls, stream: TextIO) -> TerminalOutput:
        """An output to the terminal behind `stream`, on a new non-blocking descriptor.

        Non-blocking on a descriptor of its own, so the terminal's other users (the shell after
        us) keep theirs blocking. Where the terminal cannot be opened again (not a terminal, no
        permission), a copy of `stream`'s descriptor, blocking as it was.
        """
        fd = stream.fileno()
        try:
            own = os.open(os.ttyname(fd), os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            own = os.dup(fd)
        return cls(own, stream.encoding or "utf-8", stream.errors or "replace")

    # -- the file interface Textual's WriterThread uses -----------------------------------------

    def write(self, text: str) -> int:
        if not self._dropping:
            self._pending += text.encode(self._encoding, self._errors)
            if len(self._pending) >= _CHUNK:
                self.flush()
        return len(text)

    def flush(self) -> None:
        while self._pending and not self._dropping:
            try:
                written = os.write(self._fd, self._pending)
            except BlockingIOError:
                self._wait_writable()
                continue
            except OSError:
                self._hung_up()
                return
            del self._pending[:written]

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    # -- leaving --------------------------------------------------------------------------------

    def leave(self) -> None:
        """The app is leaving: from now a terminal that takes no bytes is given up on."""
        if self._leaving_since is None:
            self._leaving_since = time.monotonic()

    def stay(self) -> None:
        """Application mode starts (again): write everything, however long it waits."""
        if not self.gone:
            self._leaving_since = None
            self._dropping = False

    def probe(self) -> bool:
        """Whether the terminal is still there; a hung-up one refuses every request (EIO)."""
        if self.gone:
            return False
        try:
            termios.tcgetattr(self._fd)
        except termios.error as error:
            if error.args and error.args[0] == errno.EIO:
                self._hung_up()
                return False
        return True

    def _wait_writable(self) -> None:
        select.select([], [self._fd], [], _POLL_SECONDS)
        since = self._leaving_since
        if since is not None and time.monotonic() - since > LEAVING_WAIT:
            self._drop()

    def _drop(self) -> None:
        self._dropping = True
        self._pending.clear()

    def _hung_up(self) -> None:
        if self.gone:
            return
        self.gone = True
        self._drop()
        # The same exit as SIGHUP, whether or not the kernel sent one to this process (it sends
        # it to the session leader only; a shell in between may not pass it on).
        os.kill(os.getpid(), signal.SIGHUP)


class TerminalDriver(LinuxDriver):
    """Textual's Linux driver that notices a vanished terminal and never blocks on it."""

    def __init__(
        self,
        app: App[Any],
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._suspended = False
        self._app_leaving = False
        self.output = TerminalOutput.open(sys.__stderr__ or sys.stderr)
        # What Textual's writer thread writes to (it uses write, flush and fileno).
        self._file = cast("Any", self.output)

    def leaving(self) -> None:
        """The app is leaving (safe in a signal handler): stop waiting on a stalled terminal."""
        self._app_leaving = True
        self.output.leave()

    def start_application_mode(self) -> None:
        if not self._app_leaving:  # back from ctrl+z: the terminal gets all again
            self.output.stay()
        super().start_application_mode()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        # Textual joins its writer thread here: it ends within LEAVING_WAIT of this, even on a
        # terminal that takes nothing, because the queue drains.
        self.output.leave()
        super().close()

    def _sigtstp_application(self, *args: object) -> None:
        self._suspended = self._auto_restart
        super()._sigtstp_application(*args)

    def _sigcont_application(self, *args: object) -> None:
        # Only a return from our own suspension (a hang-up sends SIGCONT too), and only to a
        # terminal still there (a hang-up while suspended sends both).
        if self._suspended and self.output.probe():
            self._suspended = False
            super()._sigcont_application(*args)
