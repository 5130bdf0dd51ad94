"""A training checkpoint as LoRA files: once for a sweep's cells, or kept as a session LoRA.

`ensure_checkpoint_lora` writes the file a checkpoint axis applies (inside the checkpoint
folder, made once); `run_export_checkpoint` runs an ExportCheckpointJob: loras/<name>/ written
by the very function a finished training writes its own with (jobs/training.py), then LoraReady.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from genai_tui.engine.errors import BadInput
from genai_tui.engine.safetensors_check import check_lora_file
from genai_tui.jobs.checkpoints import export_name, find_checkpoint, find_run
from genai_tui.jobs.context import JobContext
from genai_tui.jobs.events import JobWarning, LoraReady
from genai_tui.jobs.loading import load_model_for
from genai_tui.jobs.specs import ExportCheckpointJob
from genai_tui.jobs.sweep_axes import CheckpointLora, Plan
from genai_tui.jobs.training import LoraMade, write_lora_folder
from genai_tui.session.models import LoraRecord, TrainRun
from genai_tui.session.store import SessionStore


def ensure_checkpoint_lora(checkpoint: CheckpointLora) -> Path:
    """The LoRA file of `checkpoint`, written from its adapter if it is not there yet."""
    from genai_tui.engine.lora.checkpoint import checkpoint_adapter
    from genai_tui.engine.lora.export import export_lora, kohya_metadata

    file = Path(checkpoint.file)
    if file.is_file():
        return check_lora_file(file).path
    adapter = checkpoint_adapter(Path(checkpoint.folder))
    params = adapter.params
    metadata = kohya_metadata(
        name=file.stem, rank=params.rank, alpha=params.alpha, steps=adapter.step, extra={}
    )
    # The webui file is written last (and each file whole): once it is there, both are.
    exported = export_lora(
        adapter.adapter, adapter.adapter_config, file.parent, file.stem, metadata
    )
    return check_lora_file(exported.webui_file).path


def ensure_plan_loras(plan: Plan) -> None:
    """Write the LoRA file of every checkpoint a plan's checkpoint axes apply."""
    for axis in plan.axes:
        if axis.kind == "checkpoint":
            for value in axis.values:
                ensure_checkpoint_lora(value.value)


def run_export_checkpoint(job: ExportCheckpointJob, ctx: JobContext) -> LoraRecord:
    """Write checkpoint `job.step` of `job.run` as loras/<name>/, record it, emit LoraReady."""
    from genai_tui.engine.lora.checkpoint import checkpoint_adapter
    from genai_tui.engine.lora.data import load_folder
    from genai_tui.engine.lora.runlog import read_log

    store = ctx.store()
    run = find_run(store, job.run)
    checkpoint = find_checkpoint(store, run, job.step)
    name = export_name(store, run, job.step, job.name)
    adapter = checkpoint_adapter(Path(checkpoint.folder))
    params = adapter.params
    # The base model's name and hash go into the files, as training writes them.
    model = load_model_for(ctx, run.model or None, job.load)
    side = params.resolution or model.native_size
    images: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    try:
        if not run.data:
            raise BadInput("the run names no data folder")
        data = load_folder(Path(run.data), side, params.instance_prompt)
        images = tuple(item.path.name for item in data.images)
        captions = tuple(data.captions)
        skipped = tuple(s.name for s in data.skipped)
    except (BadInput, OSError) as exc:
        warning = f"the run's data cannot be read ({exc}): the LoRA's files do not list it"
        ctx.emit(JobWarning(ctx.job_id, warning))
    run_dir = Path(checkpoint.folder).parent
    losses = [
        float(row["loss"])
        for row in read_log(run_dir / "log.jsonl")
        if row.get("kind") == "step" and row.get("step") == job.step and "loss" in row
    ]
    made = LoraMade(
        adapter=adapter.adapter,
        adapter_config=adapter.adapter_config,
        params=params,
        step=adapter.step,
        model_ref=run.model or model.source.ref,
        model_name=model.source.name,
        model_hash=model.model_hash,
        resolution=side,
        images=images,
        captions=captions,
        skipped=skipped,
        data=run.data,
        run_dir=run_dir,
        final_loss=losses[-1] if losses else None,
        samples=_samples(store, run, job.step),
    )
    record = write_lora_folder(store, name, made)
    ctx.emit(LoraReady(ctx.job_id, record, store.path / record.folder))
    return record


def _samples(store: SessionStore, run: TrainRun, step: int) -> list[tuple[int, list[Image.Image]]]:
    """The run's sample images up to `step`, by step: the LoRA's samples.png, as training's."""
    rows: dict[int, list[Image.Image]] = {}
    for record in store.session.images:
        if record.train_run != run.name or record.train_step is None or record.train_step > step:
            continue
        try:
            with Image.open(store.path / record.file) as image:
                rows.setdefault(record.train_step, []).append(image.convert("RGB"))
        except OSError:
            continue  # a sample moved to the trash: the grid does without it
    return sorted(rows.items())
