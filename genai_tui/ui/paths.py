"""Paths as a person reads them in a terminal."""

from __future__ import annotations

from pathlib import Path


def shown_path(path: Path) -> str:
    """A path as short as it can be said: relative to the working folder, or from ~."""
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        if path.is_relative_to(base):
            return prefix + str(path.relative_to(base))
    return str(path)


def duration(seconds: float) -> str:
    """A duration as the log and the viewer show it ("2.4 s")."""
    return f"{seconds:.1f} s"
