"""Keys first: preview frames wait while the user types.

Drawing a preview frame holds the UI thread for tens of milliseconds (a pane of half-cell,
Sixel or Kitty pixels); landing between two keys it is what a typist feels as lag (the daemon's
key-latency bench saw p95 56 ms while generating against 7 ms idle). So while keys come, the
progress bar and step count move but new frames are skipped; the next frame after a pause of
QUIET_SECONDS is drawn, and a finished image always is.
"""

from __future__ import annotations

import time

QUIET_SECONDS = 0.3
"""How long after the last key frames are drawn again (a typing burst's gaps are shorter)."""

_last_key = float("-inf")


def key_pressed() -> None:
    """The app saw a key (called for every key, before any widget has it)."""
    global _last_key
    _last_key = time.monotonic()


def typing() -> bool:
    """Whether a key came within the last QUIET_SECONDS."""
    return time.monotonic() - _last_key < QUIET_SECONDS
