"""The LoRA sample set in assets/sample-images: images of the held-out concept, captioned."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from genai_tui.demo import world

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "sample-images"


def test_twelve_to_twenty_captioned_images() -> None:
    images = sorted(SAMPLES.glob("*.png"))
    assert 12 <= len(images) <= 20
    for image in images:
        caption = image.with_suffix(".txt").read_text(encoding="utf-8").strip()
        assert world.TRIGGER_WORD in caption.split()
        assert world.HELD_OUT_SHAPE in caption.split()
        with Image.open(image) as im:
            assert im.size == (world.SIZE, world.SIZE)


def test_readme_names_concept_and_trigger_word() -> None:
    text = (SAMPLES / "README.md").read_text(encoding="utf-8")
    assert world.TRIGGER_WORD in text
    assert world.HELD_OUT_SHAPE in text
