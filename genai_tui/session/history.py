"""The prompt history's one rule, kept by the session and shown by the prompt editor alike."""

from __future__ import annotations

PROMPT_HISTORY_LIMIT = 500
"""Prompts kept in a session's history; the oldest go first."""


def remembered(history: list[str], prompt: str, limit: int = PROMPT_HISTORY_LIMIT) -> list[str]:
    """The history with `prompt` put at its end, once.

    A prompt that is empty (or only spaces) is not kept; an identical earlier entry moves to
    the end; only the newest `limit` prompts are kept.
    """
    if not prompt.strip():
        return list(history)
    return [*(p for p in history if p != prompt), prompt][-limit:]
