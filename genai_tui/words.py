"""How durations, counts and paths read: the same words in the log panel, the screens and the CLI.

Callers use these through the module (`words.duration(...)`), so one change (or a test pinning
them) reaches every place that shows one.
"""

from __future__ import annotations

from pathlib import Path


def duration(seconds: float) -> str:
    """A duration as people read it: "2.4 s" under a minute, then "1:43" and "1:02:03"."""
    if seconds < 59.95:
        return f"{max(0.0, seconds):.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def count(n: int) -> str:
    """A parameter count as people say it: 0.8 M, 860 M, or 3,072."""
    return f"{n / 1e6:.1f} M" if n >= 100_000 else f"{n:,}"


def shown_path(path: Path) -> str:
    """A path as short as it can be said: relative to the working folder, or from ~."""
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        if path.is_relative_to(base):
            return prefix + str(path.relative_to(base))
    return str(path)
