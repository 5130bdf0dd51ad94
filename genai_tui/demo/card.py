"""The demo model's card (README.md), written from the recipe's measured facts.

The recipe stores its facts in `training.json`; `bench/demo_quality.py --write-card` adds the
quality figures under "quality" and renders the card again, so the card only states measurements.
"""

# Markdown table rows must stay on one line each.
# ruff: noqa: E501
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genai_tui.demo import world


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _renderings_row(r: dict[str, Any] | None) -> str:
    if not r:
        return ""
    return f"| demo CLIP on the VAE's renderings of the same images (encode, decode: as soft as generated images) | {_pct(r['shape'])} | {_pct(r['colour'])} | {_pct(r['background'])} | - |\n"


def _quality_section(q: dict[str, Any] | None) -> str:
    if not q:
        return (
            "Not measured yet: run `python bench/demo_quality.py --write-card assets/demo-model`.\n"
        )
    clip, follow, speed = q["clip_zero_shot"], q["prompt_following"], q["speed"]
    return f"""Measured by `{q["command"]}` ({q["machine"]}).

| figure | shape | colour | background | goal |
| --- | --- | --- | --- | --- |
| demo CLIP zero-shot, {clip["count"]} fresh world images (all 4 shapes, seed {clip["seed"]}) | {_pct(clip["shape"])} | {_pct(clip["colour"])} | {_pct(clip["background"])} | >= 95 % |
{_renderings_row(q.get("clip_on_renderings"))}| prompt following, {follow["count"]} random prompts, {follow["steps"]} DPM-Solver++ steps, guidance {follow["guidance"]} | {_pct(follow["shape"])} | {_pct(follow["colour"])} | {_pct(follow["background"])} | >= 90 % |

Prompt following: one image per prompt; the demo CLIP's zero-shot reading of the generated image
(over all four shapes) is compared with the prompt's shape, colour and background.

Speed: {speed["images"]} images at {speed["steps"]} steps in one batch, median of {speed["runs"]} runs:
**{speed["median_s"]:.2f} s** (runs: {", ".join(f"{t:.2f}" for t in speed["runs_s"])} s), with
{speed["threads"]} CPU threads. Goal: <= 3 s.
"""


def _decoder_row(decoder: dict[str, Any] | None) -> str:
    if not decoder:
        return ""
    return (
        f"| vae decoder fine-tune | {decoder['steps']} x {decoder['batch']} | "
        f"{_minutes(decoder['seconds'])} | encoder frozen (latents unchanged); latents "
        f"+ {100 * decoder['latent_noise']:.0f} % noise, the same loss as the VAE: white "
        "backgrounds, little smudge; corners as round as before |\n"
    )


def _sharpen_row(sharpen: dict[str, Any] | None) -> str:
    if not sharpen:
        return ""
    return (
        f"| vae decoder sharpening | {sharpen['steps']} x {sharpen['batch']} | "
        f"{_minutes(sharpen['seconds'])} | encoder frozen; half of each batch the UNet's own "
        f"latents ({sharpen['pairs']} of {sharpen['pool']} generated) against the prompt's "
        "shape drawn where the decoder put it, half the stage above's task: square corners |\n"
    )


def _notes(notes: list[str]) -> str:
    return "".join(f"\n{note}\n" for note in notes)


def render(facts: dict[str, Any]) -> str:
    """The model card as Markdown."""
    clip, vae, unet = facts["clip"], facts["vae"], facts["unet"]
    total = clip["params"] + vae["params"] + unet["unet_params"] + unet["text_encoder_params"]
    return f"""# genai-tui demo model

A tiny text-to-image model of a tiny synthetic world, built the way Stable Diffusion 1.5 is
built (a VAE, a text-conditioned UNet, a CLIP text encoder, SD 1.5's noise schedule) and saved in
the same diffusers format, so the same loading code runs it: `StableDiffusionPipeline.from_pretrained("assets/demo-model")`.
Beside it, `clip/` holds a tiny CLIP (`CLIPModel` + `CLIPProcessor`) trained on the same world,
used for ranking and for judging.

Everything here is made by `python -m genai_tui.demo.train --out DIR` from fixed seeds, on CPU.

## The world

{world.SIZE}x{world.SIZE} RGB images: one shape ({", ".join(world.SHAPES)}) in one of
{len(world.COLOURS)} colours ({", ".join(world.COLOURS)}) on a {"/".join(world.BACKGROUNDS)}
background, at a random position and size, drawn at {world.SUPERSAMPLE}x and box-downsampled
(anti-aliased). Captions come in {len(world.TEMPLATES)} phrasings, e.g.
"{world.caption("circle", "red", "white", 0)}", "{world.caption("circle", "red", "white", 1)}".

A fourth shape, the **{world.HELD_OUT_SHAPE}**, is held out: the UNet never saw it; the CLIP
and the VAE did. `assets/sample-images/` holds {world.HELD_OUT_SHAPE} images captioned with the
trigger word `{world.TRIGGER_WORD}` for a LoRA to teach it.

## Architecture

| part | what | parameters |
| --- | --- | --- |
| vae | `AutoencoderKL`, blocks (32, 64, 64), 1 layer each, no attention; 32x32x3 -> 8x8x4, scaling factor {facts["scaling_factor"]:.4f} | {vae["params"]:,} |
| unet | `UNet2DConditionModel`, blocks (64, 128), 1 layer each, cross-attention (dim 64) at every level, on 8x8x4 latents | {unet["unet_params"]:,} |
| text_encoder | `CLIPTextModel`, 2 layers, width 64, {facts["vocab_size"]}-token vocabulary, 77 positions | {unet["text_encoder_params"]:,} |
| tokenizer | `CLIPTokenizer` (byte-level BPE: all bytes plus the world's words), model_max_length 77 | - |
| scheduler | `DPMSolverMultistepScheduler` (DPM++ 2M Karras) on SD 1.5's noise schedule: scaled_linear betas 0.00085..0.012, 1000 steps, epsilon (SD 1.5's own PNDM needs ~50 steps here) | - |
| clip | `CLIPModel`: ViT (patch 4, width 64, 4 layers) + text (width 64, 2 layers), 64-d joint space | {clip["params"]:,} |

Total {total:,} parameters; the folder is {facts["size_bytes"] / 1e6:.1f} MB (UNet and VAE weights
stored in float16, loaded as float32). `latent_rgb.json` holds a 4x3 least-squares map from the
scaled latents the step callback sees to RGB in [-1, 1], for cheap previews.

**Why the text encoder is trained jointly with the UNet, not the demo CLIP's frozen text tower.**
SD 1.5 freezes CLIP's text tower, whose per-token states were shaped by 400 M captions. A tiny
CLIP trained contrastively on 72 shape/colour/background meanings only needs its pooled end token to be right; its
per-token states, which the UNet's cross-attention reads, carry little. A text encoder trained
with the UNet learns exactly the token states the UNet needs (the feasibility run showed
reliable prompt following this way). It also keeps the judge independent of the generator:
the CLIP that scores images is not the encoder that steered them. It is still a `CLIPTextModel`
with a CLIP tokenizer, so every SD code path (prompt weighting, 77-token limit, LoRA on the text
encoder) works unchanged. The tokenizer's vocabulary already holds `{world.HELD_OUT_SHAPE}` and
`{world.TRIGGER_WORD}` as single tokens, untrained, so a LoRA can give them meaning.

## Training

Measured on a 2-core CPU machine with {facts["threads"]} torch thread(s), torch CPU build. (The
machine was shared with other work during the run; with two threads on a busy 2-core machine
torch's thread pool slowed down roughly 9x, so the recorded run used one.)

| stage | steps x batch | time | notes |
| --- | --- | --- | --- |
| clip | {clip["steps"]} x {clip["batch"]} | {_minutes(clip["seconds"])} | contrastive with soft targets over same-meaning captions; half the images lightly blurred/noised, a third as the VAE renders them |
| vae | {vae["steps"]} x {vae["batch"]} | {_minutes(vae["seconds"])} | L1 + edge L1 + MSE + 1e-6 KL; reconstruction L1 {vae["l1"]:.4f} |
| unet + text encoder | {unet["steps"]} x {unet["batch"]} | {_minutes(unet["seconds"])} | AdamW 1.2e-3, warm-up + cosine, Min-SNR-5 weights, EMA weights saved, 10 % empty captions (for classifier-free guidance), latents precomputed |
{_decoder_row(facts.get("decoder"))}{_sharpen_row(facts.get("sharpen"))}
Whole recipe, wall time: {_minutes(facts["total_seconds"])}.
{_notes(facts.get("notes", []))}
## Quality

{_quality_section(facts.get("quality"))}
## Use

```python
import torch
from diffusers import StableDiffusionPipeline

pipe = StableDiffusionPipeline.from_pretrained("assets/demo-model")  # DPM++ 2M Karras
image = pipe("a red circle on a white background", num_inference_steps=25, guidance_scale=7.5,
             generator=torch.Generator("cpu").manual_seed(0)).images[0]
```
"""


def write_card(folder: Path, facts: dict[str, Any]) -> None:
    """Store `facts` as training.json and render README.md in `folder`."""
    (folder / "training.json").write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(render(facts), encoding="utf-8")
