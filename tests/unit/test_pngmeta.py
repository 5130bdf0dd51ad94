"""A1111 "parameters" text and the PNG chunks an image carries."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from genai_tui.session.models import ImageRecord
from genai_tui.session.pngmeta import (
    PngRecordError,
    a1111_parameters,
    parse_parameters,
    read_parameters,
    read_png_record,
    replace_png_record,
    save_png,
)


def make_record(**overrides: Any) -> ImageRecord:
    values: dict[str, Any] = {
        "file": "images/0001-42.png",
        "prompt": "a red circle on a blue background",
        "negative_prompt": "blurry",
        "steps": 25,
        "cfg_scale": 7.0,
        "seed": 42,
        "width": 512,
        "height": 512,
        "scheduler": "DPM++ 2M Karras",
        "clip_skip": 1,
        "model": "demo",
        "model_name": "demo",
        "model_hash": "0123456789",
        "created": "2025-01-01T00:00:00+00:00",
    }
    values.update(overrides)
    return ImageRecord(**values)


def chunk_types(path: Path) -> list[tuple[bytes, bytes]]:
    """(chunk type, keyword) of each text chunk, read straight from the file's bytes."""
    data = path.read_bytes()
    pos, found = 8, []
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            found.append((kind, data[pos + 8 : pos + 8 + length].split(b"\0", 1)[0]))
        pos += 12 + length
    return found


def test_text_has_the_a1111_shape() -> None:
    text = a1111_parameters(make_record(), "0.1.0", sampler_names=("DPM++ 2M", "Karras"))
    assert text == (
        "a red circle on a blue background\n"
        "Negative prompt: blurry\n"
        "Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, "
        "Size: 512x512, Model hash: 0123456789, Model: demo, Version: genai-tui 0.1.0"
    )


def test_empty_negative_model_and_hash_lines_are_left_out() -> None:
    text = a1111_parameters(
        make_record(negative_prompt="", model_name="", model_hash="", scheduler="Euler a"),
        "0.1.0",
    )
    assert text == (
        "a red circle on a blue background\n"
        "Steps: 25, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, "
        "Version: genai-tui 0.1.0"
    )


@pytest.mark.parametrize(
    ("names", "sampler", "schedule"),
    [
        (("DPM++ 2M", "SGM Uniform"), "DPM++ 2M", "SGM Uniform"),
        (("DDIM", "Automatic"), "DDIM", "Automatic"),
        (("PNDMScheduler", ""), "PNDMScheduler", None),
        (None, "DPM++ 2M Karras", None),
    ],
)
def test_sampler_and_schedule_type_are_written_as_given(
    names: tuple[str, str] | None, sampler: str, schedule: str | None
) -> None:
    text = a1111_parameters(make_record(), "1", sampler_names=names)
    parsed = parse_parameters(text)
    assert parsed["Sampler"] == sampler
    assert parsed.get("Schedule type") == schedule


@pytest.mark.parametrize(("cfg", "shown"), [(7.0, "7"), (7.5, "7.5"), (12.25, "12.25")])
def test_cfg_scale_has_no_trailing_zero(cfg: float, shown: str) -> None:
    assert f"CFG scale: {shown}," in a1111_parameters(make_record(cfg_scale=cfg), "1")


def test_clip_skip_only_above_one() -> None:
    assert "Clip skip" not in a1111_parameters(make_record(clip_skip=1), "1")
    parsed = parse_parameters(a1111_parameters(make_record(clip_skip=2), "1"))
    assert parsed["Clip skip"] == "2"


def test_lora_hashes_are_one_quoted_value() -> None:
    text = a1111_parameters(make_record(), "1", {"my style": "a" * 64, "cat": "b" * 12})
    assert 'Lora hashes: "my style: aaaaaaaaaaaa, cat: bbbbbbbbbbbb", Version' in text
    assert parse_parameters(text)["Lora hashes"] == "my style: aaaaaaaaaaaa, cat: bbbbbbbbbbbb"
    assert "Lora hashes" not in a1111_parameters(make_record(), "1", {})


TRICKY_PROMPTS = [
    "masterpiece, (cat:1.2), [dog|fox], <lora:style:0.8>",
    'a sign that says "hello, world"',
    "line one\nline two, with: colon\n\nline four after a blank",
    "  leading and trailing spaces  ",
    "\nstarts with a blank line",
    "ends with a newline\n",
    "日本語のプロンプト、猫",
    "ünïcödé café €",
    "Steps: 1, Sampler: x, Seed: 3",
    "back\\slash and \\n not a newline",
    "",
]


@pytest.mark.parametrize("prompt", TRICKY_PROMPTS)
@pytest.mark.parametrize("negative", ["", "ugly, blurry: 1.3", "two\nlines", " padded "])
def test_round_trip_keeps_prompts_exactly(prompt: str, negative: str) -> None:
    record = make_record(prompt=prompt, negative_prompt=negative, model_name='my "best", v2')
    parsed = parse_parameters(a1111_parameters(record, "0.1.0"))
    assert parsed["prompt"] == prompt
    assert parsed["negative_prompt"] == negative
    assert parsed["Model"] == 'my "best", v2'
    assert parsed["Seed"] == "42"
    assert parsed["Size"] == "512x512"
    assert parsed["Version"] == "genai-tui 0.1.0"


def test_round_trip_of_random_text() -> None:
    rng = random.Random(1234)
    alphabet = 'ab ,:"\\\n\r\tÿ猫€()[]<>{}-'
    for _ in range(300):
        prompt = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        negative = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        model = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        # The one shape no reader of this format can tell apart (see a1111_parameters).
        if any(line.startswith("Negative prompt:") for line in prompt.split("\n")):
            continue
        record = make_record(prompt=prompt, negative_prompt=negative, model_name=model)
        parsed = parse_parameters(a1111_parameters(record, "1"))
        assert (parsed["prompt"], parsed["negative_prompt"]) == (prompt, negative)
        assert parsed["Model"] == model


def test_values_with_separators_are_json_quoted() -> None:
    text = a1111_parameters(make_record(model_name="sd: v1, pruned"), "1")
    assert f"Model: {json.dumps('sd: v1, pruned')}," in text


def test_last_line_needs_three_pairs_to_be_settings() -> None:
    parsed = parse_parameters("a cat\nNegative prompt: dog\nSteps: 20, Seed: 1")
    assert parsed == {"prompt": "a cat", "negative_prompt": "dog\nSteps: 20, Seed: 1"}
    parsed = parse_parameters("a cat\nSteps: 20, Seed: 1, Size: 64x64")
    assert parsed == {
        "prompt": "a cat",
        "negative_prompt": "",
        "Steps": "20",
        "Seed": "1",
        "Size": "64x64",
    }
    assert parse_parameters("just a prompt, with: a colon") == {
        "prompt": "just a prompt, with: a colon",
        "negative_prompt": "",
    }


def test_reads_text_written_by_a1111() -> None:
    text = (
        "photo of a cat, (best quality:1.2)\n"
        "Negative prompt: lowres, bad anatomy\n"
        "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 123, "
        "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, "
        'Lora hashes: "cat: 0a1b2c3d4e5f", Version: v1.10.1\n'
    )
    parsed = parse_parameters(text)
    assert parsed["prompt"] == "photo of a cat, (best quality:1.2)"
    assert parsed["negative_prompt"] == "lowres, bad anatomy"
    assert parsed["CFG scale"] == "6.5"
    assert parsed["Lora hashes"] == "cat: 0a1b2c3d4e5f"
    assert parsed["Version"] == "v1.10.1"


def test_png_carries_parameters_and_record(tmp_path: Path) -> None:
    path = tmp_path / "images" / "0001-42.png"
    record = make_record()
    save_png(Image.new("RGB", (16, 16), "red"), path, record, "0.1.0", {"cat": "c" * 64})
    with Image.open(path) as image:
        assert isinstance(image, PngImagePlugin.PngImageFile)
        assert image.size == (16, 16)
        assert image.text["parameters"] == a1111_parameters(record, "0.1.0", {"cat": "c" * 64})
        assert ImageRecord.model_validate_json(image.text["genai-tui"]) == record
    assert read_png_record(path) == record
    assert read_parameters(path) == a1111_parameters(record, "0.1.0", {"cat": "c" * 64})
    assert chunk_types(path) == [(b"tEXt", b"parameters"), (b"iTXt", b"genai-tui")]
    assert sorted(p.name for p in path.parent.iterdir()) == ["0001-42.png"]


def test_non_latin1_parameters_go_to_itxt(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    record = make_record(prompt="猫の写真, €5")
    save_png(Image.new("RGB", (8, 8)), path, record, "1")
    assert chunk_types(path)[0] == (b"iTXt", b"parameters")
    parameters = read_parameters(path)
    assert parameters is not None
    assert parse_parameters(parameters)["prompt"] == "猫の写真, €5"
    # Latin-1 beyond ASCII still fits a tEXt chunk.
    save_png(Image.new("RGB", (8, 8)), path, make_record(prompt="café ÿ"), "1")
    assert chunk_types(path)[0] == (b"tEXt", b"parameters")
    assert read_png_record(path) == make_record(prompt="café ÿ")


def test_save_replaces_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    save_png(Image.new("RGB", (8, 8), "red"), path, make_record(seed=1), "1")
    save_png(Image.new("RGB", (8, 8), "blue"), path, make_record(seed=2), "1")
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]
    record = read_png_record(path)
    assert record is not None and record.seed == 2


def test_failed_encode_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    save_png(Image.new("RGB", (8, 8)), path, make_record(seed=1), "1")
    before = path.read_bytes()
    with pytest.raises(OSError):
        # Pillow cannot write CMYK as PNG: the failure happens mid-write.
        save_png(Image.new("CMYK", (8, 8)), path, make_record(seed=2), "1")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_missing_and_malformed_records(tmp_path: Path) -> None:
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    assert read_png_record(plain) is None
    assert read_parameters(plain) is None

    info = PngImagePlugin.PngInfo()
    info.add_itxt("genai-tui", '{"prompt": 3}')
    broken = tmp_path / "broken.png"
    Image.new("RGB", (8, 8)).save(broken, pnginfo=info)
    with pytest.raises(PngRecordError, match=r"broken\.png: the genai-tui record is malformed"):
        read_png_record(broken)

    not_png = tmp_path / "note.png"
    not_png.write_text("hello")
    with pytest.raises(PngRecordError):
        read_png_record(not_png)


def test_replace_record_keeps_pixels_and_parameters(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    image = Image.new("RGB", (8, 8), (10, 20, 30))
    record = make_record(prompt="猫")
    save_png(image, path, record, "1")
    parameters = read_parameters(path)
    updated = record.model_copy(update={"clip_score": 0.31, "clip_model": "demo"})
    replace_png_record(path, updated)
    assert read_png_record(path) == updated
    assert read_parameters(path) == parameters
    with Image.open(path) as reread:
        reread.load()
        assert reread.getpixel((3, 3)) == (10, 20, 30)
    assert chunk_types(path) == [
        (b"iTXt", b"parameters"),
        (b"iTXt", b"genai-tui"),
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_replace_record_adds_a_chunk_to_a_plain_png(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(path)
    replace_png_record(path, make_record())
    assert read_png_record(path) == make_record()
