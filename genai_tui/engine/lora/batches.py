"""The loss of each micro-batch: the diffusers LoRA recipe, with the frozen encoders cached.

Every random draw of a step (latent sampling, noise, noise offset, timesteps) is made for the
whole global batch, in a fixed order, from one CPU generator: each process then takes its slice,
so all processes' generators stay equal and a checkpoint of one resumes all.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from genai_tui.engine.lora.data import DataOrder, TrainData, augment_rng, to_pixels
from genai_tui.engine.lora.params import TrainParams
from genai_tui.engine.models import LoadedModel


class Batches:
    """Builds each micro-batch's loss: cached latent distributions and text embeddings."""

    def __init__(
        self,
        model: LoadedModel,
        data: TrainData,
        params: TrainParams,
        side: int,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        self.pipe, self.data, self.params, self.side = model.pipe, data, params, side
        self.device, self.dtype = device, dtype
        # The frozen VAE and text encoder give the same output for the same input: encode each
        # crop and caption once, not every step (the diffusers example re-encodes every step).
        self._latents: dict[tuple[int, int, int, bool], tuple[torch.Tensor, torch.Tensor]] = {}
        self._texts: dict[str, torch.Tensor] = {}
        self._cache_latents = params.center_crop

    @torch.no_grad()
    def _latent_dist(self, index: int, epoch: int, position: int) -> tuple[torch.Tensor, ...]:
        item = self.data.images[index % len(self.data.images)]
        rng = augment_rng(self.params.seed, epoch, position)
        pixels, (left, top, flipped) = to_pixels(
            item.image, self.side, self.params.center_crop, self.params.random_flip, rng
        )
        key = (index % len(self.data.images), left, top, flipped)
        cached = self._latents.get(key)
        if cached is None:
            pixels = pixels.unsqueeze(0).to(self.device, dtype=self.dtype)
            dist = self.pipe.vae.encode(pixels).latent_dist
            cached = (dist.mean, dist.std)
            if self._cache_latents:
                self._latents[key] = cached
        return cached

    @torch.no_grad()
    def _text(self, caption: str) -> torch.Tensor:
        cached = self._texts.get(caption)
        if cached is None:
            tokenizer = self.pipe.tokenizer
            ids = tokenizer(
                caption,
                padding="max_length",
                max_length=tokenizer.model_max_length,
                truncation=True,
                return_tensors="pt",
            ).input_ids.to(self.device)
            cached = self.pipe.text_encoder(ids, return_dict=False)[0]
            self._texts[caption] = cached
        return cached

    def loss(
        self,
        unet: Any,
        noise_scheduler: Any,
        order: DataOrder,
        generator: torch.Generator,
        accelerator: Any,
    ) -> torch.Tensor:
        """The loss of this process's slice of the next global micro-batch."""
        batch, rank = self.params.batch_size, accelerator.process_index
        draws = order.take(batch * accelerator.num_processes)
        # Drawn for the global batch in a fixed order, so every process's generator stays equal.
        channels = int(self.pipe.unet.config.in_channels)
        latent_side = self.side // self.pipe.vae_scale_factor
        shape = (len(draws), channels, latent_side, latent_side)
        eps = torch.randn(shape, generator=generator)
        noise = torch.randn(shape, generator=generator)
        if self.params.noise_offset:
            offset = torch.randn((len(draws), channels, 1, 1), generator=generator)
            noise = noise + self.params.noise_offset * offset
        steps_total = int(noise_scheduler.config.num_train_timesteps)
        timesteps = torch.randint(0, steps_total, (len(draws),), generator=generator)
        mine = slice(rank * batch, (rank + 1) * batch)
        dists = [self._latent_dist(*draw) for draw in draws[mine]]
        mean = torch.cat([d[0] for d in dists])
        std = torch.cat([d[1] for d in dists])
        scaling = float(self.pipe.vae.config.scaling_factor)
        eps_mine = eps[mine].to(self.device, dtype=mean.dtype)
        latents = (mean + std * eps_mine) * scaling
        noise_mine = noise[mine].to(self.device, dtype=latents.dtype)
        t_mine = timesteps[mine].to(self.device)
        noisy = noise_scheduler.add_noise(latents, noise_mine, t_mine)
        captions = [self.data.images[d[0] % len(self.data.images)].caption for d in draws[mine]]
        hidden = torch.cat([self._text(c) for c in captions])
        if noise_scheduler.config.prediction_type == "v_prediction":
            target = noise_scheduler.get_velocity(latents, noise_mine, t_mine)
        else:
            target = noise_mine
        pred = unet(noisy, t_mine, hidden, return_dict=False)[0]
        if self.params.snr_gamma is None:
            return F.mse_loss(pred.float(), target.float(), reduction="mean")
        return _min_snr_loss(pred, target, t_mine, noise_scheduler, self.params.snr_gamma)


def _min_snr_loss(
    pred: torch.Tensor, target: torch.Tensor, timesteps: torch.Tensor, scheduler: Any, gamma: float
) -> torch.Tensor:
    """Min-SNR-gamma weighting (Hang et al. 2023), as the diffusers LoRA example computes it."""
    from diffusers.training_utils import compute_snr

    snr: torch.Tensor = compute_snr(scheduler, timesteps)  # type: ignore[no-untyped-call]
    weights = torch.clamp(snr, max=gamma)
    if scheduler.config.prediction_type == "v_prediction":
        weights = weights / (snr + 1)
    else:
        weights = weights / snr
    loss = F.mse_loss(pred.float(), target.float(), reduction="none")
    weighted: torch.Tensor = (loss.mean(dim=list(range(1, loss.ndim))) * weights).mean()
    return weighted
