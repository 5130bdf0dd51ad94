"""Train the demo UNet and its text encoder together, on precomputed latents of the world.

The text encoder is a tiny CLIPTextModel trained jointly with the UNet (see the model card for
why it is not the demo CLIP's frozen text tower). The VAE is frozen by now, so every image is
encoded once up front and training only runs the text encoder and the UNet. Ten percent of
captions are dropped to the empty prompt, which is what classifier-free guidance contrasts with.

Two cheap tricks make a short run go further: Min-SNR loss weighting (gamma 5), which stops the
easy, nearly clean timesteps from dominating the gradient, and an exponential moving average of
the weights, which is what gets saved.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import torch
import torch.nn.functional as F

from genai_tui.demo import world
from genai_tui.demo.clip_train import MAX_LENGTH, text_config
from genai_tui.demo.progress import StageProgress
from genai_tui.demo.vae_train import encode

EMPTY_CAPTION_RATE = 0.1
MIN_SNR_GAMMA = 5.0


def scheduler_config() -> dict[str, Any]:
    """SD 1.5's noise schedule: scaled-linear betas 0.00085..0.012, 1000 steps, epsilon."""
    return {
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "num_train_timesteps": 1000,
        "prediction_type": "epsilon",
        "clip_sample": False,
        "set_alpha_to_one": False,
        "skip_prk_steps": True,
        "steps_offset": 1,
    }


def build_text_encoder(tokenizer: Any) -> Any:
    """A 2-layer, width-64 CLIPTextModel over the world's small vocabulary."""
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(CLIPTextConfig(**text_config(tokenizer, hidden=64, layers=2)))


def build_unet() -> Any:
    """A tiny UNet2DConditionModel on 8x8x4 latents, cross-attention at every level."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(  # type: ignore[no-untyped-call]
        sample_size=world.SIZE // 4,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(64, 128),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=64,
        attention_head_dim=8,
        norm_num_groups=32,
    )


class Ema:
    """Exponential moving average of parameters, with a warm-up so early weights fade fast."""

    def __init__(self, params: list[torch.nn.Parameter], decay: float = 0.998) -> None:
        self.params = params
        self.shadow = [p.detach().clone() for p in params]
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        """Blend the current parameters into the average."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for s, p in zip(self.shadow, self.params, strict=True):
            s.mul_(d).add_(p.detach(), alpha=1 - d)

    @torch.no_grad()
    def copy_to_params(self) -> None:
        """Overwrite the live parameters with the average."""
        for s, p in zip(self.shadow, self.params, strict=True):
            p.copy_(s)


def caption_table(tokenizer: Any) -> tuple[dict[tuple[str, str, str], int], torch.Tensor]:
    """Token ids (combos x phrasings x 77) for every (shape, colour, background) and phrasing."""
    combos = list(itertools.product(world.SHAPES, world.COLOURS, world.BACKGROUNDS))
    rows = []
    for shape, colour, background in combos:
        texts = [world.caption(shape, colour, background, t) for t in range(len(world.TEMPLATES))]
        # Padded to 77 like the pipeline does, so training sees what inference will.
        ids = tokenizer(texts, padding="max_length", max_length=MAX_LENGTH, return_tensors="pt")
        rows.append(ids["input_ids"])
    return {c: i for i, c in enumerate(combos)}, torch.stack(rows)


def train_unet(
    vae: Any, tokenizer: Any, *, steps: int, batch: int = 48, pool: int = 12000, seed: int = 3
) -> tuple[Any, Any, dict[str, Any]]:
    """Train UNet and text encoder jointly; return both (EMA weights, eval mode) and facts."""
    from diffusers import DDPMScheduler

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    unet, text_encoder = build_unet(), build_text_encoder(tokenizer)
    noise_schedule = DDPMScheduler.from_config(scheduler_config())  # type: ignore[no-untyped-call]
    data = world.samples(seed, pool, world.SHAPES)
    latents = encode(vae, torch.from_numpy(world.to_array([s.image for s in data])))
    index, table = caption_table(tokenizer)
    keys = torch.tensor([index[(s.shape, s.colour, s.background)] for s in data])
    empty = tokenizer([""], padding="max_length", max_length=MAX_LENGTH, return_tensors="pt")
    empty_ids = empty["input_ids"][0]
    alphas = noise_schedule.alphas_cumprod
    params = [*unet.parameters(), *text_encoder.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1.2e-3, weight_decay=0.01)
    warmup = max(steps // 25, 1)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (steps - warmup)))

    lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    ema = Ema(params)
    progress = StageProgress("unet", steps, every=25)
    unet.train()
    text_encoder.train()
    for step in range(1, steps + 1):
        idx = torch.randint(0, pool, (batch,), generator=gen)
        x0 = latents[idx]
        ids = table[keys[idx], rng.randrange(len(world.TEMPLATES))].clone()
        drop = torch.rand(batch, generator=gen) < EMPTY_CAPTION_RATE
        ids[drop] = empty_ids
        noise = torch.randn(x0.shape, generator=gen)
        t = torch.randint(0, noise_schedule.config.num_train_timesteps, (batch,), generator=gen)
        noisy = noise_schedule.add_noise(x0, noise, t)
        states = text_encoder(ids)[0]
        pred = unet(noisy, t, states).sample
        snr = alphas[t] / (1 - alphas[t])
        weight = snr.clamp(max=MIN_SNR_GAMMA) / snr
        loss = (weight * F.mse_loss(pred, noise, reduction="none").mean((1, 2, 3))).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        lr_schedule.step()
        ema.update()
        progress.step(step, loss.item())
    seconds = progress.done()
    ema.copy_to_params()
    unet.eval()
    text_encoder.eval()
    facts = {
        "steps": steps,
        "batch": batch,
        "seconds": seconds,
        "unet_params": sum(p.numel() for p in unet.parameters()),
        "text_encoder_params": sum(p.numel() for p in text_encoder.parameters()),
    }
    return unet, text_encoder, facts
