"""Preview modes: what each costs, what auto picks, and how close each frame is to the image.

    python bench/preview_modes.py            # demo and tiny models: costs, auto, recognisability
    python bench/preview_modes.py --sd15     # also SD 1.5-shaped VAE, TAESD and UNet (random
                                             # weights: the arithmetic of SD 1.5), on this device

Costs: one VAE preview frame (what auto's probe measures and scales), the latent colour map, and
a denoising step (the engine's own, from its step callback), with auto's rule: the VAE when a
frame costs at most PREVIEW_BUDGET of max(PREVIEW_INTERVAL, a step).

Recognisability: on the demo model, 20 steps, for each sampler, the mean absolute difference
(0-255) between the frame at 80 % of the steps (resized to the image with hard edges) and the
final image, for the colour map and the VAE decode, each of the noisy latents x_t and of the
scheduler's predicted clean latent x0 (what the previews show). No TAESD fits the demo model's
latents, so TAESD's closeness is not measured here.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPTS = (
    "a red circle on a white background",
    "a blue square on a black background",
    "a green triangle on a gray background",
    "a yellow circle on a black background",
    "purple square, white background",
    "an orange triangle on a white background",
)


def costs(name: str, model: Any) -> None:
    """Step time, frame costs and auto's choice for one model at its native size, batch 1."""
    from genai_tui.engine.generate import PREVIEW_INTERVAL, StepInfo, generate
    from genai_tui.engine.params import GenerateParams
    from genai_tui.engine.preview import latents_to_images
    from genai_tui.engine.previewer import PREVIEW_BUDGET, Previewer

    seen: list[StepInfo] = []
    generate(model, GenerateParams("a red circle", steps=20, seed=1), seen.append)
    steps = [b.elapsed - a.elapsed for a, b in itertools.pairwise(seen) if not b.previews]
    step = statistics.median(steps) if steps else seen[-1].elapsed / len(seen)
    side = model.native_size // int(model.pipe.vae_scale_factor)
    shape = (1, side, side)
    vae = Previewer(model, "vae", shape, PREVIEW_INTERVAL).vae_frame_seconds()
    latents = torch_randn(shape)
    started = time.perf_counter()
    for _ in range(20):
        latents_to_images(latents, model.latent_rgb)
    colour_map = (time.perf_counter() - started) / 20
    budget = PREVIEW_BUDGET * max(PREVIEW_INTERVAL, step)
    print(
        f"{name}: latents {side}x{side}; step {step * 1000:.1f} ms; VAE frame {vae * 1000:.1f} ms;"
        f" colour map {colour_map * 1000:.2f} ms; budget {budget * 1000:.0f} ms"
        f" ({PREVIEW_BUDGET:g} x max({PREVIEW_INTERVAL:g} s, step));"
        f" VAE/budget {vae / budget:.2f}; auto showed {seen[-1].preview_mode}"
        f" ({seen[-1].preview_note or 'as asked'})"
    )


def torch_randn(shape: tuple[int, int, int]) -> Any:
    import torch

    batch, height, width = shape
    return torch.randn(batch, 4, height, width, generator=torch.Generator().manual_seed(0))


def recognisability(model: Any) -> None:
    """The 80 % table on the demo model, per sampler."""
    import numpy as np
    import torch
    from PIL import Image

    from genai_tui.engine.denoised import CleanLatents
    from genai_tui.engine.preview import latents_to_images
    from genai_tui.engine.schedulers import SAMPLER_NAMES, build_scheduler

    pipe = model.pipe

    def decode(latents: Any) -> Image.Image:
        pixels = pipe.vae.decode(latents / pipe.vae.config.scaling_factor, return_dict=False)[0]
        image: Image.Image = pipe.image_processor.postprocess(pixels, output_type="pil")[0]
        return image

    def gap(frame: Image.Image, final: Image.Image) -> float:
        shown = frame.convert("RGB").resize(final.size, Image.Resampling.NEAREST)
        return float(np.abs(np.asarray(shown, np.float32) - np.asarray(final, np.float32)).mean())

    columns = ("colour x_t", "colour x0", "VAE x_t", "VAE x0")
    print(
        f"\n80 % of 20 steps, demo model, {len(PROMPTS)} prompts: difference, 0-255, mean [min-max]"
    )
    print(f"{'sampler':20}" + "".join(f"{c:>19}" for c in columns))
    for name in SAMPLER_NAMES:
        found: dict[str, list[float]] = {c: [] for c in columns}
        for seed, prompt in enumerate(PROMPTS):
            pipe.scheduler = build_scheduler(name, model.original_scheduler_config)
            clean = CleanLatents(pipe.scheduler)
            frames: list[tuple[Any, Any]] = []

            def step_end(_p: Any, _i: int, _t: Any, tensors: dict[str, Any]) -> Any:
                frames.append((tensors["latents"].clone(), clean.latest().clone()))  # noqa: B023
                return tensors

            with torch.inference_mode():
                final = pipe(
                    prompt,
                    num_inference_steps=20,
                    generator=torch.Generator("cpu").manual_seed(seed),
                    callback_on_step_end=step_end,
                ).images[0]
                noisy, predicted = frames[round(0.8 * len(frames)) - 1]
                found["colour x_t"].append(
                    gap(latents_to_images(noisy, model.latent_rgb)[0], final)
                )
                found["colour x0"].append(
                    gap(latents_to_images(predicted, model.latent_rgb)[0], final)
                )
                found["VAE x_t"].append(gap(decode(noisy), final))
                found["VAE x0"].append(gap(decode(predicted), final))
        cells = "".join(
            f"{statistics.mean(v):>7.1f} [{min(v):4.1f}-{max(v):5.1f}]"
            for v in (found[c] for c in columns)
        )
        print(f"{name:20}{cells}")


def sd15_shaped() -> None:
    """SD 1.5's VAE decoder, TAESD and UNet step at 512 px on this device, random weights."""
    import torch
    from diffusers import AutoencoderKL, AutoencoderTiny, UNet2DConditionModel

    from genai_tui.engine.generate import PREVIEW_INTERVAL
    from genai_tui.engine.models import pick_device, pick_dtype
    from genai_tui.engine.previewer import CPU_PROBE_SIDE, PREVIEW_BUDGET

    device = pick_device()
    dtype = pick_dtype(device)
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=2,
        latent_channels=4,
    ).to(device, dtype)
    taesd = AutoencoderTiny().to(device, dtype)  # its defaults are TAESD's architecture
    unet = UNet2DConditionModel(cross_attention_dim=768, attention_head_dim=8).to(device, dtype)

    def timed(run: Any, repeats: int) -> float:
        with torch.inference_mode():
            run()  # warm-up
            best = float("inf")
            for _ in range(repeats):
                if device == "cuda":
                    torch.cuda.synchronize()
                started = time.perf_counter()
                run()
                if device == "cuda":
                    torch.cuda.synchronize()
                best = min(best, time.perf_counter() - started)
        return best

    repeats = 5 if device != "cpu" else 1
    latents = torch.randn(1, 4, 64, 64, device=device, dtype=dtype)
    probe = torch.zeros(1, 4, CPU_PROBE_SIDE, CPU_PROBE_SIDE, device=device, dtype=dtype)
    text = torch.randn(2, 77, 768, device=device, dtype=dtype)
    step = timed(lambda: unet(torch.cat([latents] * 2), 500, text), repeats)
    full = timed(lambda: vae.decode(latents), repeats)
    tiny = timed(lambda: taesd.decode(latents), repeats)
    probed = timed(lambda: vae.decode(probe), repeats) * (64 * 64) / CPU_PROBE_SIDE**2
    budget = PREVIEW_BUDGET * max(PREVIEW_INTERVAL, step)
    print(
        f"\nSD 1.5-shaped on {device} {dtype}, 512 px, batch 1: UNet step (CFG) {step:.3f} s;"
        f" VAE decode {full:.3f} s (probe at {CPU_PROBE_SIDE}x{CPU_PROBE_SIDE} scaled:"
        f" {probed:.3f} s); TAESD decode {tiny:.4f} s; budget {budget:.3f} s;"
        f" VAE/budget {full / budget:.1f}, TAESD/VAE {tiny / full:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sd15", action="store_true", help="also time SD 1.5-shaped parts")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from genai_tui.engine.models import load_model
    from tests.fixtures.tiny_pipeline import make_tiny_pipeline

    demo = load_model("demo")
    with tempfile.TemporaryDirectory() as scratch:
        tiny = load_model(str(make_tiny_pipeline(Path(scratch))))
        costs("demo", demo)
        costs("tiny test model", tiny)
    recognisability(demo)
    if args.sd15:
        sd15_shaped()


if __name__ == "__main__":
    main()
