"""What the terminal says about drawing images: read without textual-image asking anything."""

from __future__ import annotations

import fcntl
import os
import struct
import termios
from collections.abc import Iterator

import pytest

from genai_tui.ui.graphics import TerminalFacts, _read_answer, look
from genai_tui.ui.images import image_widget_class


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal (master, slave)."""
    master, slave = os.openpty()
    yield master, slave
    os.close(master)
    os.close(slave)


def set_size(fd: int, rows: int, columns: int, width: int = 0, height: int = 0) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, width, height))


def test_a_terminal_that_reports_no_size_draws_half_cells_and_says_so(
    terminal: tuple[int, int],
) -> None:
    _master, slave = terminal
    set_size(slave, 0, 0)
    with os.fdopen(os.dup(slave), "w") as stream:
        facts = look(stream)
    assert facts.tty and facts.graphics is None and "no size" in facts.note
    # The widget class loads (textual-image's own cell-size code divides by the column count).
    assert image_widget_class("auto", facts).__name__ == "HalfcellImage"


def test_the_cell_size_comes_from_the_terminals_pixels(terminal: tuple[int, int]) -> None:
    _master, slave = terminal
    set_size(slave, 40, 120, 1200, 800)
    with os.fdopen(os.dup(slave), "w") as stream:
        assert look(stream).cell == (10, 20)


def test_answers_are_read_and_keys_typed_meanwhile_are_kept() -> None:
    before = TerminalFacts(tty=True)
    sixel = _read_answer("ab\x1b[6;20;10t\x1b[?62;4;22cc", before)
    assert (sixel.graphics, sixel.cell, sixel.typed, sixel.note) == ("sixel", (10, 20), "abc", "")
    kitty = _read_answer("\x1b_Gi=31;OK\x1b\\\x1b[?62;22c", before)
    assert kitty.graphics == "tgp" and kitty.typed == ""
    neither = _read_answer("\x1b_Gi=31;ENOTSUPPORTED\x1b\\\x1b[?1;2c", before)
    assert neither.graphics is None
    silent = _read_answer("x", before)
    assert silent.graphics is None and silent.typed == "x" and "did not answer" in silent.note


def test_a_named_mode_takes_its_class_whatever_the_terminal() -> None:
    assert image_widget_class("halfcell").__name__ == "HalfcellImage"
    assert image_widget_class("tgp").__name__ == "TGPImage"
    assert image_widget_class("auto").__name__ == "UnicodeImage"  # not a terminal (pytest)
