"""Time CLIP scoring against generation, per image: what does ranking add to each image?

Generates `--images` images per run through the engine, then scores them against their prompt
with the CLIP the app would use, alternating in one process; prints each median per image and
the share scoring adds to generation.

    python bench/clip_overhead.py [--runs 9] [--steps 25] [--images 4] [--shapes sd15]

Uses the demo model and demo CLIP when present; otherwise a tiny random pipeline and CLIP made on
the spot (and says so: those figures only show the machinery's cost, not a real model's).
`--shapes sd15` builds, in memory, a pipeline of SD 1.5's architecture and a CLIP of ViT-L/14's,
with random weights (nothing to download): the same arithmetic as the real models, on a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--prompt", default="a red circle on a white background")
    parser.add_argument("--shapes", choices=["assets", "sd15"], default="assets")
    args = parser.parse_args()

    import torch

    from genai_tui.engine.clip import load_clip, score_images
    from genai_tui.engine.clip_refs import demo_clip_dir
    from genai_tui.engine.generate import generate
    from genai_tui.engine.models import load_model
    from genai_tui.engine.params import GenerateParams
    from genai_tui.engine.sources import demo_model_dir

    scratch = Path(tempfile.mkdtemp())
    if args.shapes == "sd15":
        model, clip = sd15_shaped(scratch)
        note, clip_note, clip_load = "SD 1.5 architecture, random weights", "ViT-L/14 shape", 0.0
    else:
        if (demo_model_dir() / "model_index.json").is_file():
            model_ref, note = "demo", "demo model"
        else:
            from tests.fixtures.tiny_pipeline import make_tiny_pipeline

            model_ref = str(make_tiny_pipeline(scratch / "tiny-sd"))
            note = "tiny random pipeline (the demo model is absent)"
        if (demo_clip_dir() / "config.json").is_file():
            clip_ref, clip_note = "demo", "demo CLIP"
        else:
            from tests.fixtures.tiny_clip import make_tiny_clip

            clip_ref = str(make_tiny_clip(scratch / "tiny-clip"))
            clip_note = "tiny random CLIP (the demo CLIP is absent)"
        model = load_model(model_ref)
        started = time.perf_counter()
        clip = load_clip(clip_ref, model.device)
        clip_load = time.perf_counter() - started
    params = GenerateParams(args.prompt, steps=args.steps, seed=1, batch_size=args.images)

    def generate_run(seed: int) -> tuple[float, list[Any]]:
        started = time.perf_counter()
        result = generate(model, GenerateParams(**{**params.__dict__, "seed": seed}))
        return time.perf_counter() - started, [made.image for made in result.images]

    def score_run(images: list[Any]) -> float:
        if model.device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        score_images(clip, images, args.prompt)  # ends in .tolist(): the GPU has finished
        return time.perf_counter() - started

    _, warm = generate_run(0)
    score_run(warm)  # warm-up: first calls pay for lazy initialisation
    generate_times, score_times = [], []
    for run in range(args.runs):
        seconds, images = generate_run(run)
        generate_times.append(seconds / args.images)
        score_times.append(score_run(images) / args.images)
    gen, score = statistics.median(generate_times), statistics.median(score_times)
    print(f"pipeline: {note}; {model.source.name} on {model.device} ({model.dtype})")
    print(
        f"CLIP: {clip_note}; {clip.name} on {clip.device} ({clip.dtype}), loaded in "
        f"{clip_load:.2f} s (once per worker)"
    )
    print(
        f"torch threads {torch.get_num_threads()}; {args.runs} runs x {args.images} image(s) "
        f"x {args.steps} steps"
    )
    print(f"generation median per image: {gen * 1000:.1f} ms")
    print(f"CLIP scoring median per image: {score * 1000:.2f} ms")
    print(f"scoring / generation: {100 * score / gen:.2f} %")
    if args.shapes != "sd15":
        print("SD 1.5 + CLIP ViT-L/14: not measured here (run with --shapes sd15 on a GPU)")


def sd15_shaped(scratch: Path) -> tuple[Any, Any]:
    """A pipeline of SD 1.5's architecture and a CLIP of ViT-L/14's, random weights, on the GPU."""
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTokenizer,
    )

    from genai_tui.demo.tokenizer import END, START, write_tokenizer_files
    from genai_tui.engine.clip import LoadedClip
    from genai_tui.engine.models import LoadedModel, dtype_name, pick_device, pick_dtype
    from genai_tui.engine.preview import SD15_LATENT_RGB
    from genai_tui.engine.sources import ModelSource
    from tests.fixtures.tiny_pipeline import WORDS

    device = pick_device()
    dtype = pick_dtype(device)
    vocab, merges = write_tokenizer_files(WORDS, scratch / "tokenizer")
    tokenizer = CLIPTokenizer(str(vocab), str(merges), model_max_length=77)
    ids = tokenizer.get_vocab()
    special = {"bos_token_id": ids[START], "eos_token_id": ids[END], "pad_token_id": ids[END]}
    # SD 1.5's text encoder is CLIP ViT-L/14's text tower; its vocabulary is 49,408 tokens.
    text = {
        "vocab_size": 49408,
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "max_position_embeddings": 77,
    }
    pipe = StableDiffusionPipeline(
        vae=AutoencoderKL(
            block_out_channels=(128, 256, 512, 512),
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            layers_per_block=2,
            latent_channels=4,
            sample_size=512,
        ),
        text_encoder=CLIPTextModel(CLIPTextConfig(**text, **special)),
        tokenizer=tokenizer,
        # UNet2DConditionModel's defaults are SD 1.5's UNet except the text width.
        unet=UNet2DConditionModel(sample_size=64, cross_attention_dim=768),
        scheduler=PNDMScheduler(
            beta_start=0.00085,
            beta_end=0.012,
            beta_schedule="scaled_linear",
            skip_prk_steps=True,
            steps_offset=1,
            set_alpha_to_one=False,
        ),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    ).to(device, dtype)
    pipe.set_progress_bar_config(disable=True)
    model = LoadedModel(
        source=ModelSource("sd15-shaped", "folder", str(scratch)),
        pipe=pipe,
        device=device,
        dtype=dtype_name(dtype),
        model_hash="",
        latent_rgb=SD15_LATENT_RGB,
        original_scheduler_config=pipe.scheduler.config,
        load_seconds=0.0,
    )
    vision = {
        "image_size": 224,
        "patch_size": 14,
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
    }
    clip_model = CLIPModel(
        CLIPConfig(
            text_config={**text, **special, "projection_dim": 768},
            vision_config={**vision, "projection_dim": 768},
            projection_dim=768,
        )
    )
    # CLIPImageProcessor's defaults are ViT-L/14's: 224 px centre crop, OpenAI mean and std.
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=tokenizer)
    clip = LoadedClip(
        ref="vit-l14-shaped",
        name="vit-l14-shaped",
        model=clip_model.to(device, dtype).eval(),
        processor=processor,
        device=device,
        dtype=dtype_name(dtype),
        max_length=77,
        load_seconds=0.0,
    )
    torch.manual_seed(0)
    return model, clip


if __name__ == "__main__":
    main()
