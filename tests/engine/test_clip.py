"""CLIP scoring: CLIPScore as torchmetrics defines it, loaded through our own loader, offline."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from genai_tui.engine import clip_refs
from genai_tui.engine.clip import LoadedClip, load_clip, score_images
from genai_tui.engine.clip_refs import (
    DEFAULT_CUDA_CLIP,
    DEMO_CLIP,
    default_clip_ref,
    resolve_clip,
)
from genai_tui.engine.errors import ModelError

TEXTS = ["a red circle", "a blue square on a white background", "a photo of a cat"]
DEMO_CLIP_CONFIG = Path(__file__).resolve().parents[2] / "assets/demo-model/clip/config.json"


def noise_images(count: int, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)) for _ in range(count)
    ] + [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue", "white")]


@pytest.fixture(scope="module")
def clip(tiny_clip_dir: Path) -> LoadedClip:
    return load_clip(str(tiny_clip_dir), device="cpu")


def reference_scores(folder: Path, images: list[Image.Image], texts: list[str]) -> torch.Tensor:
    """torchmetrics' CLIPScore per pair, computed with transformers alone (images x texts)."""
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(folder).eval()
    processor = CLIPProcessor.from_pretrained(folder)
    inputs = processor(text=texts, images=images, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model(**inputs)
    image = out.image_embeds / out.image_embeds.norm(dim=-1, keepdim=True)
    text = out.text_embeds / out.text_embeds.norm(dim=-1, keepdim=True)
    return (100 * image @ text.T).clamp(min=0)


def test_scores_match_an_independent_clipscore(clip: LoadedClip, tiny_clip_dir: Path) -> None:
    images = noise_images(6)
    expected = reference_scores(tiny_clip_dir, images, TEXTS)
    for column, text in enumerate(TEXTS):
        got = score_images(clip, images, text, batch_size=4)
        assert got.warnings == []
        assert got.scores == pytest.approx(expected[:, column].tolist(), abs=1e-4)
    # Some pairs have a negative cosine: the score is floored at 0, not negative.
    assert (expected == 0).any() and (expected > 0).any()


def test_one_text_per_image_and_batch_size_do_not_change_scores(
    clip: LoadedClip, tiny_clip_dir: Path
) -> None:
    images = noise_images(5)
    texts = [TEXTS[i % len(TEXTS)] for i in range(len(images))]
    expected = reference_scores(tiny_clip_dir, images, TEXTS)
    wanted = [expected[i, TEXTS.index(t)].item() for i, t in enumerate(texts)]
    for batch_size in (1, 3, 64):
        got = score_images(clip, images, texts, batch_size=batch_size)
        assert got.scores == pytest.approx(wanted, abs=1e-4)


def test_ranking_follows_the_reference_order(clip: LoadedClip, tiny_clip_dir: Path) -> None:
    images = noise_images(6, seed=3)
    expected = reference_scores(tiny_clip_dir, images, [TEXTS[1]])[:, 0].tolist()
    got = score_images(clip, images, TEXTS[1]).scores
    best_first = sorted(range(len(images)), key=lambda i: -got[i])
    assert best_first == sorted(range(len(images)), key=lambda i: -expected[i])


def test_a_text_past_77_tokens_is_cut_and_the_caller_told(clip: LoadedClip) -> None:
    head = " ".join(["red circle"] * 37)  # 74 word tokens: with start and end, 76
    long_text = f"{head} blue square green triangle"
    images = noise_images(2)
    result = score_images(clip, images, long_text)
    assert len(result.warnings) == 1
    assert "77 tokens" in result.warnings[0]
    # Only the 75th word token fits: "square green triangle" was dropped.
    assert "'square green triangle'" in result.warnings[0]
    kept = score_images(clip, images, f"{head} blue")
    assert kept.warnings == []
    assert result.scores == pytest.approx(kept.scores, abs=1e-5)


def test_no_images_no_work(clip: LoadedClip) -> None:
    assert score_images(clip, [], "anything").scores == []
    with pytest.raises(ValueError, match="2 images but 1 texts"):
        score_images(clip, noise_images(0)[:2], ["one"])


def test_the_default_clip_follows_the_model_and_device() -> None:
    assert default_clip_ref("demo", "cuda") == DEMO_CLIP
    assert default_clip_ref("stable-diffusion-v1-5/stable-diffusion-v1-5", "cpu") == DEMO_CLIP
    assert default_clip_ref("stable-diffusion-v1-5/stable-diffusion-v1-5", "cuda") == (
        DEFAULT_CUDA_CLIP
    )


def test_a_missing_demo_clip_is_a_clear_model_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clip_refs, "assets_dir", lambda: tmp_path)
    with pytest.raises(ModelError, match="demo CLIP model is missing") as caught:
        resolve_clip("demo")
    assert "genai_tui.demo.train" in caught.value.hint


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("", "no CLIP model given"),
        ("weights.bin", "not a single file"),
        ("clip.safetensors", "not a single file"),
        ("./nowhere", "CLIP model not found"),
    ],
)
def test_bad_references_are_refused_before_loading(ref: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        resolve_clip(ref)


def test_a_folder_that_is_not_clip_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a CLIP model"):
        resolve_clip(str(tmp_path))


def test_a_hub_clip_missing_offline_says_how_to_fetch_it() -> None:
    # conftest sets HF_HUB_OFFLINE=1: nothing is downloaded.
    with pytest.raises(ModelError, match="not in the local cache") as caught:
        load_clip("nobody-here/no-such-clip", device="cpu")
    assert "hf download nobody-here/no-such-clip" in caught.value.hint


def test_the_help_text_and_defaults_load_without_torch() -> None:
    code = (
        "import sys; from genai_tui.engine.clip_refs import CLIP_SCORE_HELP; "
        "assert 'cosine' in CLIP_SCORE_HELP; print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not DEMO_CLIP_CONFIG.is_file(), reason="the demo CLIP is not built")
def test_on_the_demo_clip_a_matching_image_outscores_a_mismatched_one() -> None:
    from genai_tui.demo import world

    demo: Any = load_clip("demo", device="cpu")
    rng = random.Random(7)
    wins, pairs = 0, 40
    for _ in range(pairs):
        match = world.random_sample(rng, world.SHAPES)
        other_shape = rng.choice([s for s in world.SHAPES if s != match.shape])
        other_colour = rng.choice([c for c in world.COLOURS if c != match.colour])
        mismatch = world.random_sample(
            rng, shape=other_shape, colour=other_colour, background=match.background
        )
        good, bad = score_images(demo, [match.image, mismatch.image], match.caption).scores
        wins += good > bad
    assert wins >= 0.8 * pairs, f"matching image won only {wins} of {pairs} pairs"
