"""The wire between a genai-tui process and the daemon: versioned JSON lines, never pickle.

A message is one line of JSON, an object. Jobs and events travel as their dataclass fields and
are read back by their annotations, so a knob added to the one knob model, a field added to an
event or a new Event subclass crosses the wire with no change here. What JSON cannot hold
travels as: a session as its sessions root and name (the daemon opens its own SessionStore), a
path as text, a record as its session.json form, a preview as base64 PNG, and a float that is
not finite (a loss that diverged) as "nan", "inf" or "-inf".

Reading is strict. An unknown field is refused: a newer genai-tui sent something this one would
drop (a knob: then another image than asked). A missing field takes its default: an older
sender did not know it. Every value is checked against its field's type; whether it is usable
(steps in range, a known sampler) stays the job's own validation, in the worker.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import json
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import BaseModel, ValidationError

from genai_tui.jobs.events import Event
from genai_tui.jobs.specs import Job
from genai_tui.session.models import ImageRecord, LoraRecord
from genai_tui.session.store import SessionStore

PROTOCOL_VERSION: int = 1
"""Bumped on a change a peer of the version before would misread."""

MAX_MESSAGE_BYTES = 64 * 2**20
"""The longest line sent or read, newline included: a guard against a stray or broken peer,
far above any real message (a Progress event with a 64x64 preview of noise: about 17 KB)."""

PREVIEW_SIDE = 256
"""Previews are latent-sized (64x64 for SD 1.5); a larger one is shrunk to fit this square
before it is sent, as it is only a glimpse and up to five go out a second, and none larger is
read."""

OpenStore = Callable[[Path, str], SessionStore]
"""How the reader of a job gets its session: (sessions root, session name) -> an open store."""

_NON_FINITE = ("nan", "inf", "-inf")
"""How a float JSON cannot hold is written (str() of it), in a field whose type is float."""

# events.py and specs.py import these for type checkers only: their annotations name them as text.
_TYPE_CHECKING_NAMES = {
    "Image": Image,
    "ImageRecord": ImageRecord,
    "LoraRecord": LoraRecord,
    "SessionStore": SessionStore,
}


class WireError(ValueError):
    """A message that cannot be read: one line saying what is wrong."""


# --- lines -------------------------------------------------------------------------------------


def encode(message: Mapping[str, Any]) -> bytes:
    """`message` as one line of JSON ending in b"\\n"; WireError for NaN, non-JSON values or a
    line over MAX_MESSAGE_BYTES."""
    try:
        # ensure_ascii (the default) escapes what is not ASCII, so a file name that is not
        # UTF-8 (Python holds it with lone surrogates) still travels and comes back the same.
        text = json.dumps(dict(message), allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as e:
        raise WireError(f"message cannot be written as JSON: {_one_line(e)}") from None
    line = text.encode("ascii") + b"\n"
    if len(line) > MAX_MESSAGE_BYTES:
        raise WireError(_too_long(len(line)))
    return line


def decode(line: bytes) -> dict[str, Any]:
    """The JSON object on `line` (its newline optional); WireError for anything else."""
    if len(line) > MAX_MESSAGE_BYTES:
        raise WireError(_too_long(len(line)))
    try:
        data = json.loads(
            line.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except UnicodeDecodeError as e:
        raise WireError(f"message is not UTF-8 (byte {e.start})") from None
    except WireError:
        raise
    except RecursionError:
        raise WireError("message is nested too deeply") from None
    except json.JSONDecodeError as e:
        raise WireError(f"message is not JSON: {e.msg} at column {e.colno}") from None
    except ValueError as e:  # e.g. an integer of more digits than Python reads
        raise WireError(f"message is not JSON: {_one_line(e)}") from None
    if not isinstance(data, dict):
        raise WireError(f"message is a JSON {_json_kind(data)}, not an object")
    return data


def _refuse_constant(name: str) -> Any:
    raise WireError(f"message holds {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity
        raise WireError(f"message holds {text[:40]}, too large a number")
    return value


def _too_long(size: int) -> str:
    return f"message of {size:,} bytes is over the limit of {MAX_MESSAGE_BYTES:,}"


def _json_kind(data: Any) -> str:
    if isinstance(data, list):
        return "array"
    if isinstance(data, str):
        return "string"
    return "null" if data is None else "boolean" if isinstance(data, bool) else "number"


# --- jobs and events ---------------------------------------------------------------------------


def _kind_of(cls: type[Any]) -> str:
    """A job's name on the wire: GenerateJob -> generate, LoadModelJob -> load_model."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("Job")).lower()


_JOB_KINDS: dict[str, type[Any]] = {_kind_of(cls): cls for cls in typing.get_args(Job)}


def job_to_wire(job: Job) -> dict[str, Any]:
    """`job` as a JSON-ready dict: {"kind": ..., its fields}; the session as root and name."""
    return {"kind": _kind_of(type(job)), **_fields_to_wire(job)}


def job_from_wire(data: Mapping[str, Any], open_store: OpenStore) -> Job:
    """The job `data` describes, its session from `open_store(root, name)`.

    WireError for what is malformed; what open_store raises (SessionError) passes unchanged.
    """
    kind = _tag(data, "kind", "job")
    cls = _JOB_KINDS.get(kind)
    if cls is None:
        raise WireError(f"unknown job kind {_shown(kind)}")
    job: Job = _dataclass_from_wire(cls, _without(data, "kind"), cls.__name__, open_store)
    return job


def event_to_wire(event: Event) -> dict[str, Any]:
    """`event` as a JSON-ready dict: {"type": its class name, its fields}."""
    return {"type": type(event).__name__, **_fields_to_wire(event)}


def event_from_wire(data: Mapping[str, Any]) -> Event:
    """The event `data` describes; WireError for what is malformed."""
    name = _tag(data, "type", "event")
    cls = _EVENT_TYPES.get(name)
    if cls is None:  # a class defined since the last look (walking them takes ~25 µs)
        _EVENT_TYPES.update(_event_types())
        cls = _EVENT_TYPES.get(name)
    if cls is None:
        raise WireError(f"unknown event type {_shown(name)}")
    event: Event = _dataclass_from_wire(cls, _without(data, "type"), name, None)
    return event


def _event_types() -> dict[str, type[Event]]:
    """Every Event class by name, found by walking Event's subclasses: none needs registering."""
    found: dict[str, type[Event]] = {}
    waiting: list[type[Event]] = [Event]
    while waiting:
        cls = waiting.pop()
        # A class of the same name made elsewhere (a test's) never shadows genai-tui's own.
        if cls.__name__ not in found or cls.__module__.startswith("genai_tui."):
            found[cls.__name__] = cls
        waiting.extend(cls.__subclasses__())
    return found


_EVENT_TYPES = _event_types()


def _tag(data: Mapping[str, Any], key: str, what: str) -> str:
    if not isinstance(data, Mapping):
        raise WireError(f"a {what} must be a JSON object (got {_shown(data)})")
    tag = data.get(key)
    if not isinstance(tag, str):
        raise WireError(f'a {what} needs a "{key}" text (got {_shown(tag)})')
    return tag


def _without(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name != key}


# --- values ------------------------------------------------------------------------------------


def _fields_to_wire(obj: Any) -> dict[str, Any]:
    return {f.name: _to_wire(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}


def _to_wire(value: Any) -> Any:
    if value is None or isinstance(value, str | int):  # bool is an int
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, SessionStore):  # absolute: the daemon has a folder of its own
        return {"root": str(value.path.parent.absolute()), "name": value.name}
    if isinstance(value, Image.Image):
        return _png_text(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple | list):
        return [_to_wire(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _to_wire(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields_to_wire(value)
    raise TypeError(f"the wire has no form for a {type(value).__name__}")


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The annotations of `cls`'s fields as types, worked out once per class."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls, localns=_TYPE_CHECKING_NAMES)
    return hints


def _dataclass_from_wire(
    cls: type[Any], data: Any, where: str, open_store: OpenStore | None
) -> Any:
    if not isinstance(data, Mapping):
        raise WireError(f"{where} must be a JSON object (got {_shown(data)})")
    known = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise WireError(f"unknown field {_shown(unknown[0])} in {where} (from a newer genai-tui?)")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for name, item in known.items():
        if name in data:
            values[name] = _from_wire(hints[name], data[name], f"{where}.{name}", open_store)
        elif item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            raise WireError(f"{where} is missing {name!r}")
    return cls(**values)


def _from_wire(hint: Any, value: Any, where: str, open_store: OpenStore | None) -> Any:
    """`value` read as type `hint`; WireError naming `where` when it is not one."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        others = [arg for arg in args if arg is not type(None)]
        if len(others) != 1:  # no field has one yet: it would need a tag to tell them apart
            raise TypeError(f"the wire cannot read a {hint}")
        return _from_wire(others[0], value, where, open_store)
    if origin is typing.Literal:
        if value not in args:
            choices = ", ".join(repr(arg) for arg in args)
            raise WireError(f"{where} must be one of {choices} (got {_shown(value)})")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise WireError(f"{where} must be a JSON array (got {_shown(value)})")
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        elif len(value) != len(args):
            raise WireError(f"{where} must hold {len(args)} items (got {len(value)})")
        return tuple(
            _from_wire(arg, item, f"{where}[{i}]", open_store)
            for i, (arg, item) in enumerate(zip(args, value, strict=True))
        )
    if origin is dict and args[0] is str:
        if not isinstance(value, dict):
            raise WireError(f"{where} must be a JSON object (got {_shown(value)})")
        return {
            key: _from_wire(args[1], item, f"{where}[{key!r}]", open_store)
            for key, item in value.items()
        }
    if hint is str:
        return _text(value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise WireError(f"{where} must be true or false (got {_shown(value)})")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise WireError(f"{where} must be a whole number (got {_shown(value)})")
        return value
    if hint is float:
        return _number(value, where)
    if hint is Path:
        return Path(_text(value, where))
    if hint is Image.Image:
        return _png_image(_text(value, where), where)
    if hint is SessionStore and open_store is not None:
        return _session(value, where, open_store)
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        try:
            return hint.model_validate(value)
        except ValidationError as e:
            problem = e.errors()[0]
            at = ".".join(str(part) for part in problem["loc"])
            raise WireError(f"{where}{'.' * bool(at)}{at}: {problem['msg']}") from None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_from_wire(hint, value, where, open_store)
    raise TypeError(f"the wire cannot read a {hint!r} ({where})")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise WireError(f"{where} must be a text (got {_shown(value)})")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise WireError(f"{where} is too large a number") from None
    if isinstance(value, str) and value in _NON_FINITE:
        return float(value)
    raise WireError(f"{where} must be a number (got {_shown(value)})")


def _session(value: Any, where: str, open_store: OpenStore) -> SessionStore:
    if (
        not isinstance(value, dict)
        or set(value) != {"root", "name"}
        or not all(isinstance(part, str) for part in value.values())
    ):
        raise WireError(f'{where} must be {{"root": folder, "name": text}} (got {_shown(value)})')
    return open_store(Path(value["root"]), value["name"])


_PNG_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "I;16")


def _png_text(image: Image.Image) -> str:
    if image.width > PREVIEW_SIDE or image.height > PREVIEW_SIDE:
        image = image.copy()
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    if image.mode not in _PNG_MODES:
        image = image.convert("RGB")
    buffer = io.BytesIO()
    # Level 1: a preview lives a fraction of a second, so time counts more than bytes
    # (bench/wire_codec.py: 0.7-0.85x the time of level 6, 1.4x the bytes, for a smooth one).
    image.save(buffer, format="PNG", compress_level=1)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _png_image(text: str, where: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(base64.b64decode(text, validate=True)), formats=["PNG"])
    except (binascii.Error, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise WireError(f"{where} is not a base64 PNG: {_one_line(e)}") from None
    if image.width > PREVIEW_SIDE or image.height > PREVIEW_SIDE:
        raise WireError(f"{where} is {image.width}x{image.height}, over a preview's {PREVIEW_SIDE}")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise WireError(f"{where} is a broken PNG: {_one_line(e)}") from None
    return image


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
