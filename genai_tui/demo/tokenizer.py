"""Make a small CLIP tokenizer offline, from a word list.

Real CLIP ships a 49,408-token BPE vocabulary; a tiny model only needs the bytes (so any text
still tokenizes) plus whole words for the vocabulary it was trained on. The files written are the
ordinary `vocab.json` + `merges.txt`, so `CLIPTokenizer.from_pretrained` loads them like SD's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

START = "<|startoftext|>"
END = "<|endoftext|>"


def _bytes_to_unicode() -> dict[int, str]:
    """The reversible byte -> printable character table that GPT-2 and CLIP BPE use."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes), strict=True))


def write_tokenizer_files(words: Iterable[str], folder: Path) -> tuple[Path, Path]:
    """Write `vocab.json` and `merges.txt` whose BPE turns each of `words` into one token.

    Merges build every word left to right; a word sharing pieces with another may still split in
    two, which is harmless: every piece is in the vocabulary.
    """
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for token in chars + [c + "</w>" for c in chars]:
        vocab.setdefault(token, len(vocab))
    merges: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for word in sorted({w.lower() for w in words if w.strip()}):
        pieces = [*word[:-1], word[-1] + "</w>"]
        left = pieces[0]
        for right in pieces[1:]:
            pair = (left, right)
            left = left + right
            if pair not in seen:
                seen.add(pair)
                merges.append(pair)
                vocab.setdefault(left, len(vocab))
    vocab.setdefault(START, len(vocab))
    vocab.setdefault(END, len(vocab))
    vocab_file = folder / "vocab.json"
    merges_file = folder / "merges.txt"
    vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    lines = ["#version: 0.2", *(f"{a} {b}" for a, b in merges)]
    merges_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return vocab_file, merges_file


def vocabulary_size(folder: Path) -> int:
    """Number of tokens in the vocabulary written to `folder`."""
    return len(json.loads((folder / "vocab.json").read_text(encoding="utf-8")))
