"""What a CLIP tokenizer cuts from a text longer than its limit, told to the user in one line.

Shared by generation (the pipeline's text encoder) and scoring (the CLIP model's): both see at
most 77 tokens, and both must say what was dropped rather than ignore it silently.
"""

from __future__ import annotations

from typing import Any


def text_overflow(tokenizer: Any, text: str, limit: int | None = None) -> str:
    """The part of `text` past the tokenizer's limit, which the model never sees ('' if none).

    `limit` defaults to the tokenizer's `model_max_length`; it counts the start and end tokens,
    as truncation does, so the words kept are exactly those of `truncation=True`.
    """
    limit = int(limit if limit is not None else tokenizer.model_max_length)
    ids = tokenizer(text, truncation=False, add_special_tokens=True).input_ids
    if len(ids) <= limit:
        return ""
    # Truncation keeps the start token, limit - 2 words and the end token.
    dropped = tokenizer.decode(ids[limit - 1 : -1], skip_special_tokens=True)
    return str(dropped).strip()


def cut_notice(label: str, limit: int, dropped: str) -> str:
    """The warning shown when `label` (e.g. "prompt") lost `dropped` to the token limit."""
    return f"{label} is longer than CLIP's {limit} tokens; this part was cut: {dropped!r}"
