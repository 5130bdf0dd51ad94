"""Measure LoRA training: (a) time to learn the demo concept, judged by the demo CLIP; (b) our loop
against a plain loop written like diffusers' train_text_to_image_lora.py, step time and memory.

    python bench/lora_train.py concept [--steps N] [--rank N] [--lr X] [--layers L] [--snr-gamma X]
                                       [--train-seed N] [--seeds N] [--weight W]
    python bench/lora_train.py loop [--model REF] [--data DIR] [--steps 30] [--rounds 3]

(a) needs assets/demo-model and assets/sample-images; it trains with the demo recipe (what the
app and `genai-tui train` start from on the demo model; flags change single settings) and prints
the training wall time and the share of trigger-word images the demo CLIP reads as the concept,
before and after (goals: <= 3 min; >= 80 % after, <= 20 % before). (b) alternates the two
loops in one process for time (median step time over rounds, first 3 steps of each run left
out as warm-up) and runs each once more in a fresh child process for peak memory
(resource.getrusage ru_maxrss, the whole process's peak resident set). Without --model it
uses the demo model when present, else a tiny pipeline made on the spot. Prints figures;
never part of the test run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["concept", "loop", "_child"])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--rank", type=int, default=None, help="default: 8 (concept: the recipe's)")
    parser.add_argument("--alpha", type=float, default=None, help="default: the rank")
    parser.add_argument("--lr", type=float, default=None, help="default: 1e-3 (concept: recipe)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--layers", default=None, help="concept: attention or transformer")
    parser.add_argument("--snr-gamma", type=float, default=None, help="concept: 0 turns it off")
    parser.add_argument("--train-seed", type=int, default=None, help="concept: training seed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=2, help="concept: images per prompt")
    parser.add_argument("--weight", type=float, default=0.8, help="concept: LoRA weight after")
    parser.add_argument("--variant", default="ours", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode == "concept":
        concept(args)
        return
    args.rank, args.lr = args.rank or 8, args.lr or 1e-3  # the loop comparison's settings
    if args.mode == "loop":
        loop(args)
    else:
        child(args)


# ---------------------------------------------------------------------------- (a) concept


def concept(args: argparse.Namespace) -> None:
    from genai_tui.demo import world
    from genai_tui.demo.judge import WorldJudge
    from genai_tui.engine.generate import generate
    from genai_tui.engine.lora.export import export_lora
    from genai_tui.engine.lora.recipes import DEMO_RECIPE
    from genai_tui.engine.lora.train import train_lora
    from genai_tui.engine.models import load_model
    from genai_tui.engine.params import GenerateParams, LoraWeight
    from genai_tui.engine.sources import assets_dir, demo_model_dir

    data = Path(args.data) if args.data else assets_dir() / "sample-images"
    if not (demo_model_dir() / "model_index.json").is_file() or not any(data.glob("*.png")):
        sys.exit(f"needs the demo model and {data} (python -m genai_tui.demo.train --out assets)")
    trigger = world.TRIGGER_WORD
    prompts = [
        f"a {colour} {trigger} {world.HELD_OUT_SHAPE} on a {background} background"
        for colour in world.COLOURS
        for background in world.BACKGROUNDS
    ]
    judge = WorldJudge.load(demo_model_dir() / "clip")
    model = load_model("demo")

    def recognised(loras: tuple[LoraWeight, ...]) -> float:
        images = []
        for prompt in prompts:
            for seed in range(args.seeds):
                params = GenerateParams(prompt, seed=1000 + seed, loras=loras)
                images.append(generate(model, params).images[0].image)
        readings = judge.read(images)
        return sum(r.shape == world.HELD_OUT_SHAPE for r in readings) / len(readings)

    before = recognised(())
    changes: dict[str, Any] = {
        "rank": args.rank,
        "alpha": args.alpha or (float(args.rank) if args.rank else None),
        "learning_rate": args.lr,
        "steps": args.steps,
        "lora_layers": args.layers,
        "seed": args.train_seed,
        "snr_gamma": args.snr_gamma,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if changes.get("snr_gamma") == 0:
        changes["snr_gamma"] = None
    # Samples during training are not part of what is measured: only the end result is.
    params = replace(DEMO_RECIPE, validation_every=0, **changes).validate()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        trained = train_lora("demo", data, params, Path(tmp) / "run")
        seconds = time.perf_counter() - started
        exported = export_lora(
            trained.adapter, trained.adapter_config, Path(tmp) / "lora", "concept", {}
        )
        after = recognised((LoraWeight(str(exported.webui_file), args.weight),))
    print(
        f"training: {params.steps} steps, batch {params.batch_size}, rank {params.rank}, "
        f"{params.lora_layers} layers, lr {params.learning_rate:g}, SNR gamma "
        f"{params.snr_gamma}, seed {params.seed}: {seconds:.1f} s wall (goal <= 180 s)"
    )
    count = len(prompts) * args.seeds
    print(
        f"demo CLIP reads '{world.HELD_OUT_SHAPE}' in {100 * before:.0f} % of {count} "
        f"trigger-word images before (goal <= 20 %), {100 * after:.0f} % after at LoRA weight "
        f"{args.weight:g} (goal >= 80 %)"
    )


# ---------------------------------------------------------------------------- (b) loop


def loop(args: argparse.Namespace) -> None:
    ref, data = _model_and_data(args)
    steps = args.steps or 30
    timings: dict[str, list[float]] = {"ours": [], "plain": []}
    for _ in range(args.rounds):
        for variant in ("ours", "plain"):
            timings[variant] += run_variant(variant, ref, data, steps, args)[3:]
    medians = {k: statistics.median(v) for k, v in timings.items()}
    print(f"model {ref}, data {data}, {steps} steps x {args.rounds} rounds, batch {args.batch}")
    for variant, value in medians.items():
        print(f"  {variant:5s}: median step {1000 * value:.1f} ms")
    print(
        f"  step time ratio ours / plain: {medians['ours'] / medians['plain']:.3f} (goal <= 1.00)"
    )
    peaks = {}
    for variant in ("ours", "plain"):
        command = [
            sys.executable,
            __file__,
            "_child",
            "--variant",
            variant,
            "--model",
            ref,
            "--data",
            str(data),
            "--steps",
            str(steps),
            "--batch",
            str(args.batch),
            "--rank",
            str(args.rank),
            "--lr",
            str(args.lr),
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        peaks[variant] = json.loads(out.strip().splitlines()[-1])["max_rss_mb"]
        print(f"  {variant:5s}: peak RSS {peaks[variant]:.0f} MB (ru_maxrss of a fresh process)")
    print(f"  peak memory ratio ours / plain: {peaks['ours'] / peaks['plain']:.3f} (goal <= 1.00)")


def child(args: argparse.Namespace) -> None:
    run_variant(args.variant, args.model, Path(args.data), args.steps, args)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"max_rss_mb": rss_mb}))


def _model_and_data(args: argparse.Namespace) -> tuple[str, Path]:
    from genai_tui.engine.sources import assets_dir, demo_model_dir

    ref = args.model
    data = Path(args.data) if args.data else None
    demo_data = assets_dir() / "sample-images"
    if ref is None and (demo_model_dir() / "model_index.json").is_file():
        ref = "demo"
        data = data or demo_data
    if ref is None:
        from tests.fixtures.tiny_pipeline import make_tiny_pipeline

        ref = str(make_tiny_pipeline(Path(tempfile.mkdtemp()) / "tiny"))
    if data is None:
        from tests.fixtures.lora_data import make_lora_data

        data = make_lora_data(Path(tempfile.mkdtemp()) / "data", count=16)
    return ref, data


def run_variant(
    variant: str, ref: str, data: Path, steps: int, args: argparse.Namespace
) -> list[float]:
    """Per-step seconds of one training run of `steps` steps."""
    return (ours if variant == "ours" else plain)(ref, data, steps, args)


def ours(ref: str, data: Path, steps: int, args: argparse.Namespace) -> list[float]:
    from genai_tui.engine.lora.params import TrainParams
    from genai_tui.engine.lora.train import SilentObserver, StepReport, TrainInfo, train_lora

    stamps: list[float] = []

    class Clock(SilentObserver):
        def started(self, info: TrainInfo) -> None:
            stamps.append(time.perf_counter())

        def step(self, report: StepReport) -> None:
            stamps.append(time.perf_counter())

    params = TrainParams(
        rank=args.rank,
        alpha=float(args.rank),
        learning_rate=args.lr,
        steps=steps,
        batch_size=args.batch,
        validation_steps=1,
        validation_seeds=(0,),
    )
    with tempfile.TemporaryDirectory() as tmp:
        train_lora(ref, data, params, Path(tmp), observer=Clock())
    return [b - a for a, b in itertools.pairwise(stamps)]


def plain(ref: str, data: Path, steps: int, args: argparse.Namespace) -> list[float]:
    """The inner loop of diffusers' examples/text_to_image/train_text_to_image_lora.py."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from diffusers.optimization import get_scheduler
    from peft import LoraConfig
    from PIL import Image
    from transformers import CLIPTextModel, CLIPTokenizer

    from genai_tui.engine.sources import resolve_source

    AcceleratorState._reset_state(reset_partial_state=True)
    accelerator = Accelerator(mixed_precision="no", cpu=True)
    folder = resolve_source(ref).path
    noise_scheduler = DDPMScheduler.from_pretrained(folder, subfolder="scheduler")
    tokenizer = CLIPTokenizer.from_pretrained(folder, subfolder="tokenizer")
    text_encoder = CLIPTextModel.from_pretrained(folder, subfolder="text_encoder")
    vae = AutoencoderKL.from_pretrained(folder, subfolder="vae")
    unet = UNet2DConditionModel.from_pretrained(folder, subfolder="unet")
    for part in (unet, vae, text_encoder):
        part.requires_grad_(False)
    unet.add_adapter(
        LoraConfig(
            r=args.rank,
            lora_alpha=args.rank,
            init_lora_weights="gaussian",
            target_modules=["to_k", "to_q", "to_v", "to_out.0"],
        )
    )
    lora_layers = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        lora_layers, lr=args.lr, betas=(0.9, 0.999), weight_decay=1e-2, eps=1e-8
    )
    side = int(unet.config.sample_size) * 2 ** (len(vae.config.block_out_channels) - 1)
    files = sorted(p for p in data.iterdir() if p.suffix == ".png")

    def transform(path: Path) -> torch.Tensor:  # Resize, CenterCrop, ToTensor, Normalize
        image = Image.open(path).convert("RGB")
        w, h = image.size
        scale = side / min(w, h)
        image = image.resize(
            (max(side, round(w * scale)), max(side, round(h * scale))), Image.Resampling.BILINEAR
        )
        w, h = image.size
        left, top = round((w - side) / 2), round((h - side) / 2)
        array = np.asarray(image.crop((left, top, left + side, top + side)), dtype=np.float32)
        return torch.from_numpy((array / 127.5 - 1).transpose(2, 0, 1).copy())

    class Folder(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
        def __len__(self) -> int:
            return len(files)

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            caption = files[i].with_suffix(".txt").read_text().strip()
            ids = tokenizer(
                caption,
                max_length=tokenizer.model_max_length,
                padding="max_length",
                truncation=True,
                return_tensors="pt",
            ).input_ids[0]
            return {"pixel_values": transform(files[i]), "input_ids": ids}

    loader = torch.utils.data.DataLoader(Folder(), shuffle=True, batch_size=args.batch)
    lr_scheduler = get_scheduler(
        "constant", optimizer=optimizer, num_warmup_steps=0, num_training_steps=steps
    )
    unet, optimizer, loader, lr_scheduler = accelerator.prepare(
        unet, optimizer, loader, lr_scheduler
    )
    stamps = [time.perf_counter()]
    unet.train()
    while len(stamps) <= steps:
        for batch in loader:
            with accelerator.accumulate(unet):
                latents = vae.encode(batch["pixel_values"]).latent_dist.sample()
                latents = latents * vae.config.scaling_factor
                noise = torch.randn_like(latents)
                timesteps = torch.randint(
                    0,
                    noise_scheduler.config.num_train_timesteps,
                    (latents.shape[0],),
                    device=latents.device,
                ).long()
                noisy = noise_scheduler.add_noise(latents, noise, timesteps)
                hidden = text_encoder(batch["input_ids"], return_dict=False)[0]
                pred = unet(noisy, timesteps, hidden, return_dict=False)[0]
                loss = F.mse_loss(pred.float(), noise.float(), reduction="mean")
                avg = accelerator.gather(loss.repeat(args.batch)).mean()
                _ = avg.item()
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(lora_layers, 1.0)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
            if accelerator.sync_gradients:
                stamps.append(time.perf_counter())
            if len(stamps) > steps:
                break
    return [b - a for a, b in itertools.pairwise(stamps)]


if __name__ == "__main__":
    main()
