"""A session's training checkpoints as things to compare and keep: which runs and steps there
are, the sweep that compares them, and its ranking. Reads the session only (no torch): the
command line checks a sweep or an export with it before anything is queued, the UI builds the
comparison with it. Making the LoRA files is jobs/checkpoint_export.py's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

from genai_tui.engine.errors import BadInput
from genai_tui.engine.lora.params import TrainParams
from genai_tui.engine.params import GenerateParams, LoadOptions
from genai_tui.jobs.specs import SweepJob, check_lora_name, new_job_id
from genai_tui.jobs.sweep_axes import (
    CheckpointLookup,
    CheckpointLora,
    RunCheckpoints,
    checkpoint_label,
    values_spec,
)
from genai_tui.session.models import ImageRecord, TrainRun
from genai_tui.session.store import SessionStore

_STEP = re.compile(r"checkpoint-(\d+)$")
CACHE_FOLDER = "lora"
"""Inside a checkpoint folder: the LoRA file a sweep cell uses, made once. It goes when the
checkpoint is written again (a resumed run replaces the folder whole), so it is never stale."""
COMPARE_SEEDS = 2
"""Seeds per prompt when comparing checkpoints: one seed can flatter a step by luck."""


def find_run(store: SessionStore, name: str) -> TrainRun:
    """The run called `name`, else the latest run of the LoRA `name`; BadInput naming the runs."""
    store.catch_up()  # a run another process recorded since the store was opened
    session = store.session
    found = next((run for run in session.runs if run.name == name), None)
    if found is None:
        of_lora = [run for run in session.runs if run.lora == name]
        found = of_lora[-1] if of_lora else None
    if found is None:
        names = ", ".join(run.name for run in session.runs) or "none yet"
        raise BadInput(
            f"session {store.name!r} has no training run {name!r}", hint=f"its runs: {names}"
        )
    return found


def cached_lora(folder: Path, lora: str, step: int) -> Path:
    """Where a checkpoint's LoRA file for sweep cells goes (its stem names it in records)."""
    return folder / CACHE_FOLDER / f"{lora}-step{step}.safetensors"


def run_checkpoints(store: SessionStore, run: TrainRun) -> RunCheckpoints:
    """The checkpoints of `run` whose folders are on disk, by step."""
    found: dict[int, CheckpointLora] = {}
    for relative in run.checkpoints:
        match = _STEP.search(relative)
        folder = store.path / relative
        # A checkpoint folder is renamed into place whole: one that exists is complete.
        if match and folder.is_dir():
            step = int(match.group(1))
            file = cached_lora(folder, run.lora, step)
            found[step] = CheckpointLora(step, str(folder.resolve()), str(file.resolve()))
    return RunCheckpoints(run.name, tuple(found[step] for step in sorted(found)))


def checkpoint_lookup(store: SessionStore) -> CheckpointLookup:
    """The checkpoint axis's view of `store`'s runs."""

    def lookup(name: str) -> RunCheckpoints:
        return run_checkpoints(store, find_run(store, name))

    return lookup


def find_checkpoint(store: SessionStore, run: TrainRun, step: int) -> CheckpointLora:
    """Checkpoint `step` of `run`; BadInput listing the steps there are."""
    known = run_checkpoints(store, run).checkpoints
    found = next((c for c in known if c.step == step), None)
    if found is None:
        steps = ", ".join(str(c.step) for c in known)
        raise BadInput(
            f"run {run.name} has no checkpoint at step {step}"
            + (f": it has checkpoints at steps {steps}" if steps else ": it has none on disk")
        )
    return found


def export_name(store: SessionStore, run: TrainRun, step: int, name: str | None) -> str:
    """The LoRA name an export of checkpoint `step` takes: `name`, else <lora>-step<N>.

    A name the session has is refused, but for the same checkpoint exported again: nothing
    the user made is overwritten by another LoRA.
    """
    chosen = check_lora_name(name or f"{run.lora}-step{step}")
    existing = store.lora(chosen)
    if existing is not None and (existing.run, existing.steps) != (run.name, step):
        raise BadInput(
            f"session {store.name!r} already has a LoRA named {chosen!r}",
            hint="choose another name (--name)",
        )
    if existing is None and (store.path / "loras" / chosen).exists():
        raise BadInput(f"loras/{chosen} exists already", hint="choose another name (--name)")
    return chosen


def compare_job(
    store: SessionStore,
    run: TrainRun,
    *,
    model: str | None,
    clip: str | None = None,
    load: LoadOptions | None = None,
) -> SweepJob:
    """A sweep of every checkpoint of `run` (x) over its validation prompts (y) and seeds.

    Its cells are the run's own sample settings, one LoRA per checkpoint at weight 1, so the
    CLIP ranking says which step follows the prompts best. The id follows the run, so asking
    again after more checkpoints makes only the new cells.
    """
    params = TrainParams.from_json(run.params) if run.params else TrainParams()
    prompts = list(dict.fromkeys(params.validation_prompts)) or _sample_prompts(store, run)
    if not prompts:
        prompts = [params.instance_prompt or run.lora]
    first_seed = params.validation_seeds[0] if params.validation_seeds else 0
    seeds = list(dict.fromkeys([*params.validation_seeds, first_seed + 1]))[:COMPARE_SEEDS]
    # The LoRA's name reads better on the grid, where it names this run (its latest).
    named = run.lora if find_run(store, run.lora).name == run.name else run.name
    axes = [f"checkpoint:{named}=all"]
    if len(prompts) > 1:
        axes.append(f"prompt={values_spec(prompts)}")  # S/R: the first is the prompt itself
    axes.append(f"seed={values_spec([str(seed) for seed in seeds])}")
    base = GenerateParams(prompts[0], steps=params.validation_steps, seed=seeds[0])
    sweep = f"compare-{run.name}"
    if len(sweep) > 64 or sweep.endswith("."):
        sweep = f"compare-{new_job_id()}"
    return SweepJob(
        base,
        tuple(axes),
        model or run.model or None,
        store,
        sweep=sweep,
        load=load or LoadOptions(),
        clip=clip,
    )


def _sample_prompts(store: SessionStore, run: TrainRun) -> list[str]:
    images = store.session.images
    return list(dict.fromkeys(r.prompt for r in images if r.train_run == run.name))


@dataclass(frozen=True)
class CheckpointScore:
    """One checkpoint's mean score over the cells of a comparison."""

    step: int
    score: float | None
    cells: int
    """Cells scored (prompts × seeds)."""


def rank_checkpoints(
    images: list[ImageRecord], sweep: str, rank: str = "clip"
) -> list[CheckpointScore]:
    """The checkpoints of sweep `sweep`, best mean score first (unscored last)."""
    prefix = checkpoint_label("")
    scores: dict[int, list[float]] = {}
    for record in images:
        label = next((key for key in record.axes if key.startswith(prefix)), None)
        if record.sweep != sweep or label is None:
            continue
        value = record.clip_score if rank == "clip" else record.scores.get(rank)
        found = scores.setdefault(int(record.axes[label]), [])
        if value is not None:
            found.append(value)
    ranked = [CheckpointScore(step, fmean(v) if v else None, len(v)) for step, v in scores.items()]
    return sorted(ranked, key=lambda c: (c.score is None, -(c.score or 0.0), c.step))
