"""The daemon's wire refuses what it cannot read with one line saying what is wrong, so a bad
peer gets an error reply and the daemon lives on."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Any

import pytest

from genai_tui.daemon.codec import (
    MAX_MESSAGE_BYTES,
    WireError,
    decode,
    encode,
    event_from_wire,
    job_to_wire,
)
from genai_tui.jobs.specs import GenerateJob
from genai_tui.session.store import SessionStore
from tests.daemon.test_codec import PARAMS, job_over_wire_from, preview


def generate_wire(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    job = GenerateJob(PARAMS, None, SessionStore.open(tmp_path, "work"))
    wire = job_to_wire(job)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = wire
        for part in parents:
            target = target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return wire


DELETE = object()


def png_text(size: tuple[int, int]) -> str:
    buffer = io.BytesIO()
    preview("red", size).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


BAD_LINES = [
    (b"generate a cat\n", "not JSON"),
    (b"[1, 2]\n", "JSON array, not an object"),
    (b'"hello"\n', "JSON string, not an object"),
    (b'{"prompt": "caf\xe9"}\n', "not UTF-8"),
    (b'{"cfg": NaN}\n', "NaN"),
    (b'{"cfg": -Infinity}\n', "-Infinity"),
    (b'{"cfg": 1e400}\n', "too large a number"),
    (b"[" * 100_000, "nested too deeply"),
]


@pytest.mark.parametrize(("line", "says"), BAD_LINES, ids=[says for _, says in BAD_LINES])
def test_a_bad_line_gets_one_line_saying_what_is_wrong(line: bytes, says: str) -> None:
    with pytest.raises(WireError, match=says) as caught:
        decode(line)
    assert "\n" not in str(caught.value)


BAD_JOBS = [
    ({"kind": "paint"}, "unknown job kind 'paint'"),
    ({"kind": None}, 'needs a "kind" text'),
    ({"params": DELETE}, "GenerateJob is missing 'params'"),
    ({"params__steps": "many"}, r"GenerateJob.params.steps must be a whole number \(got 'many'\)"),
    ({"params__steps": True}, "steps must be a whole number"),
    ({"params__steps": 2.5}, "steps must be a whole number"),
    ({"params__cfg_scale": "7"}, "cfg_scale must be a number"),
    ({"params__cfg_scale": 10**400}, "cfg_scale is too large a number"),
    ({"params__loras": "style"}, "loras must be a JSON array"),
    ({"params__loras": [{"weight": 1}]}, r"loras\[0\] is missing 'name_or_path'"),
    ({"params__sharpness": 3}, r"unknown field 'sharpness' in GenerateJob.params \(from a newer"),
    ({"priority": "high"}, "unknown field 'priority' in GenerateJob"),
    ({"session": "work"}, 'session must be {"root": folder, "name": text}'),
    ({"session__root": 5}, "session must be"),
    ({"load": None}, "GenerateJob.load must be a JSON object"),
]


@pytest.mark.parametrize(("changes", "says"), BAD_JOBS, ids=[says for _, says in BAD_JOBS])
def test_a_bad_job_gets_one_line_saying_what_is_wrong(
    tmp_path: Path, changes: dict[str, Any], says: str
) -> None:
    wire = generate_wire(tmp_path, **changes)
    with pytest.raises(WireError, match=says) as caught:
        job_over_wire_from(wire)
    assert "\n" not in str(caught.value)


BAD_EVENTS = [
    ({"type": "Exploded", "job_id": "j"}, "unknown event type 'Exploded'"),
    ({"job_id": "j"}, 'needs a "type" text'),
    ({"type": "JobFinished", "job_id": "j"}, "JobFinished is missing 'seconds'"),
    ({"type": "JobFinished", "job_id": "j", "seconds": 1, "cost": 2}, "unknown field 'cost'"),
    ({"type": "JobWarning", "job_id": 7, "message": "m"}, "JobWarning.job_id must be a text"),
    ({"type": "ImageReady", "job_id": "j", "record": {}, "path": "/p"}, "ImageReady.record.file"),
    ({"type": "ImagesScored", "job_id": "j", "records": [], "scores": []}, "scores must be a JSON"),
    ({"type": "Progress", "job_id": "j", "step": 1, "total": 2, "elapsed": 0.1, "previews": ["x"]},
     r"previews\[0\] is not a base64 PNG"),
    ({"type": "Progress", "job_id": "j", "step": 1, "total": 2, "elapsed": 0.1,
      "previews": [png_text((300, 8))]}, "is 300x8, over a preview's 256"),
]  # fmt: skip


@pytest.mark.parametrize(("wire", "says"), BAD_EVENTS, ids=[says for _, says in BAD_EVENTS])
def test_a_bad_event_gets_one_line_saying_what_is_wrong(wire: dict[str, Any], says: str) -> None:
    with pytest.raises(WireError, match=says) as caught:
        event_from_wire(decode(encode(wire)))
    assert "\n" not in str(caught.value)


def test_a_line_over_the_limit_is_refused_unread() -> None:
    with pytest.raises(WireError, match="over the limit"):
        decode(b" " * MAX_MESSAGE_BYTES + b"{}")


def test_a_nan_is_never_written_and_an_overlong_message_never_sent() -> None:
    with pytest.raises(WireError, match="cannot be written as JSON"):
        encode({"cfg": math.nan})
    with pytest.raises(WireError, match="over the limit"):
        encode({"prompt": "x" * MAX_MESSAGE_BYTES})
