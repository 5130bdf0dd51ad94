"""How images can be drawn in this terminal: asked once, before the app starts, and only when
`--images auto` leaves it to the terminal.

textual-image asks the terminal at import time, which costs the first frame its numpy import
and its queries, eats keys typed meanwhile, and crashes on a terminal that reports no size (a
0x0 pty, as some `ssh -t`, container and CI shells give). Here the terminal is asked at most
once, with one round trip (cell size, Kitty graphics, Sixel; DA1 last, which every terminal
answers), what the user typed meanwhile is kept to be put into the prompt, and a terminal
without a size draws half-cell images and says so. textual-image is then imported after the
first frame, told the answers (ui/images.py), and asks nothing itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import struct
import sys
import termios
import time
import tty
from dataclasses import dataclass
from typing import IO, Any

ASK_TIMEOUT = 0.3
"""Seconds to wait for the terminal's answer (over SSH it is one round trip, usually ms)."""

# Kitty's graphics query for a 1x1 image (never shown); A1111-era terminals ignore it.
_KITTY_QUERY = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
_CELL_QUERY = "\x1b[16t"  # xterm: cell size in pixels
_DA1_QUERY = "\x1b[c"  # primary device attributes: 4 among them means Sixel

_DA1 = re.compile(r"\x1b\[\?([\d;]*)c")
_CELL = re.compile(r"\x1b\[6;(\d+);(\d+)t")
_KITTY = re.compile(r"\x1b_Gi=31;([^\x1b]*)\x1b\\")
_ANY_ANSWER = re.compile(r"\x1b(\[[\d;?]*[A-Za-z]|_[^\x1b]*\x1b\\)")


@dataclass(frozen=True)
class TerminalFacts:
    """What the terminal said about itself."""

    tty: bool = False
    """Whether stdout is a terminal at all (under pytest or a pipe it is not)."""
    cell: tuple[int, int] | None = None
    """A cell's width and height in pixels, when known."""
    graphics: str | None = None
    """"sixel" or "tgp" when the terminal can draw real pixels; None: half-cell blocks."""
    typed: str = ""
    """What the user typed while the terminal was asked, for the prompt."""
    note: str = ""
    """One line for the log when something was not as expected."""


def window_size(stream: IO[Any]) -> tuple[int, int, int, int] | None:
    """(rows, columns, width px, height px) of the terminal `stream` is, or None."""
    try:
        packed = fcntl.ioctl(stream.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
    except (OSError, ValueError, AttributeError):
        return None
    rows, columns, width, height = struct.unpack("HHHH", packed)
    return rows, columns, width, height


def cell_from(size: tuple[int, int, int, int] | None) -> tuple[int, int] | None:
    """A cell's pixel size from a window size, when the terminal told its pixels."""
    if size is None:
        return None
    rows, columns, width, height = size
    if not (rows and columns and width and height):
        return None
    return width // columns, height // rows


def look(stream: IO[Any] | None = None) -> TerminalFacts:
    """What can be known without asking: whether this is a terminal, its size, its cell."""
    stream = stream or sys.__stdout__
    if stream is None or not stream.isatty():
        return TerminalFacts()
    size = window_size(stream)
    if size is not None and (size[0] == 0 or size[1] == 0):
        return TerminalFacts(
            tty=True, note="the terminal reports no size (0x0): images are drawn as half-cells"
        )
    return TerminalFacts(tty=True, cell=cell_from(size))


def ask(timeout: float = ASK_TIMEOUT) -> TerminalFacts:
    """Ask the terminal which graphics it draws (and its cell size when unknown), once.

    Only for `--images auto`. Returns what `look` knows when the terminal cannot be asked
    (no size, inside tmux, not a terminal, stdin not a terminal).
    """
    facts = look()
    stdin = sys.__stdin__
    if not facts.tty or facts.note or stdin is None or not stdin.isatty():
        return facts
    if os.environ.get("TMUX"):
        # textual-image 0.12 cannot pass images through tmux: half-cells, without asking.
        return facts
    queries = ("" if facts.cell else _CELL_QUERY) + _KITTY_QUERY + _DA1_QUERY
    answer = _exchange(queries, stdin.fileno(), timeout)
    return _read_answer(answer, facts)


def _exchange(queries: str, fd: int, timeout: float) -> str:
    """Send the queries and read until the DA1 answer (or the timeout); all that came back."""
    out = sys.__stdout__
    assert out is not None
    saved = termios.tcgetattr(fd)
    received = ""
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        out.write(queries)
        out.flush()
        deadline = time.monotonic() + timeout
        while not _DA1.search(received):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            received += os.read(fd, 1024).decode("utf-8", "replace")
    except OSError:
        pass
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, saved)
    return received


def _read_answer(answer: str, facts: TerminalFacts) -> TerminalFacts:
    """Facts from the terminal's answer; anything that is no answer was typed by the user."""
    cell = facts.cell
    if (match := _CELL.search(answer)) is not None:
        cell = (int(match.group(2)), int(match.group(1)))
    graphics = None
    da1 = _DA1.search(answer)
    # Sixel first, as textual-image orders them: terminals that claim both draw Sixel better.
    if da1 is not None and "4" in da1.group(1).split(";"):
        graphics = "sixel"
    elif (kitty := _KITTY.search(answer)) is not None and kitty.group(1) == "OK":
        graphics = "tgp"
    typed = "".join(ch for ch in _ANY_ANSWER.sub("", answer) if ch.isprintable())
    note = "" if da1 is not None else "the terminal did not answer: images drawn as half-cells"
    return TerminalFacts(tty=True, cell=cell, graphics=graphics, typed=typed, note=note)
