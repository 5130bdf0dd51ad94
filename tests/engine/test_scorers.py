"""Scorers: CLIP scores unchanged, PickScore = logit_scale.exp() * cosine, offline only."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from genai_tui.engine.clip import load_clip, score_images
from genai_tui.engine.errors import BadInput, ModelError
from genai_tui.engine.scorers import (
    PICKSCORE_PROCESSOR_REPO,
    PICKSCORE_REPO,
    ClipScorer,
    PickScorer,
    load_pickscore,
    ranked_by,
    resolve_pickscore,
)
from tests.fixtures.tiny_clip import PICKSCORE_LOGIT, as_hub_cache, as_pickle_only

PROMPTS = ["a red circle", "a blue square"]


def images() -> list[Image.Image]:
    return [Image.new("RGB", (32, 32), "red"), Image.new("RGB", (32, 32), (20, 40, 200))]


def test_pickscore_is_logit_scale_exp_times_the_cosine(tiny_pickscore_dir: Path) -> None:
    from transformers import CLIPModel, CLIPProcessor

    scorer = PickScorer(load_pickscore(resolve_pickscore(str(tiny_pickscore_dir)), "cpu"))
    got = scorer.score(images(), PROMPTS)

    # By hand, as PickScore's README computes it.
    model = CLIPModel.from_pretrained(tiny_pickscore_dir, use_safetensors=True).eval()
    processor = CLIPProcessor.from_pretrained(tiny_pickscore_dir)
    with torch.no_grad():
        pixels = processor(images=images(), return_tensors="pt")["pixel_values"]
        image_embs = model.get_image_features(pixel_values=pixels).pooler_output
        tokens = processor(text=PROMPTS, padding=True, truncation=True, return_tensors="pt")
        text_embs = model.get_text_features(
            input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
        ).pooler_output
    image_embs = image_embs / image_embs.norm(dim=-1, keepdim=True)
    text_embs = text_embs / text_embs.norm(dim=-1, keepdim=True)
    cosine = (image_embs * text_embs).sum(dim=-1)
    expected = (model.logit_scale.exp() * cosine).tolist()
    assert got == pytest.approx(expected, abs=1e-4)
    scale = float(model.logit_scale.detach().exp())
    assert scale == pytest.approx(float(torch.tensor(PICKSCORE_LOGIT).exp()))
    assert got != pytest.approx((100 * cosine).tolist(), abs=1e-2)  # not CLIP's scale
    assert scorer.info.label == "PickScore"


def test_the_clip_scorer_gives_the_clip_scores_unchanged(tiny_clip_dir: Path) -> None:
    clip = load_clip(str(tiny_clip_dir), "cpu")
    assert ClipScorer(clip).score(images(), PROMPTS) == score_images(clip, images(), PROMPTS).scores


def test_pickscore_comes_from_the_hub_cache_with_the_laion_processor(
    tiny_pickscore_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hub"
    bare = tmp_path / "weights-only"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        (bare / name).write_bytes((tiny_pickscore_dir / name).read_bytes())
    model = as_hub_cache(bare, cache, PICKSCORE_REPO)
    processor = as_hub_cache(tiny_pickscore_dir, cache, PICKSCORE_PROCESSOR_REPO)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    source = resolve_pickscore()
    assert (source.name, source.model, source.processor) == (PICKSCORE_REPO, model, processor)
    loaded = load_pickscore(source, "cpu")
    assert len(PickScorer(loaded).score(images(), "a red circle")) == 2


@pytest.mark.usefixtures("empty_hub_cache")
def test_a_missing_pickscore_is_one_message_saying_how_to_get_it() -> None:
    with pytest.raises(ModelError) as caught:
        resolve_pickscore()
    assert "PickScore model yuvalkirstain/PickScore_v1 is not on this machine" in str(caught.value)
    assert "hf download yuvalkirstain/PickScore_v1 --include '*.safetensors' '*.json'" in (
        caught.value.hint
    )
    assert f"hf download {PICKSCORE_PROCESSOR_REPO}" in caught.value.hint
    with pytest.raises(ModelError, match="PickScore model not found"):
        resolve_pickscore("/no/such/folder")


def test_a_folder_with_only_a_pickle_is_refused(tiny_pickscore_dir: Path, tmp_path: Path) -> None:
    folder = as_pickle_only(tiny_pickscore_dir, tmp_path / "pickled")
    with pytest.raises(ModelError) as caught:
        resolve_pickscore(str(folder))
    assert "pytorch_model.bin, a pickle: refused" in str(caught.value)
    assert "--include '*.safetensors'" in caught.value.hint


def test_a_damaged_safetensors_file_is_refused_before_loading(
    tiny_pickscore_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cut"
    folder.mkdir()
    for file in tiny_pickscore_dir.iterdir():
        if file.is_file():
            data = file.read_bytes()
            (folder / file.name).write_bytes(data[:-100] if file.suffix == ".safetensors" else data)
    with pytest.raises(BadInput, match="cut short"):
        resolve_pickscore(str(folder))


def test_the_demo_clip_stands_in_only_on_the_demo_without_a_pickscore() -> None:
    assert ranked_by("pickscore", "demo", None) == "clip"
    assert ranked_by("pickscore", "demo", "/models/pickscore") == "pickscore"
    assert ranked_by("pickscore", "/models/sd15", None) == "pickscore"
    assert ranked_by("clip", "demo", None) == "clip"
    with pytest.raises(BadInput, match="unknown scorer 'aesthetic'"):
        ranked_by("aesthetic", "demo", None)
