"""Train the demo CLIP: a tiny ViT and text transformer, contrastively, on the world.

CLIP sees all four shapes, the held-out star included, so that it can later judge whether a LoRA
taught the base model the star. Captions repeat (72 combinations, 4 phrasings), so a batch holds
many true pairs besides the diagonal: the loss uses soft targets spread over every caption that
describes the same (shape, colour, background), rather than penalising them as negatives.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from genai_tui.demo import world
from genai_tui.demo.judge import WorldJudge, accuracy
from genai_tui.demo.progress import StageProgress, say
from genai_tui.demo.tokenizer import END, START, write_tokenizer_files

MAX_LENGTH = 77
"""Token length of a prompt, as in SD 1.5's CLIP ViT-L."""


def make_tokenizer(folder: Path) -> Any:
    """Write the world's vocabulary to `folder` and return a CLIPTokenizer reading it."""
    from transformers import CLIPTokenizer

    vocab, merges = write_tokenizer_files(world.vocabulary(), folder)
    return CLIPTokenizer(str(vocab), str(merges), model_max_length=MAX_LENGTH)


def text_config(tokenizer: Any, hidden: int, layers: int) -> dict[str, Any]:
    """A CLIPTextConfig (as a dict) for `tokenizer`'s vocabulary and special tokens."""
    vocab = tokenizer.get_vocab()
    return {
        "vocab_size": len(vocab),
        "hidden_size": hidden,
        "intermediate_size": hidden * 4,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "max_position_embeddings": MAX_LENGTH,
        "projection_dim": 64,
        "bos_token_id": vocab[START],
        # Pooling takes the first end token; padding with it keeps the pool at the real end.
        "eos_token_id": vocab[END],
        "pad_token_id": vocab[END],
    }


def build_clip(tokenizer: Any) -> Any:
    """A tiny CLIPModel: ViT on 4x4 patches of 32x32 images, 2-layer text tower, 64-d space."""
    from transformers import CLIPConfig, CLIPModel

    config = CLIPConfig(
        text_config=text_config(tokenizer, hidden=64, layers=2),
        vision_config={
            "image_size": world.SIZE,
            "patch_size": 4,
            "hidden_size": 64,
            "intermediate_size": 256,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "projection_dim": 64,
        },
        projection_dim=64,
    )
    return CLIPModel(config)


def build_processor(tokenizer: Any) -> Any:
    """The processor: the tokenizer, and an image processor sized to the world (no resize)."""
    from transformers import CLIPImageProcessor, CLIPProcessor

    # Mean and std 0.5 map pixels to [-1, 1], the same range the VAE works in.
    images = CLIPImageProcessor(
        size={"shortest_edge": world.SIZE},
        crop_size={"height": world.SIZE, "width": world.SIZE},
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    return CLIPProcessor(image_processor=images, tokenizer=tokenizer)  # type: ignore[no-untyped-call]


def degrade(pixels: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Blur and noise half the batch a little, so CLIP also reads soft, generated images."""
    n = pixels.shape[0]
    sigma = 0.3 + 0.9 * torch.rand((), generator=gen).item()
    offsets = torch.arange(-1, 2, dtype=torch.float32)
    kernel_1d = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel_1d = kernel_1d / kernel_1d.sum()
    kernel = (kernel_1d[:, None] * kernel_1d[None, :]).expand(3, 1, 3, 3)
    blurred = F.conv2d(F.pad(pixels, (1, 1, 1, 1), mode="replicate"), kernel, groups=3)
    pick = (torch.rand(n, 1, 1, 1, generator=gen) < 0.5).float()
    noise = torch.randn(pixels.shape, generator=gen) * 0.06 * torch.rand(n, 1, 1, 1, generator=gen)
    return (pick * blurred + (1 - pick) * pixels + noise).clamp(-1, 1)


@torch.no_grad()
def vae_renderings(vae: Any, pixels: torch.Tensor, chunk: int = 500) -> torch.Tensor:
    """Each image as the VAE gives it back (encode, decode): how generated images look."""
    out = []
    for start in range(0, pixels.shape[0], chunk):
        latents = vae.encode(pixels[start : start + chunk]).latent_dist.mean
        out.append(vae.decode(latents).sample.clamp(-1, 1))
    return torch.cat(out)


def train_clip(
    out: Path,
    *,
    steps: int,
    batch: int = 96,
    pool: int = 12000,
    seed: int = 1,
    vae: Any = None,
) -> dict[str, Any]:
    """Train the demo CLIP and save it with its processor in `out`; return training facts.

    With `vae`, a third of each batch shows the VAE's rendering of its images instead: CLIP
    judges generated images, which come out of that VAE, softer than the world draws them.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    tokenizer = make_tokenizer(out)
    model = build_clip(tokenizer)
    processor = build_processor(tokenizer)
    data = world.samples(seed, pool, world.ALL_SHAPES)
    pixels = torch.from_numpy(world.to_array([s.image for s in data]))
    rendered = vae_renderings(vae, pixels) if vae is not None else None
    combos = {c: i for i, c in enumerate(sorted({(s.shape, s.colour, s.background) for s in data}))}
    keys = torch.tensor([combos[(s.shape, s.colour, s.background)] for s in data])
    # Tokenize every phrasing of every sample once; each step picks a phrasing at random.
    phrasings = [
        tokenizer(
            [world.caption(s.shape, s.colour, s.background, t) for s in data],
            padding="max_length",
            max_length=16,
            truncation=True,
            return_tensors="pt",
        )
        for t in range(len(world.TEMPLATES))
    ]
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    warmup = max(steps // 20, 1)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (steps - warmup)))

    lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    progress = StageProgress("clip", steps, every=100)
    rng = random.Random(seed)
    model.train()
    for step in range(1, steps + 1):
        idx = torch.randint(0, pool, (batch,), generator=gen)
        template = phrasings[rng.randrange(len(phrasings))]
        ids, mask = template["input_ids"][idx], template["attention_mask"][idx]
        images = pixels[idx]
        if rendered is not None:
            pick = (torch.rand(batch, 1, 1, 1, generator=gen) < 1 / 3).float()
            images = pick * rendered[idx] + (1 - pick) * images
        outputs = model(input_ids=ids, attention_mask=mask, pixel_values=degrade(images, gen))
        same = (keys[idx][:, None] == keys[idx][None, :]).float()
        targets = same / same.sum(1, keepdim=True)
        loss = 0.5 * (
            F.cross_entropy(outputs.logits_per_image, targets)
            + F.cross_entropy(outputs.logits_per_text, targets)
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        lr_schedule.step()
        progress.step(step, loss.item())
    seconds = progress.done()
    model.eval()
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    scores = evaluate_clip(model, processor)
    say(f"[clip] zero-shot on 600 fresh images: {scores}")
    params = sum(p.numel() for p in model.parameters())
    return {"steps": steps, "batch": batch, "seconds": seconds, "params": params, **scores}


def evaluate_clip(
    model: Any, processor: Any, seed: int = 9001, count: int = 600
) -> dict[str, float]:
    """Zero-shot accuracy of CLIP on `count` fresh world images of all four shapes."""
    data = world.samples(seed, count, world.ALL_SHAPES)
    judge = WorldJudge(model, processor)
    readings = []
    for start in range(0, count, 200):
        readings += judge.read([s.image for s in data[start : start + 200]])
    return accuracy(readings, [(s.shape, s.colour, s.background) for s in data])
