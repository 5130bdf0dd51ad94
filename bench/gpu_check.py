"""The GPU path, checked and timed once on a borrowed CUDA machine.

    python bench/gpu_check.py          # on a CUDA machine
    python bench/gpu_check.py --tiny   # a dry run of the same steps on the tiny CPU pipeline

No weights can be downloaded there either, so it builds a pipeline of Stable Diffusion 1.5's
architecture (UNet 860 M, KL VAE, a 12-layer 768-wide CLIP text encoder) with random weights,
saves it in diffusers format, and loads it through genai-tui's own loader (fp16 on CUDA). Then:
1. pixel identity of the engine against the bare diffusers pipeline on CUDA (same seed);
2. time per image at 512x512, 25 steps, batch 1 and 4, and peak GPU memory;
3. LoRA training steps (rank 8, 512 px, batch 2, fp16 mixed precision): step time, finite loss,
   and the webui (kohya) export reloaded through load_lora_weights against the diffusers file.
Random weights make the pictures noise; the arithmetic, memory and timings are SD 1.5's.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_sd15_shaped(folder: Path) -> Path:
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from genai_tui.demo.tokenizer import END, START, write_tokenizer_files
    from tests.fixtures.tiny_pipeline import WORDS

    torch.manual_seed(0)
    vocab, merges = write_tokenizer_files(WORDS, folder / "_tok")
    tokenizer = CLIPTokenizer(str(vocab), str(merges), model_max_length=77)
    ids = tokenizer.get_vocab()
    text = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            max_position_embeddings=77,
            bos_token_id=ids[START],
            eos_token_id=ids[END],
            pad_token_id=ids[END],
        )
    )
    pipe = StableDiffusionPipeline(
        vae=AutoencoderKL(
            block_out_channels=(128, 256, 512, 512),
            layers_per_block=2,
            latent_channels=4,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            sample_size=512,
        ),
        text_encoder=text,
        tokenizer=tokenizer,
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
    )
    pipe.to(torch.float16).save_pretrained(folder, safe_serialization=True)
    return folder


def timed_generation(model: object, params: object, runs: int) -> float:
    from genai_tui.engine.generate import generate

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        generate(model, params)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    import numpy as np
    import torch
    from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline

    from genai_tui.engine.generate import generate
    from genai_tui.engine.models import load_model
    from genai_tui.engine.params import GenerateParams

    tiny = "--tiny" in sys.argv
    cuda = torch.cuda.is_available()
    name = torch.cuda.get_device_name() if cuda else "cpu"
    print(f"device: {name} · torch {torch.__version__}")
    scratch = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    if tiny:
        from tests.fixtures.tiny_pipeline import make_tiny_pipeline

        folder = make_tiny_pipeline(scratch / "tiny")
    else:
        folder = build_sd15_shaped(scratch / "sd15-shaped")
    print(f"built and saved an SD 1.5-shaped pipeline in {time.perf_counter() - started:.1f} s")
    model = load_model(str(folder))
    print(f"loaded through genai-tui: {model.device} {model.dtype} in {model.load_seconds:.1f} s")

    # 1. Pixel identity on CUDA.
    prompt = "a red circle on a white background"
    ours = generate(model, GenerateParams(prompt, steps=20, seed=1234, cfg_scale=7.0))
    plain = StableDiffusionPipeline.from_pretrained(
        folder, dtype=torch.float16 if cuda else torch.float32, safety_checker=None
    ).to(model.device)
    plain.set_progress_bar_config(disable=True)
    plain.scheduler = DPMSolverMultistepScheduler.from_config(
        plain.scheduler.config, use_karras_sigmas=True
    )
    expected = plain(
        prompt,
        num_inference_steps=20,
        guidance_scale=7.0,
        generator=torch.Generator("cpu").manual_seed(1234),
    ).images[0]
    diff = np.abs(np.asarray(ours.images[0].image, np.int16) - np.asarray(expected, np.int16))
    print(f"pixel identity engine vs bare diffusers (CUDA fp16): max difference {diff.max()}")
    del plain
    if cuda:
        torch.cuda.empty_cache()

    # 2. Speed and memory.
    for batch in (1, 4):
        params = GenerateParams(prompt, steps=25, seed=1, batch_size=batch)
        generate(model, params)  # warm-up
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        median = timed_generation(model, params, 5)
        peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
        print(
            f"512x512, 25 steps, batch {batch}: {median:.2f} s per batch, "
            f"{median / batch:.3f} s per image, {25 * batch / median:.1f} it/s·image, "
            f"peak {peak:.2f} GiB"
        )

    # 3. LoRA training on the GPU, then both exports reloaded.
    from genai_tui.engine.lora.export import export_lora
    from genai_tui.engine.lora.params import TrainParams
    from genai_tui.engine.lora.train import SilentObserver, StepReport, train_lora
    from tests.fixtures.lora_data import make_lora_data

    stamps: list[float] = []

    class Stamps(SilentObserver):
        def step(self, report: StepReport) -> None:
            stamps.append(time.perf_counter())

    data = make_lora_data(scratch / "data", count=8)
    train = TrainParams(
        rank=8,
        alpha=4,
        learning_rate=1e-4,
        steps=20,
        batch_size=2,
        resolution=32 if tiny else 512,
        mixed_precision="fp16" if cuda else "no",
        instance_prompt="a photo of sks star",
        validation_prompts=(),
        checkpoint_every=1000,
    )
    trained = train_lora(str(folder), data, train, scratch / "run", observer=Stamps())
    gaps = [b - a for a, b in itertools.pairwise(stamps)][3:]
    losses = [loss for _, loss in trained.losses]
    finite = all(np.isfinite(losses))
    print(
        f"LoRA rank 8, 512 px, batch 2, fp16: median step {statistics.median(gaps) * 1000:.0f} ms, "
        f"losses finite: {finite}, first/last {losses[0]:.4f}/{losses[-1]:.4f}"
    )
    exported = export_lora(
        trained.adapter, trained.adapter_config, scratch / "lora", "sks", {"ss_network_dim": "8"}
    )
    pipe = model.pipe
    images = {}
    for label, file in (("diffusers", exported.diffusers_file), ("webui", exported.webui_file)):
        pipe.load_lora_weights(str(file), adapter_name=label)
        pipe.set_adapters([label], [1.0])
        images[label] = np.asarray(
            pipe(
                prompt, num_inference_steps=10, generator=torch.Generator("cpu").manual_seed(3)
            ).images[0],
            np.int16,
        )
        pipe.unload_lora_weights()
    gap = np.abs(images["diffusers"] - images["webui"]).max()
    print(f"LoRA webui export vs diffusers file, reloaded on CUDA: max difference {gap}")


if __name__ == "__main__":
    main()
