"""The shipped demo model: loads offline with the ordinary classes, and generates sensibly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from genai_tui.demo import world
from genai_tui.demo.judge import WorldJudge

MODEL = Path(__file__).resolve().parents[2] / "assets" / "demo-model"


@pytest.fixture(scope="module")
def pipe() -> Any:
    from diffusers import DPMSolverMultistepScheduler

    from genai_tui.engine.models import load_model

    # Through the project's own loading, as `--model demo` does.
    model = load_model("demo")
    assert model.source.kind == "demo" and Path(model.source.location) == MODEL
    pipeline = model.pipe
    pipeline.scheduler = DPMSolverMultistepScheduler.from_config(model.original_scheduler_config)
    return pipeline


@pytest.fixture(scope="module")
def judge() -> WorldJudge:
    return WorldJudge.load(MODEL / "clip")


def test_folder_is_small_and_pickle_free() -> None:
    files = [p for p in MODEL.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 20 * 1024 * 1024
    assert not [p for p in files if p.suffix in {".bin", ".pt", ".pth", ".ckpt", ".pkl"}]
    index = json.loads((MODEL / "model_index.json").read_text(encoding="utf-8"))
    assert index["safety_checker"] == [None, None]
    assert index["requires_safety_checker"] is False


def test_latent_rgb_map_has_the_agreed_shape() -> None:
    table = json.loads((MODEL / "latent_rgb.json").read_text(encoding="utf-8"))
    assert len(table["factors"]) == 4
    assert all(len(row) == 3 for row in table["factors"])
    assert len(table["bias"]) == 3
    assert "note" in table


def test_clip_loads_offline(judge: WorldJudge) -> None:
    tokens = judge.processor.tokenizer(["a red circle"], padding="max_length", max_length=77)
    assert len(tokens["input_ids"][0]) == 77
    pixels = judge.processor(images=[world.samples(0, 1)[0].image], return_tensors="pt")
    assert tuple(pixels["pixel_values"].shape) == (1, 3, world.SIZE, world.SIZE)


def test_generation_has_right_size_and_is_not_degenerate(pipe: Any) -> None:
    out = pipe(
        "a blue square on a white background",
        num_inference_steps=8,
        guidance_scale=7.5,
        generator=torch.Generator("cpu").manual_seed(0),
        output_type="np",
    ).images
    assert out.shape == (1, world.SIZE, world.SIZE, 3)
    assert np.isfinite(out).all()
    assert out.std() > 0.05


def test_clip_reads_the_colour_asked_for(pipe: Any, judge: WorldJudge) -> None:
    colours = list(world.COLOURS)
    prompts = [world.caption("circle", c, "white") for c in colours]
    images = pipe(
        prompts,
        num_inference_steps=10,
        guidance_scale=7.5,
        generator=[torch.Generator("cpu").manual_seed(i) for i in range(len(prompts))],
    ).images
    readings = judge.read(images)
    hits = sum(r.colour == c for r, c in zip(readings, colours, strict=True))
    # Loose on purpose: a regression to noise or to one colour scores 1 of 6 at most.
    assert hits >= len(colours) - 2


def test_cli_generate_with_the_demo_model_draws_what_was_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], judge: WorldJudge
) -> None:
    from PIL import Image

    from genai_tui.cli import main

    code = main(
        [
            "generate",
            "a red circle on a white background",
            "--model",
            "demo",
            "-n",
            "3",
            "--seed",
            "7",
            "--steps",
            "20",
            "--sessions-dir",
            str(tmp_path),
            "--no-score",
        ]
    )
    paths = [Path(p) for p in capsys.readouterr().out.split()]
    assert code == 0 and len(paths) == 3
    readings = judge.read([Image.open(p).convert("RGB") for p in paths])
    # Loose: the colour and background are what a person checks first.
    assert sum(r.colour == "red" and r.background == "white" for r in readings) >= 2
