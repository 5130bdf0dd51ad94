"""AUTOMATIC1111's X/Y/Z value lists: CSV values, and for numbers the ranges `1-5`,
`1-10 (+2)` and `1-10 [5]`, read as its scripts/xyz_grid.py reads them. Pure Python."""

from __future__ import annotations

import csv
import math
import re

from genai_tui.engine.errors import BadInput

MAX_VALUES = 10_000
"""No axis holds more values, even with yes: a range like 1-1e9 is refused before it is built."""


def split_values(text: str) -> list[str]:
    """Comma-separated values, read as CSV (quotes keep a comma); each stripped, none empty."""
    rows = list(csv.reader([text], skipinitialspace=True))
    values = [value.strip() for value in (rows[0] if rows else [])]
    if any(not value for value in values):
        raise BadInput(f"an empty value in {text!r}")
    return values


_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_RANGE = re.compile(
    rf"\s*({_NUMBER})\s*-\s*({_NUMBER})\s*(?:\(\s*({_NUMBER})\s*\)|\[\s*(\d+)\s*\])?\s*"
)


def numbers(text: str, integer: bool) -> list[float]:
    """The numbers of a value list, ranges expanded as AUTOMATIC1111 does."""
    found: list[float] = []
    for value in split_values(text):
        match = _RANGE.fullmatch(value)
        if match is None:
            found.append(_number(value, integer))
            continue
        start, end = _number(match.group(1), integer), _number(match.group(2), integer)
        if match.group(4) is not None:
            found += _spaced(start, end, int(match.group(4)), value)
        else:
            step = _number(match.group(3), integer) if match.group(3) else 1.0
            found += _stepped(start, end, step, value)
    # Half up, not Python's half to even: 1-10 [5] is 1, 3, 6, 8, 10 either way, 1-4 [3] 1, 3, 4.
    return [float(math.floor(v + 0.5)) for v in found] if integer else found


def _number(text: str, integer: bool) -> float:
    try:
        value = float(text.replace(" ", ""))
    except ValueError:
        raise BadInput(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise BadInput(f"{text!r} is not a number")
    if integer and not value.is_integer():
        raise BadInput(f"{text!r} is not a whole number")
    return value


def _stepped(start: float, end: float, step: float, text: str) -> list[float]:
    """start, start+step, ... up to end included (when a step lands on it)."""
    if step == 0:
        raise BadInput(f"the range {text!r} has a step of 0")
    # A little slack, so 2-8 (+1.5) ends at 8 despite binary fractions.
    count = math.floor((end - start) / step + 1e-9) + 1
    if count < 1:
        raise BadInput(f"the range {text!r} makes no values", hint="e.g. 1-10 (+2), 10-1 (-2)")
    _check_count(count, text)
    return [tidy(start + i * step) for i in range(count)]


def _spaced(start: float, end: float, count: int, text: str) -> list[float]:
    """`count` values from start to end, both included (numpy's linspace)."""
    if count < 1:
        raise BadInput(f"the range {text!r} makes no values", hint="e.g. 1-10 [5]")
    _check_count(count, text)
    if count == 1:
        return [start]
    gap = (end - start) / (count - 1)
    return [tidy(start + i * gap) for i in range(count - 1)] + [end]


def _check_count(count: int, text: str) -> None:
    if count > MAX_VALUES:
        raise BadInput(f"the range {text!r} makes {count:,} values, over {MAX_VALUES:,}")


def tidy(value: float) -> float:
    return round(value, 8)  # 2 + 4 * 1.5 is 8.0, not 7.999999999


def shown(value: float) -> str:
    return f"{value:.10g}"
