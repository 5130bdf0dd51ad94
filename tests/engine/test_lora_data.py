"""Training data folders: captions, skipped files, clear errors, crops and a resumable order."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genai_tui.engine.errors import BadInput
from genai_tui.engine.lora.data import DataOrder, load_folder, to_pixels
from genai_tui.ui.data_scan import scan_folder
from tests.fixtures.lora_data import make_lora_data, make_mixed_lora_data


def test_images_come_with_their_captions_and_notes_are_ignored(tmp_path: Path) -> None:
    make_lora_data(tmp_path, count=3)
    (tmp_path / "README.md").write_text("notes")
    data = load_folder(tmp_path, 32)
    assert [i.path.name for i in data.images] == ["circle-0.png", "circle-1.png", "circle-2.png"]
    assert data.captions == ["a red sks circle", "a blue sks circle", "a green sks circle"]
    assert data.skipped == ()
    assert all(min(i.image.size) == 32 for i in data.images)


def test_an_instance_prompt_captions_every_image(tmp_path: Path) -> None:
    make_lora_data(tmp_path, count=2, captions=False)
    data = load_folder(tmp_path, 32, instance_prompt="a photo of sks circle")
    assert data.captions == ["a photo of sks circle"] * 2


def test_images_without_captions_need_an_instance_prompt(tmp_path: Path) -> None:
    make_lora_data(tmp_path, count=2, captions=False)
    with pytest.raises(BadInput, match=r"no \.txt caption") as caught:
        load_folder(tmp_path, 32)
    assert "instance prompt" in caught.value.hint


def test_an_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no images in") as caught:
        load_folder(tmp_path, 32)
    assert caught.value.hint


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not found"):
        load_folder(tmp_path / "nowhere", 32)


def test_a_folder_of_broken_files_names_them(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"not a png")
    (tmp_path / "b.jpg").write_bytes(b"")
    with pytest.raises(BadInput, match=r"no usable image.*a\.png \(not an image\).*b\.jpg"):
        load_folder(tmp_path, 32)


def test_a_broken_file_among_good_ones_is_skipped_and_listed(tmp_path: Path) -> None:
    make_lora_data(tmp_path, count=2)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (tmp_path / "broken.txt").write_text("a caption for nothing")
    good = Image.new("RGB", (64, 64), "red")
    good.save(tmp_path / "cut.png")
    # A truncated file that opens but does not decode is found too.
    (tmp_path / "cut.png").write_bytes((tmp_path / "cut.png").read_bytes()[:60])
    data = load_folder(tmp_path, 32)
    assert len(data.images) == 2
    assert sorted(s.name for s in data.skipped) == ["broken.png", "cut.png"]


def test_the_form_and_training_agree_on_a_mixed_folder(tmp_path: Path) -> None:
    used, skipped = make_mixed_lora_data(tmp_path)
    data = load_folder(tmp_path, 32)
    scan = scan_folder(tmp_path)
    assert [item.path.name for item in data.images] == used
    assert [s.name for s in data.skipped] == skipped
    assert scan.problem("") is None and scan.captions == len(used)
    for file in data.skipped:  # the form lists the same files with the same reasons
        assert f"{file.name} ({file.reason})" in scan.summary("")
    prompted = load_folder(tmp_path, 32, instance_prompt="a photo of sks")
    assert len(prompted.images) == len(scan.images) == len(used) + 2


def test_training_sees_deep_turned_and_transparent_images_as_the_user_does(
    tmp_path: Path,
) -> None:
    make_mixed_lora_data(tmp_path)
    data = load_folder(tmp_path, 32)
    seen = {item.path.name: np.asarray(item.image, dtype=np.float64) for item in data.images}
    assert seen["deep.png"].mean() == 100  # 16-bit 25700 of 65535, not clipped to white
    assert seen["deep-rgb.png"].mean(axis=(0, 1)).tolist() == [255, 0, 128]
    assert seen["phone.jpg"].shape == (48, 32, 3)  # upright: taller than wide
    assert seen["phone.jpg"][2:14, 2:14].mean(axis=(0, 1)) == pytest.approx([255, 0, 0], abs=8)
    assert seen["cutout.png"].mean() == 255  # fully transparent: the white background
    assert seen["print.jpg"].mean(axis=(0, 1)) == pytest.approx([0, 255, 255], abs=3)
    captions = dict(zip([item.path.name for item in data.images], data.captions, strict=True))
    assert captions["phone.jpg"] == "ein Foto, hochkant"
    assert captions["print.jpg"] == "une épreuve" and captions["cutout.png"] == "un découpage"


def test_center_crop_and_flip_are_deterministic(tmp_path: Path) -> None:
    picture = Image.new("RGB", (48, 32), "white")
    picture.paste((255, 0, 0), (0, 0, 8, 32))  # a red band on the left
    pixels, (left, top, flipped) = to_pixels(picture, 32, True, False, random.Random(0))
    assert tuple(pixels.shape) == (3, 32, 32) and (left, top, flipped) == (8, 0, False)
    assert pixels.min() >= -1 and pixels.max() <= 1
    crops = {to_pixels(picture, 32, False, True, random.Random(s))[1] for s in range(20)}
    assert {c[2] for c in crops} == {True, False} and len({c[0] for c in crops}) > 1


def test_the_data_order_resumes_where_it_stopped() -> None:
    whole = DataOrder(5, seed=3)
    draws = whole.take(12)
    assert sorted(d[0] for d in draws[:5]) == [0, 1, 2, 3, 4]  # each item once per epoch
    assert [d[1] for d in draws] == [0] * 5 + [1] * 5 + [2] * 2
    first = DataOrder(5, seed=3)
    first.take(7)
    second = DataOrder(5, seed=3)
    second.restore(first.state())
    assert second.take(5) == draws[7:]
    with pytest.raises(BadInput, match="data changed"):
        DataOrder(6, seed=3).restore(first.state())
