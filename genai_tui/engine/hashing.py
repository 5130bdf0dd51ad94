"""A1111-style model hashes (sha256 of the weights file), cached so a 4 GB file is read once."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

_lock = threading.Lock()


def cache_dir() -> Path:
    """Where genai-tui keeps small caches: `GENAI_TUI_CACHE_DIR`, else XDG cache."""
    explicit = os.environ.get("GENAI_TUI_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "genai-tui"


def file_sha256(path: Path) -> str:
    """The full sha256 hex digest of `path`, from the cache when size and mtime still match."""
    stat = path.stat()
    key = str(path.resolve())
    stamp = [stat.st_size, stat.st_mtime_ns]
    cache_file = cache_dir() / "hashes.json"
    with _lock:
        cache = _read_cache(cache_file)
        entry = cache.get(key)
        if isinstance(entry, dict) and entry.get("stamp") == stamp:
            return str(entry["sha256"])
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    value = digest.hexdigest()
    with _lock:
        cache = _read_cache(cache_file)
        cache[key] = {"stamp": stamp, "sha256": value}
        _write_cache(cache_file, cache)
    return value


def short_hash(path: Path) -> str:
    """What A1111 writes as "Model hash": the first 10 hex digits of the sha256."""
    return file_sha256(path)[:10]


def _read_cache(cache_file: Path) -> dict[str, object]:
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a missing or damaged cache only costs a re-hash
    return data if isinstance(data, dict) else {}


def _write_cache(cache_file: Path, cache: dict[str, object]) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=1), encoding="utf-8")
        tmp.replace(cache_file)
    except OSError:
        pass  # a read-only home must not stop generation
