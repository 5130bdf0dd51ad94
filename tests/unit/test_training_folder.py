"""The training-folder rules without torch: images read as the user sees them, captions read
only when they are text, and every file left out named with its reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genai_tui.engine.lora.folder import NOT_UTF8, Unusable, read_caption, read_folder, read_rgb
from genai_tui.ui.data_scan import scan_folder
from tests.fixtures.lora_data import (
    CAPTION_ENCODINGS,
    jpeg_on_its_side,
    make_mixed_lora_data,
    png_48_bit,
)


def pixels(picture: Image.Image) -> np.ndarray:
    assert picture.mode == "RGB"
    return np.asarray(picture, dtype=np.float64)


def test_a_16_bit_grey_png_keeps_its_brightness(tmp_path: Path) -> None:
    # Three bands: black, 40 % grey, white, in 16 bits (white is 65535, not 255).
    deep = np.zeros((12, 30), dtype=np.uint16)
    deep[:, 10:20], deep[:, 20:] = 26214, 65535
    Image.fromarray(deep).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode == "I;16"
    seen = pixels(read_rgb(tmp_path / "deep.png"))
    assert [seen[:, band].mean() for band in (slice(0, 10), slice(10, 20), slice(20, 30))] == [
        0,
        102,  # 26214 * 255 / 65535 = 102.0
        255,
    ]
    assert abs(seen.mean() - deep.mean() * 255 / 65535) < 0.5


def test_a_48_bit_rgb_png_keeps_its_colour(tmp_path: Path) -> None:
    png_48_bit(tmp_path / "deep.png", (65535, 0, 257 * 128))
    assert pixels(read_rgb(tmp_path / "deep.png")).mean(axis=(0, 1)).tolist() == [255, 0, 128]


def test_16_bit_and_float_pixels_beyond_their_range_are_refused(tmp_path: Path) -> None:
    Image.fromarray(np.full((8, 8), 0.5, dtype=np.float32)).save(tmp_path / "half.tif")
    assert pixels(read_rgb(tmp_path / "half.tif")).mean() == 128
    Image.fromarray(np.full((8, 8), 200.0, dtype=np.float32)).save(tmp_path / "hdr.tif")
    with pytest.raises(Unusable, match=r"outside 0\.\.1"):
        read_rgb(tmp_path / "hdr.tif")
    Image.fromarray(np.full((8, 8), 70000, dtype=np.int32)).save(tmp_path / "wide.tif")
    with pytest.raises(Unusable, match="outside 16 bits"):
        read_rgb(tmp_path / "wide.tif")


def test_a_phone_jpeg_on_its_side_comes_out_upright(tmp_path: Path) -> None:
    path = jpeg_on_its_side(tmp_path / "phone.jpg", upright_size=(32, 48))
    assert Image.open(path).size == (48, 32)  # as stored
    seen = read_rgb(path)
    assert seen.size == (32, 48)
    corners = pixels(seen)
    assert corners[2:14, 2:14].mean(axis=(0, 1)) == pytest.approx([255, 0, 0], abs=8)  # red mark
    for corner in (corners[2:14, -14:-2], corners[-14:-2, 2:14], corners[-14:-2, -14:-2]):
        assert corner.mean() > 245  # the other corners are white


def test_transparent_pixels_lie_on_white(tmp_path: Path) -> None:
    palette = Image.new("P", (16, 8), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    palette.paste(0, (8, 0, 16, 8))  # index 0 is the transparent one
    palette.save(tmp_path / "palette.png", transparency=0)
    grey = Image.new("LA", (16, 8), (40, 255))
    grey.paste((0, 0), (8, 0, 16, 8))
    grey.save(tmp_path / "grey.png")
    half = Image.new("RGBA", (16, 8), (0, 0, 255, 255))
    half.paste((0, 0, 0, 128), (8, 0, 16, 8))  # half-transparent black over white: mid grey
    half.save(tmp_path / "half.png")
    expected = {
        "palette.png": ([255, 0, 0], [255, 255, 255]),
        "grey.png": ([40, 40, 40], [255, 255, 255]),
        "half.png": ([0, 0, 255], [127, 127, 127]),
    }
    for name, (opaque, clear) in expected.items():
        seen = pixels(read_rgb(tmp_path / name))
        assert seen[:, :8].mean(axis=(0, 1)).tolist() == opaque, name
        assert seen[:, 8:].mean(axis=(0, 1)) == pytest.approx(clear, abs=1), name


def test_cmyk_grey_and_one_bit_images_become_rgb(tmp_path: Path) -> None:
    Image.new("CMYK", (8, 8), (255, 0, 0, 0)).save(tmp_path / "cyan.jpg")
    Image.new("L", (8, 8), 90).save(tmp_path / "grey.png")
    Image.new("1", (8, 8), 1).save(tmp_path / "white.png")
    assert pixels(read_rgb(tmp_path / "cyan.jpg")).mean(axis=(0, 1)) == pytest.approx(
        [0, 255, 255], abs=3
    )
    assert pixels(read_rgb(tmp_path / "grey.png")).mean(axis=(0, 1)).tolist() == [90, 90, 90]
    assert pixels(read_rgb(tmp_path / "white.png")).mean() == 255


def test_broken_and_oversized_files_are_unusable_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Image.new("RGB", (64, 64), "red").save(tmp_path / "cut.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "cut.jpg").read_bytes()[:400])
    (tmp_path / "notes.png").write_bytes(b"not a png")
    Image.new("RGB", (40, 40)).save(tmp_path / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # Pillow refuses twice this: 1000 < 1600
    reasons = {}
    for name in ("cut.jpg", "notes.png", "huge.png"):
        with pytest.raises(Unusable) as caught:
            read_rgb(tmp_path / name)
        reasons[name] = caught.value.reason
    assert reasons["cut.jpg"] == "truncated or damaged image"
    assert reasons["notes.png"] == "not an image"
    assert "decompression bomb" in reasons["huge.png"]


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8 with mark", "utf-16-le with mark", "utf-16-be with mark"]
)
def test_text_captions_are_read_right(tmp_path: Path, encoding: str) -> None:
    text = "une tête de chat, 猫, «sks»"
    (tmp_path / "cat.txt").write_bytes(CAPTION_ENCODINGS[encoding]("\n " + text + "\r\n"))
    assert read_caption(tmp_path / "cat.png") == text


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16-le without mark"])
def test_captions_that_are_not_utf8_text_are_refused(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "cat.txt").write_bytes(CAPTION_ENCODINGS[encoding]("un café au lait"))
    with pytest.raises(Unusable, match=NOT_UTF8):
        read_caption(tmp_path / "cat.png")
    assert read_caption(tmp_path / "dog.png") is None  # no caption file at all


def test_an_instance_prompt_makes_caption_files_irrelevant(tmp_path: Path) -> None:
    used, skipped = make_mixed_lora_data(tmp_path)
    contents = read_folder(tmp_path, read_rgb)
    with_captions = contents.for_training("")
    assert [item.path.name for item, _ in with_captions.used] == used
    assert [s.name for s in with_captions.skipped] == skipped
    prompted = contents.for_training("a photo of sks")
    assert [item.path.name for item, _ in prompted.used] == sorted(
        [*used, "latin.png", "unmarked.png"]
    )
    assert {caption for _, caption in prompted.used} == {"a photo of sks"}
    assert [s.name for s in prompted.skipped] == ["cut.jpg", "notes.png"]


def test_the_form_names_each_skipped_file_with_its_reason(tmp_path: Path) -> None:
    used, skipped = make_mixed_lora_data(tmp_path)
    scan = scan_folder(tmp_path)
    assert scan.problem("") is None
    summary = scan.summary("")
    assert summary.startswith(f"{len(used) + 2} images, {len(used)} captions")
    for name in skipped:
        assert f"{name} (" in summary
    assert f"latin.png ({NOT_UTF8})" in summary and "notes.png (not an image)" in summary
    assert "latin.png" not in scan_folder(tmp_path).summary("a photo of sks")


def test_the_form_sees_a_file_fixed_after_it_looked(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(b"not yet")
    (tmp_path / "cat.txt").write_text("a cat")
    assert "no usable image" in (scan_folder(tmp_path).problem("") or "")
    Image.new("RGB", (16, 16), "black").save(tmp_path / "cat.png")
    scan = scan_folder(tmp_path)
    assert scan.images == ("cat.png",) and scan.problem("") is None
