"""What a generated PNG carries: A1111 "parameters" text and our own JSON record.

The "parameters" text lets A1111's PNG Info, Civitai and ComfyUI read an image made here; the
"genai-tui" chunk holds the full `ImageRecord`, so an image copied out of its session still says
exactly how it was made.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, PngImagePlugin, UnidentifiedImageError
from pydantic import ValidationError

from genai_tui.session.atomic import write_atomically
from genai_tui.session.models import ImageRecord

PARAMETERS_KEY = "parameters"
"""The text chunk A1111's PNG Info reads."""

RECORD_KEY = "genai-tui"
"""The iTXt chunk holding the image's full `ImageRecord` as JSON."""

_NEGATIVE_PREFIX = "Negative prompt:"

# A1111's own reader (modules/infotext_utils.py), so both count "key: value" pairs alike.
_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


class PngRecordError(ValueError):
    """A PNG whose genai-tui record (or whose structure) cannot be read."""


def _format_number(value: float) -> str:
    # repr keeps every digit (7.25 stays 7.25); A1111 writes whole numbers without ".0".
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _quote(value: str) -> str:
    # Beyond A1111's rule (",", ":", newline) we also quote what its reader would otherwise
    # change: surrounding spaces (stripped) and a leading quote (taken for JSON).
    if any(c in value for c in ",:\n\r") or value != value.strip() or value.startswith('"'):
        return json.dumps(value, ensure_ascii=False)
    return value


def _unquote(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    try:
        loaded = json.loads(value)
    except ValueError:
        return value
    return loaded if isinstance(loaded, str) else value


def a1111_parameters(
    record: ImageRecord,
    app_version: str,
    lora_hashes: dict[str, str] | None = None,
    sampler_names: tuple[str, str] | None = None,
) -> str:
    """The A1111 "parameters" text of an image: prompt, negative prompt and one line of settings.

    `lora_hashes` maps a LoRA's name to its hash; only the first 12 hex digits are written, as
    A1111 does. `sampler_names` are the "Sampler" and "Schedule type" A1111 knows the record's
    sampler by (the engine's `infotext_names`; a "" type is left out); without them the record's
    own name is written, with no schedule type. Prompts are written as they are; a prompt line
    that itself starts with "Negative prompt:" cannot be told apart by any reader of this format.
    """
    sampler, schedule = sampler_names or (record.scheduler, "")
    pairs: list[tuple[str, str]] = [("Steps", str(record.steps)), ("Sampler", sampler)]
    if schedule:
        pairs.append(("Schedule type", schedule))
    pairs += [
        ("CFG scale", _format_number(record.cfg_scale)),
        ("Seed", str(record.seed)),
        ("Size", f"{record.width}x{record.height}"),
    ]
    if record.model_hash:
        pairs.append(("Model hash", record.model_hash))
    if record.model_name:
        pairs.append(("Model", record.model_name))
    if record.clip_skip > 1:
        pairs.append(("Clip skip", str(record.clip_skip)))
    if lora_hashes:
        pairs.append(
            ("Lora hashes", ", ".join(f"{name}: {h[:12]}" for name, h in lora_hashes.items()))
        )
    pairs.append(("Version", f"genai-tui {app_version}"))

    settings = ", ".join(f"{key}: {_quote(value)}" for key, value in pairs)
    negative = f"\n{_NEGATIVE_PREFIX} {record.negative_prompt}" if record.negative_prompt else ""
    return f"{record.prompt}{lora_tags(record)}{negative}\n{settings}"


def lora_tags(record: ImageRecord) -> str:
    """` <lora:name:weight>` per LoRA of the record, as A1111 writes them in its prompts.

    Only the PNG's A1111 text carries them (so PNG Info and "send to txt2img" re-apply the
    LoRAs); the record's prompt stays as the user typed it. A tag the prompt holds already is
    not repeated.
    """
    tags = [f"<lora:{use.name}:{_format_number(use.weight)}>" for use in record.loras]
    return "".join(f" {tag}" for tag in tags if tag not in record.prompt)


def parse_parameters(text: str) -> dict[str, str]:
    """Read A1111 "parameters" text the way A1111's PNG Info does.

    Returns "prompt", "negative_prompt" and every key of the last line, JSON-quoted values
    unquoted. The last line counts as settings only when it holds at least three "key: value"
    pairs; otherwise the whole text is prompt. Unlike A1111, prompt lines keep their spaces, so
    text from `a1111_parameters` reads back exactly.
    """
    # Only trailing newlines go: a prompt may begin with blank lines or spaces.
    lines = text.rstrip("\r\n").split("\n")
    settings: list[tuple[str, str]] = []
    if len(_PARAM.findall(lines[-1])) >= 3:
        settings = _PARAM.findall(lines.pop())

    prompt: list[str] = []
    negative: list[str] = []
    for line in lines:
        if not negative and line.startswith(_NEGATIVE_PREFIX):
            rest = line[len(_NEGATIVE_PREFIX) :]
            negative.append(rest[1:] if rest.startswith(" ") else rest)
        elif negative:
            negative.append(line)
        else:
            prompt.append(line)

    result = {key: _unquote(value) for key, value in settings}
    result["prompt"] = "\n".join(prompt)
    result["negative_prompt"] = "\n".join(negative)
    return result


def save_png(
    image: Image.Image,
    path: Path,
    record: ImageRecord,
    app_version: str,
    lora_hashes: dict[str, str] | None = None,
    sampler_names: tuple[str, str] | None = None,
) -> None:
    """Write `image` as a PNG, atomically, with "parameters" text and the record's JSON.

    "parameters" is tEXt when it is Latin-1 and iTXt (UTF-8) otherwise, as A1111 writes it.
    `lora_hashes` and `sampler_names` go to `a1111_parameters`.
    """
    info = PngImagePlugin.PngInfo()
    # add_text falls back to iTXt by itself when the text is not Latin-1 (zip=False keeps the
    # text readable by simple tools instead of zTXt).
    text = a1111_parameters(record, app_version, lora_hashes, sampler_names)
    info.add_text(PARAMETERS_KEY, text, zip=False)
    info.add_itxt(RECORD_KEY, record.model_dump_json(), zip=False)
    write_atomically(path, lambda f: image.save(f, format="PNG", pnginfo=info))


def _png_text(path: Path) -> dict[str, str]:
    try:
        with Image.open(path) as image:
            if not isinstance(image, PngImagePlugin.PngImageFile):
                raise PngRecordError(f"{path.name} is not a PNG")
            return {str(k): str(v) for k, v in image.text.items()}
    except UnidentifiedImageError as e:
        raise PngRecordError(f"{path.name} is not a readable image") from e


def read_parameters(path: Path) -> str | None:
    """The A1111 "parameters" text of a PNG, or None when it has none."""
    return _png_text(path).get(PARAMETERS_KEY)


def read_png_record(path: Path) -> ImageRecord | None:
    """The `ImageRecord` stored in a PNG, or None when it has no genai-tui chunk.

    Raises PngRecordError when the chunk is there but is not a valid record.
    """
    raw = _png_text(path).get(RECORD_KEY)
    if raw is None:
        return None
    try:
        return ImageRecord.model_validate_json(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise PngRecordError(
            f"{path.name}: the {RECORD_KEY} record is malformed ({where}: {first['msg']})"
        ) from e


def _chunks(data: bytes, name: str) -> Iterator[tuple[bytes, bytes]]:
    """Each (type, whole chunk bytes) of a PNG, up to and including IEND."""
    if not data.startswith(_PNG_SIGNATURE):
        raise PngRecordError(f"{name} is not a PNG")
    pos = len(_PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise PngRecordError(f"{name} is truncated")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise PngRecordError(f"{name} is truncated")
        yield kind, data[pos:end]
        pos = end
        if kind == b"IEND":
            return
    raise PngRecordError(f"{name} has no IEND chunk")


def _itxt_chunk(key: str, text: str) -> bytes:
    # Uncompressed iTXt, as PngInfo.add_itxt(zip=False) writes it: empty language and key.
    body = key.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8")
    crc = zlib.crc32(b"iTXt" + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", crc)


def replace_png_record(path: Path, record: ImageRecord) -> None:
    """Replace the genai-tui chunk of an existing PNG, atomically, keeping every other byte.

    The pixels are not decoded or re-encoded, and "parameters" stays as it was written.
    """
    data = path.read_bytes()
    new_chunk = _itxt_chunk(RECORD_KEY, record.model_dump_json())
    key = RECORD_KEY.encode("latin-1") + b"\0"
    out = [_PNG_SIGNATURE]
    placed = False
    for kind, chunk in _chunks(data, path.name):
        if kind in _TEXT_CHUNKS and chunk[8:].startswith(key):
            if not placed:
                out.append(new_chunk)
                placed = True
            continue
        if kind in (b"IDAT", b"IEND") and not placed:
            out.append(new_chunk)
            placed = True
        out.append(chunk)
    payload = b"".join(out)
    write_atomically(path, lambda f: f.write(payload))
