"""The recipe: `python -m genai_tui.demo.train --out DIR` rebuilds every demo asset.

Writes DIR/demo-model/ (the diffusers pipeline, clip/, latent_rgb.json, training.json, README.md)
and DIR/sample-images/ (the LoRA sample set). Seeds are fixed (each stage seeds itself); the
stages run in order: VAE, CLIP (also on the VAE's renderings), UNet with its text encoder (on
latents of the frozen VAE), the decoder's fine-tune, export, then the decoder's sharpening on
the exported pipeline's own latents.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from genai_tui.demo import world
from genai_tui.demo.card import write_card
from genai_tui.demo.clip_train import make_tokenizer, train_clip
from genai_tui.demo.decoder_sharpen import sharpen_saved
from genai_tui.demo.decoder_tune import tune_decoder
from genai_tui.demo.export import folder_size, save_pipeline, stored_precision
from genai_tui.demo.progress import say
from genai_tui.demo.samples import write_sample_set
from genai_tui.demo.unet_train import train_unet
from genai_tui.demo.vae_train import fit_latent_rgb, train_vae


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the recipe."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the assets to")
    parser.add_argument("--clip-steps", type=int, default=2000, help="CLIP training steps")
    parser.add_argument("--vae-steps", type=int, default=700, help="VAE training steps")
    parser.add_argument("--unet-steps", type=int, default=2000, help="UNet training steps")
    parser.add_argument(
        "--decoder-steps", type=int, default=1000, help="VAE decoder fine-tuning steps, last"
    )
    parser.add_argument(
        "--sharpen-steps", type=int, default=600, help="decoder sharpening steps, after export"
    )
    parser.add_argument(
        "--sharpen-pool", type=int, default=1920, help="latents the sharpening learns from"
    )
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    parser.add_argument(
        "--quick", action="store_true", help="a few steps per stage, to check the recipe runs"
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every stage and write the assets; return the facts recorded in training.json."""
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    if args.quick:
        args.clip_steps, args.vae_steps, args.unet_steps, args.decoder_steps = 20, 20, 20, 20
        args.sharpen_steps, args.sharpen_pool = 20, 48
    model_dir = args.out / "demo-model"
    model_dir.mkdir(parents=True, exist_ok=True)
    say(f"[recipe] writing to {args.out} with {args.threads} threads")
    vae, vae_facts = train_vae(steps=args.vae_steps)
    # CLIP learns from the VAE's renderings too (it judges generated images), as stored: fp16.
    clip = train_clip(model_dir / "clip", steps=args.clip_steps, vae=stored_precision(vae))
    check = torch.from_numpy(world.to_array([s.image for s in world.samples(5, 2048)]))
    rgb = fit_latent_rgb(vae, check, model_dir / "latent_rgb.json")
    tokenizer = make_tokenizer(args.out / "tokenizer-files")
    unet, text_encoder, unet_facts = train_unet(vae, tokenizer, steps=args.unet_steps)
    # Last, on the latents the UNet learned (the encoder is frozen): a decoder for its output.
    decoder_facts = tune_decoder(vae, steps=args.decoder_steps)
    save_pipeline(model_dir, vae, unet, text_encoder, tokenizer)
    # Then on the pipeline as it ships: the decoder learns to draw the UNet's own latents.
    sharpen_facts = sharpen_saved(model_dir, steps=args.sharpen_steps, pool=args.sharpen_pool)
    write_sample_set(args.out / "sample-images")
    say("[recipe] sample images written")
    facts: dict[str, Any] = {
        "clip": clip,
        "vae": {**vae_facts, **rgb},
        "unet": unet_facts,
        "decoder": decoder_facts,
        "sharpen": sharpen_facts,
        "scaling_factor": float(vae.config.scaling_factor),
        "vocab_size": len(tokenizer.get_vocab()),
        "threads": args.threads,
        "total_seconds": time.perf_counter() - started,
        "size_bytes": 0,
    }
    write_card(model_dir, facts)
    facts["size_bytes"] = folder_size(model_dir)
    write_card(model_dir, facts)
    say(
        f"[recipe] done in {facts['total_seconds'] / 60:.1f} min, "
        f"demo-model {facts['size_bytes'] / 1e6:.1f} MB"
    )
    return facts


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m genai_tui.demo.train`."""
    run(parse_args(argv))


if __name__ == "__main__":
    main()
