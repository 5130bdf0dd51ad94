"""Train a LoRA on the UNet's attention projections: the diffusers recipe in an accelerate loop.

The same loop runs on the worker thread (one device) and headless, also under
`accelerate launch` (data parallel: each process takes its slice of every global batch). All
randomness of a step (latent sampling, noise, timesteps) is drawn for the whole global batch from
one CPU generator that every process holds in the same state, so a checkpoint made by the main
process resumes every process exactly, and the loss curve continues as if never interrupted.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from genai_tui.engine.errors import BadInput, Cancelled
from genai_tui.engine.lora.batches import Batches
from genai_tui.engine.lora.checkpoint import (
    checkpoint_dir,
    load_checkpoint,
    lora_config,
    restore_rng,
    save_checkpoint,
)
from genai_tui.engine.lora.data import DataOrder, TrainData, load_folder
from genai_tui.engine.lora.params import TrainParams
from genai_tui.engine.lora.runlog import RunLog
from genai_tui.engine.lora.sampling import Sample, make_samples
from genai_tui.engine.models import LoadedModel, load_model
from genai_tui.engine.params import LoadOptions

# Fields that define the optimisation itself: a resumed run must keep them, or its curve would
# not be the continuation of the checkpoint's.
RESUME_FIXED = (
    "rank",
    "lora_layers",
    "alpha",
    "learning_rate",
    "lr_schedule",
    "warmup_steps",
    "batch_size",
    "gradient_accumulation",
    "resolution",
    "center_crop",
    "random_flip",
    "repeats",
    "instance_prompt",
    "mixed_precision",
    "snr_gamma",
    "noise_offset",
    "max_grad_norm",
    "weight_decay",
    "seed",
)


@dataclass(frozen=True)
class TrainInfo:
    """What is about to be trained: sent once, before the first step."""

    run_dir: Path
    trainable_params: int
    unet_params: int
    """All UNet parameters, the LoRA's included (as peft counts them)."""
    start_step: int
    total_steps: int
    images: int
    resolution: int
    device: str
    processes: int
    model_name: str = ""
    model_hash: str = ""

    @property
    def trainable_share(self) -> float:
        """Trainable parameters as a share of the UNet's (0-1): LoRA trains well under 1 %."""
        return self.trainable_params / self.unet_params if self.unet_params else 0.0


@dataclass(frozen=True)
class StepReport:
    """One optimizer step done."""

    step: int
    total: int
    loss: float
    lr: float
    rate: float
    """Optimizer steps per second, over this session's training time (sampling excluded)."""
    eta: float
    """Seconds of training left at that rate."""
    epoch: int


class TrainObserver(Protocol):
    """What the training loop tells its caller; called on the main process only."""

    def loading(self, what: str) -> None:
        """A model or the data is being loaded."""

    def skipped(self, files: list[tuple[str, str]]) -> None:
        """Data files training leaves out (not images, damaged, unusable captions), as
        (file name, reason)."""

    def started(self, info: TrainInfo) -> None:
        """Everything is set up; the first step comes next."""

    def step(self, report: StepReport) -> None:
        """An optimizer step finished."""

    def samples(self, step: int, samples: list[Sample]) -> None:
        """Validation images made after `step`."""

    def checkpoint(self, step: int, folder: Path) -> None:
        """A resumable checkpoint was written."""


class SilentObserver:
    """A TrainObserver that ignores everything (other processes, benchmarks)."""

    def loading(self, what: str) -> None:
        """Ignored."""

    def skipped(self, files: list[tuple[str, str]]) -> None:
        """Ignored."""

    def started(self, info: TrainInfo) -> None:
        """Ignored."""

    def step(self, report: StepReport) -> None:
        """Ignored."""

    def samples(self, step: int, samples: list[Sample]) -> None:
        """Ignored."""

    def checkpoint(self, step: int, folder: Path) -> None:
        """Ignored."""


@dataclass
class TrainedLora:
    """The result: LoRA weights (peft keys, fp32, CPU) and what is needed to export them."""

    adapter: dict[str, torch.Tensor]
    adapter_config: dict[str, Any]
    params: TrainParams
    model: LoadedModel
    data: TrainData
    step: int
    seconds: float
    losses: list[tuple[int, float]] = field(default_factory=list)
    samples: list[tuple[int, list[Sample]]] = field(default_factory=list)
    is_main_process: bool = True
    resolution: int = 0


def is_main_process() -> bool:
    """Whether this process writes files: always, unless a non-zero rank of `accelerate launch`."""
    return int(os.environ.get("RANK", "0")) == 0


def train_lora(
    model_ref: str,
    data_folder: Path,
    params: TrainParams,
    run_dir: Path,
    *,
    observer: TrainObserver | None = None,
    cancel: threading.Event | None = None,
    resume: Path | None = None,
    device: str = "auto",
) -> TrainedLora:
    """Train to `params.steps`, writing log and checkpoints into `run_dir`.

    Raises Cancelled (after writing a checkpoint) when `cancel` is set; resumes exactly from
    `resume`, a checkpoint folder, when given.
    """
    from accelerate.utils import set_seed
    from diffusers import DDPMScheduler
    from diffusers.optimization import get_scheduler
    from diffusers.training_utils import cast_training_params
    from peft import set_peft_model_state_dict
    from peft.utils import get_peft_model_state_dict

    params = params.validate()
    accelerator = _accelerator(params.mixed_precision, device)
    main = accelerator.is_main_process
    report: TrainObserver = observer if (observer is not None and main) else SilentObserver()
    checkpoint = load_checkpoint(resume) if resume is not None else None
    if checkpoint is not None:
        _check_resumable(params, checkpoint.state["params"])

    report.loading(f"loading {model_ref}")
    model = load_model(model_ref, LoadOptions(device="cpu", dtype="fp32"))
    side = params.resolution or model.native_size
    report.loading(f"reading {data_folder}")
    data = load_folder(data_folder, side, params.instance_prompt)
    if data.skipped:
        report.skipped([(s.name, s.reason) for s in data.skipped])

    set_seed(params.seed)  # python, numpy and torch: the LoRA init below draws from torch
    weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(
        params.mixed_precision, torch.float32
    )
    pipe = model.pipe
    unet, vae, text_encoder = pipe.unet, pipe.vae, pipe.text_encoder
    for part in (unet, vae, text_encoder):
        part.requires_grad_(False)
        part.to(accelerator.device, dtype=weight_dtype)
    model.device = str(accelerator.device)
    unet.add_adapter(lora_config(params))
    if weight_dtype != torch.float32:
        cast_training_params(unet, dtype=torch.float32)  # the LoRA trains in fp32
    if params.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    trainable = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        trainable, lr=params.learning_rate, weight_decay=params.weight_decay
    )
    lr_scheduler = get_scheduler(
        params.lr_schedule,
        optimizer=optimizer,
        num_warmup_steps=params.warmup_steps,
        num_training_steps=params.steps,
    )
    train_unet, optimizer = accelerator.prepare(unet, optimizer)
    order = DataOrder(len(data.images) * params.repeats, params.seed)
    noise_generator = torch.Generator("cpu").manual_seed(params.seed)
    start = 0
    if checkpoint is not None:
        set_peft_model_state_dict(unet, checkpoint.adapter)
        optimizer.load_state_dict(checkpoint.optimizer)
        lr_scheduler.load_state_dict(checkpoint.state["lr_scheduler"])
        if accelerator.scaler is not None and checkpoint.state.get("grad_scaler"):
            accelerator.scaler.load_state_dict(checkpoint.state["grad_scaler"])
        order.restore(checkpoint.state["data"])
        restore_rng(checkpoint, noise_generator)
        start = checkpoint.step

    log = RunLog(run_dir, enabled=main)
    log.start(start)
    info = TrainInfo(
        run_dir=run_dir,
        trainable_params=sum(p.numel() for p in trainable),
        unet_params=sum(p.numel() for p in unet.parameters()),
        start_step=start,
        total_steps=params.steps,
        images=len(data.images),
        resolution=side,
        device=str(accelerator.device),
        processes=accelerator.num_processes,
        model_name=model.source.name,
        model_hash=model.model_hash,
    )
    log.write("start", step=start, trainable=info.trainable_params, unet=info.unet_params)
    report.started(info)

    batches = Batches(model, data, params, side, accelerator.device, weight_dtype)
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)  # type: ignore[no-untyped-call]
    result = TrainedLora(
        {}, {}, params, model, data, start, 0.0, is_main_process=main, resolution=side
    )

    def save(step: int) -> None:
        if main:
            state = {
                "params": params.to_json(),
                "model": model_ref,
                "data": order.state(),
                "lr_scheduler": lr_scheduler.state_dict(),
                "grad_scaler": accelerator.scaler.state_dict() if accelerator.scaler else None,
                "processes": accelerator.num_processes,
            }
            folder = save_checkpoint(
                checkpoint_dir(run_dir, step),
                step=step,
                adapter=get_peft_model_state_dict(unet),
                optimizer=optimizer,
                noise_generator=noise_generator,
                state=state,
            )
            log.write("checkpoint", step=step, path=folder.name)
            report.checkpoint(step, folder)
        accelerator.wait_for_everyone()

    def sample(step: int) -> None:
        if main:
            prompts = list(params.validation_prompts) or [data.images[0].caption]
            unet.eval()
            with torch.random.fork_rng(devices=[]), accelerator.autocast():
                samples = make_samples(
                    model, prompts, params.validation_seeds, params.validation_steps, side
                )
            unet.train()
            result.samples.append((step, samples))
            log.write("sample", step=step, images=len(samples))
            report.samples(step, samples)
        accelerator.wait_for_everyone()

    started = time.perf_counter()
    train_seconds, done_here, step = 0.0, 0, start
    unet.train()
    while step < params.steps:
        tick = time.perf_counter()
        loss_value = 0.0
        for micro in range(params.gradient_accumulation):
            last = micro == params.gradient_accumulation - 1
            sync = contextlib.nullcontext() if last else accelerator.no_sync(train_unet)
            with sync:
                loss = batches.loss(
                    train_unet, noise_scheduler, order, noise_generator, accelerator
                )
                accelerator.backward(loss / params.gradient_accumulation)
            shared = accelerator.gather(loss.detach().reshape(1)).mean()
            loss_value += float(shared) / params.gradient_accumulation
        if params.max_grad_norm > 0:
            accelerator.clip_grad_norm_(trainable, params.max_grad_norm)
        optimizer.step()
        if not accelerator.optimizer_step_was_skipped:
            lr_scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        done_here += 1
        train_seconds += time.perf_counter() - tick
        rate = done_here / train_seconds if train_seconds > 0 else 0.0
        lr = float(lr_scheduler.get_last_lr()[0])
        result.losses.append((step, loss_value))
        log.write("step", step=step, loss=loss_value, lr=lr, rate=round(rate, 4), epoch=order.epoch)
        eta = (params.steps - step) / rate if rate > 0 else 0.0
        report.step(StepReport(step, params.steps, loss_value, lr, rate, eta, order.epoch))
        if _cancelled(cancel, accelerator):
            save(step)
            log.write("cancelled", step=step)
            raise Cancelled(f"training cancelled at step {step}; a checkpoint was saved")
        if step < params.steps:
            if params.checkpoint_every and step % params.checkpoint_every == 0:
                save(step)
            if params.validation_every and step % params.validation_every == 0:
                sample(step)
    sample(step)
    save(step)
    result.step = step
    result.seconds = time.perf_counter() - started
    result.adapter = {
        k: v.detach().float().cpu() for k, v in get_peft_model_state_dict(unet).items()
    }
    result.adapter_config = unet.peft_config["default"].to_dict()
    log.write("end", step=step, seconds=round(result.seconds, 3))
    return result


def _accelerator(mixed_precision: str, device: str) -> Any:
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if not distributed:
        # One process trains job after job: each may ask for another precision or device,
        # which accelerate's process-wide state refuses unless it is reset.
        AcceleratorState._reset_state(reset_partial_state=True)
    if device not in {"auto", "cpu", "cuda", "mps"}:
        raise BadInput(f"unknown device {device!r}", hint="use auto, cuda, mps or cpu")
    cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available())
    if cpu and mixed_precision == "fp16":
        raise BadInput("fp16 mixed precision needs a GPU", hint="on the CPU use no (or bf16)")
    return Accelerator(mixed_precision=mixed_precision, cpu=cpu)


def _cancelled(cancel: threading.Event | None, accelerator: Any) -> bool:
    """Whether to stop now; every process agrees (one Ctrl-C reaches them at different steps)."""
    flag = cancel is not None and cancel.is_set()
    if accelerator.num_processes == 1:
        return flag
    votes = accelerator.gather(torch.tensor([float(flag)], device=accelerator.device))
    return bool(votes.max() > 0)


def _check_resumable(params: TrainParams, saved: dict[str, Any]) -> None:
    before = TrainParams.from_json(saved).to_json()
    now = params.to_json()
    changed = [key for key in RESUME_FIXED if before.get(key) != now.get(key)]
    if changed:
        raise BadInput(
            f"cannot resume with changed {', '.join(changed)}",
            hint="resume with the checkpoint's settings; only steps, sampling and checkpoint "
            "intervals may change",
        )
