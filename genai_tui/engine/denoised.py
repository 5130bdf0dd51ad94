"""The clean latent a scheduler predicts at each step (x0), so a decoded preview shows the image.

A pipeline's step callback sees only the noisy latents x_t; decoded, they show the noise still
left (on the demo model, PNDM-like schedules leave a lot at 80 % of the steps). Schedulers work
out their prediction of the clean latent on the way: most return it from `step`
(`pred_original_sample`: Euler, Euler a, Heun, DPM2, DDIM), the multistep solvers keep their data
prediction in `model_outputs` (DPM++, UniPC), and for an epsilon-predicting scheduler on x_t =
sqrt(a) x0 + sqrt(1 - a) eps (PNDM) it follows from the noise prediction the step was given.

`step` is observed, never changed: the same arguments in, the same result out, and its signature
kept (the pipeline reads it to decide whether to pass a generator), so images stay
pixel-identical to diffusers.
"""

from __future__ import annotations

import functools
from typing import Any

import torch


class CleanLatents:
    """Watches a scheduler's steps; `latest()` is the newest prediction of x0, or None."""

    def __init__(self, scheduler: Any) -> None:
        self._scheduler = scheduler
        self._last: tuple[Any, tuple[Any, ...], dict[str, Any]] | None = None
        original = scheduler.step

        @functools.wraps(original)
        def step(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            self._last = (result, args, kwargs)  # worked out only when a preview asks
            return result

        scheduler.step = step

    def latest(self) -> torch.Tensor | None:
        """The scheduler's x0 for the latest step, in the latents' space; None if it has none."""
        if self._last is None:
            return None
        result, args, kwargs = self._last
        returned = _returned_x0(result)
        if returned is not None:
            return returned
        kept = _kept_x0(self._scheduler)
        if kept is not None:
            return kept
        return _x0_from_noise(self._scheduler, args, kwargs)


def _returned_x0(result: Any) -> torch.Tensor | None:
    """`pred_original_sample`, from an output object or the (prev_sample, x0) tuple."""
    found = getattr(result, "pred_original_sample", None)
    if found is None and isinstance(result, tuple) and len(result) > 1:
        found = result[1]
    return found if isinstance(found, torch.Tensor) else None


def _kept_x0(scheduler: Any) -> torch.Tensor | None:
    """The data prediction a multistep solver keeps for its next step (DPM++, UniPC)."""
    config = scheduler.config
    predicts_data = str(getattr(config, "algorithm_type", "")).endswith("dpmsolver++") or bool(
        getattr(config, "predict_x0", False)
    )
    outputs = getattr(scheduler, "model_outputs", None)
    if not predicts_data or not outputs or not isinstance(outputs[-1], torch.Tensor):
        return None
    return outputs[-1]


def _x0_from_noise(
    scheduler: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> torch.Tensor | None:
    """x0 = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t) for epsilon prediction on unscaled x_t."""
    sigma_scaled = float(getattr(scheduler, "init_noise_sigma", 1.0)) != 1.0
    cumprod = getattr(scheduler, "alphas_cumprod", None)
    if scheduler.config.prediction_type != "epsilon" or sigma_scaled or cumprod is None:
        return None
    noise = args[0] if len(args) > 0 else kwargs.get("model_output")
    timestep = args[1] if len(args) > 1 else kwargs.get("timestep")
    sample = args[2] if len(args) > 2 else kwargs.get("sample")
    if not isinstance(noise, torch.Tensor) or not isinstance(sample, torch.Tensor):
        return None
    alpha: torch.Tensor = cumprod[int(timestep)].to(sample.device, torch.float32)  # type: ignore[arg-type]
    clean = (sample.float() - (1 - alpha).sqrt() * noise.float()) / alpha.sqrt()
    return clean.to(sample.dtype)
