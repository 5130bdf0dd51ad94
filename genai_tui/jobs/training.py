"""How a TrainJob runs: engine training in, events and session files out.

The same function runs on the worker thread and in `genai-tui train` (also under `accelerate
launch`, where only the main process writes session files and sends events).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_tui import __version__
from genai_tui.engine.errors import Cancelled
from genai_tui.jobs.context import JobContext
from genai_tui.jobs.events import (
    CheckpointSaved,
    FilesSkipped,
    ImageReady,
    LoraReady,
    ModelLoading,
    TrainingStarted,
    TrainStep,
    ValidationImages,
)
from genai_tui.jobs.records import MadeBy, image_record, save_image
from genai_tui.jobs.scoring import Scoring, save_scored
from genai_tui.jobs.specs import LORAS_DIR, TrainJob, check_lora_free, check_lora_name
from genai_tui.session.models import ImageRecord, LoraRecord, LoraUse, TrainRun

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from genai_tui.engine.lora.params import TrainParams
    from genai_tui.engine.lora.sampling import Sample
    from genai_tui.engine.lora.train import StepReport, TrainedLora, TrainInfo
    from genai_tui.session.store import SessionStore

RUNS_DIR = "runs"


def run_train(job: TrainJob, ctx: JobContext) -> LoraRecord | None:
    """Train, export and record the LoRA; returns its record (None on non-main processes)."""
    from genai_tui.engine.lora.train import is_main_process, train_lora
    from genai_tui.engine.models import default_model_ref
    from genai_tui.engine.sources import resolve_source

    params = job.params.validate()
    store = job.session
    name = check_lora_name(job.name)
    model_ref = job.model or store.session.model or default_model_ref()
    resolve_source(model_ref)  # a typo fails now, before anything loads
    main = is_main_process()
    resume = Path(job.resume).expanduser().resolve() if job.resume else None
    if resume is not None:
        run_dir = resume.parent
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        run_dir = store.path / RUNS_DIR / f"{name}-{stamp}"
    check_lora_free(store, name, job.resume)
    previous = store.run(run_dir.name)
    run = previous or TrainRun(
        name=run_dir.name,
        lora=name,
        total_steps=params.steps,
        model=model_ref,
        data=str(Path(job.data).expanduser().resolve()),
        params=params.to_json(),
        log=_relative(store.path, run_dir / "log.jsonl"),
    )
    run = run.model_copy(
        update={"status": "running", "total_steps": params.steps, "error": "", "lora": name}
    )
    if main:
        run = store.save_run(run)
    # Training loads its own full-precision copy; the generation pipeline would only take memory.
    ctx.models.release()
    observer = _Reporter(job, ctx, run, main)
    try:
        trained = train_lora(
            model_ref,
            Path(job.data),
            params,
            run_dir,
            observer=observer,
            cancel=ctx.cancel,
            resume=resume,
            device=job.load.device,
        )
    except BaseException as exc:
        if main:
            status = "cancelled" if isinstance(exc, Cancelled | KeyboardInterrupt) else "failed"
            error = "" if status == "cancelled" else (str(exc).splitlines() or [""])[0]
            store.save_run(observer.run.model_copy(update={"status": status, "error": error}))
        raise
    if not main:
        return None
    record = export_trained(job, trained, name, model_ref, run_dir)
    store.save_run(observer.run.model_copy(update={"status": "finished", "step": trained.step}))
    ctx.emit(LoraReady(ctx.job_id, record, store.path / record.folder))
    return record


def export_trained(
    job: TrainJob, trained: TrainedLora, name: str, model_ref: str, run_dir: Path
) -> LoraRecord:
    """Write loras/<name>/ (both weight formats, config, loss log, sample grid) and record it."""
    made = LoraMade(
        adapter=trained.adapter,
        adapter_config=trained.adapter_config,
        params=trained.params,
        step=trained.step,
        model_ref=model_ref,
        model_name=trained.model.source.name,
        model_hash=trained.model.model_hash,
        resolution=trained.resolution,
        images=tuple(item.path.name for item in trained.data.images),
        captions=tuple(trained.data.captions),
        skipped=tuple(s.name for s in trained.data.skipped),
        data=str(Path(job.data).expanduser().resolve()),
        run_dir=run_dir,
        final_loss=trained.losses[-1][1] if trained.losses else None,
        samples=[(step, [s.image for s in samples]) for step, samples in trained.samples],
    )
    return write_lora_folder(job.session, name, made)


@dataclass(frozen=True)
class LoraMade:
    """What loras/<name>/ is written from: a finished training, or a checkpoint of a run."""

    adapter: dict[str, torch.Tensor]
    adapter_config: dict[str, Any]
    params: TrainParams
    step: int
    model_ref: str
    model_name: str
    model_hash: str
    resolution: int
    images: tuple[str, ...]
    """The training images' file names."""
    captions: tuple[str, ...]
    skipped: tuple[str, ...]
    data: str
    """The data folder, absolute."""
    run_dir: Path
    final_loss: float | None
    samples: list[tuple[int, list[Image.Image]]] = field(default_factory=list)


def write_lora_folder(store: SessionStore, name: str, made: LoraMade) -> LoraRecord:
    """Write loras/<name>/ from `made` and record it in the session: one way for every LoRA."""
    from genai_tui.engine.lora.export import export_lora, kohya_metadata
    from genai_tui.engine.lora.sampling import sample_grid

    params = made.params
    folder = store.path / LORAS_DIR / name
    trigger = params.instance_prompt or (made.captions[0] if made.captions else "")
    metadata = kohya_metadata(
        name=name,
        rank=params.rank,
        alpha=params.alpha,
        steps=made.step,
        extra={
            "ss_sd_model_name": made.model_name,
            "ss_new_sd_model_hash": made.model_hash,
            "ss_learning_rate": params.learning_rate,
            "ss_lr_scheduler": params.lr_schedule,
            "ss_lr_warmup_steps": params.warmup_steps,
            "ss_batch_size_per_device": params.batch_size,
            "ss_gradient_accumulation_steps": params.gradient_accumulation,
            "ss_resolution": f"({made.resolution}, {made.resolution})",
            "ss_num_train_images": len(made.images) * params.repeats,
            "ss_seed": params.seed,
            "ss_mixed_precision": params.mixed_precision,
            "ss_noise_offset": params.noise_offset,
            "ss_min_snr_gamma": params.snr_gamma,
            "ss_training_comment": f"trigger: {trigger}",
            "ss_tag_frequency": _tag_frequency(list(made.captions)),
            "ss_training_finished_at": datetime.now(UTC).timestamp(),
            "modelspec.title": name,
            "genai_tui_version": __version__,
        },
    )
    exported = export_lora(made.adapter, made.adapter_config, folder, name, metadata)
    config = {
        "name": name,
        "model": made.model_ref,
        "model_hash": made.model_hash,
        "data": made.data,
        "images": list(made.images),
        "skipped": list(made.skipped),
        "steps_done": made.step,
        "run": made.run_dir.name,
        "params": params.to_json(),
        "genai_tui": __version__,
    }
    (folder / "training.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    _copy_log(made.run_dir / "log.jsonl", folder / "loss.jsonl", made.step)
    if made.samples:
        sample_grid(made.samples).save(folder / "samples.png")
    record = LoraRecord(
        name=name,
        folder=_relative(store.path, folder),
        webui_file=_relative(store.path, exported.webui_file),
        diffusers_file=_relative(store.path, exported.diffusers_file),
        hash=exported.hash,
        base_model=made.model_ref,
        base_model_hash=made.model_hash,
        rank=params.rank,
        alpha=params.alpha,
        steps=made.step,
        trigger=trigger,
        images=len(made.images),
        run=made.run_dir.name,
        final_loss=made.final_loss,
    )
    return store.add_lora(record)


def _copy_log(log: Path, target: Path, step: int) -> None:
    """The run's log up to `step`, line for line (a checkpoint's LoRA has not seen later steps)."""
    if not log.is_file():
        return
    kept = []
    for line in log.read_text(encoding="utf-8").splitlines(keepends=True):
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        if isinstance(row, dict) and int(row.get("step", 0)) <= step:
            kept.append(line)
    target.write_text("".join(kept), encoding="utf-8")


class _Reporter:
    """Engine callbacks to events and session writes (main process only)."""

    def __init__(self, job: TrainJob, ctx: JobContext, run: TrainRun, main: bool) -> None:
        self.job, self.ctx, self.run, self.main = job, ctx, run, main
        self.emit = ctx.emit
        self.info: TrainInfo | None = None

    def loading(self, what: str) -> None:
        self.emit(ModelLoading(self.job.id, what))

    def skipped(self, files: list[tuple[str, str]]) -> None:
        names = tuple(name for name, _ in files)
        listed = ", ".join(f"{name} ({why})" for name, why in files[:10])
        more = f" and {len(files) - 10} more" if len(files) > 10 else ""
        message = f"skipped {len(files)} file(s) of the data folder: {listed}{more}"
        self.emit(FilesSkipped(self.job.id, message, names))

    def started(self, info: TrainInfo) -> None:
        self.info = info
        self.emit(
            TrainingStarted(
                self.job.id,
                run=self.run.name,
                lora=self.run.lora,
                trainable_params=info.trainable_params,
                unet_params=info.unet_params,
                start_step=info.start_step,
                total_steps=info.total_steps,
                images=info.images,
                resolution=info.resolution,
                device=info.device,
                processes=info.processes,
                rank=self.job.params.rank,
                layers=self.job.params.lora_layers,
            )
        )

    def step(self, report: StepReport) -> None:
        self.run = self.run.model_copy(update={"step": report.step, "last_loss": report.loss})
        self.emit(
            TrainStep(
                self.job.id,
                run=self.run.name,
                step=report.step,
                total=report.total,
                loss=report.loss,
                lr=report.lr,
                rate=report.rate,
                eta=report.eta,
                epoch=report.epoch,
            )
        )

    def samples(self, step: int, samples: list[Sample]) -> None:
        store, info = self.job.session, self.info
        made_by = MadeBy(
            self.run.model,
            info.model_name if info else "",
            info.model_hash if info else "",
            info.device if info else "",
            self.job.params.mixed_precision,
        )
        made = [
            (
                image_record(
                    sample.params,
                    seed=sample.seed,
                    width=sample.image.width,
                    height=sample.image.height,
                    made_by=made_by,
                    loras=[LoraUse(name=self.run.lora, weight=1.0)],
                    train_run=self.run.name,
                    train_step=step,
                ),
                sample.image,
            )
            for sample in samples
        ]

        def save(record: ImageRecord, image: Image.Image) -> ImageRecord:
            saved = save_image(store, record, image)
            # Each sample is an ordinary gallery image, scored like any other.
            self.emit(ImageReady(self.job.id, saved, store.path / saved.file))
            return saved

        if self.job.score:
            device = info.device if info else "cpu"
            scoring = Scoring(clip=self.job.clip)
            records = save_scored(self.ctx, scoring, self.run.model, device, made, save)
        else:
            records = [save(record, image) for record, image in made]
        paths = tuple(store.path / r.file for r in records)
        self.emit(ValidationImages(self.job.id, self.run.name, step, tuple(records), paths))

    def checkpoint(self, step: int, folder: Path) -> None:
        store = self.job.session
        relative = _relative(store.path, folder)
        kept = [c for c in self.run.checkpoints if c != relative]
        self.run = store.save_run(
            self.run.model_copy(update={"checkpoints": [*kept, relative], "step": step})
        )
        self.emit(CheckpointSaved(self.job.id, self.run.name, step, folder))


def _relative(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)  # a checkpoint resumed from outside the session


def _tag_frequency(captions: list[str]) -> dict[str, dict[str, int]]:
    """kohya's ss_tag_frequency: comma-separated tags counted per dataset folder."""
    counts: dict[str, int] = {}
    for caption in captions:
        for tag in (t.strip() for t in caption.split(",")):
            if tag:
                counts[tag] = counts.get(tag, 0) + 1
    return {"data": counts}
