"""How a SweepJob runs: every cell of its plan made as `generate` makes it, then its grids.

A cell is a plain generation (jobs/generation.py) of its own parameters, so it is pixel-equal to
`genai-tui generate` with those values; cells that differ only in seed are made as one batch, one
generator per image. Each lands as an ordinary image record with `sweep` and `axes` set, scored
as generation scores (CLIP, and PickScore when it ranks); the grid marks the best by `rank`.
Running the same sweep id again skips the cells the session has.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from genai_tui.engine.errors import BadInput, Cancelled
from genai_tui.engine.params import GenerateParams
from genai_tui.engine.scorers import ranked_by
from genai_tui.jobs.checkpoints import checkpoint_lookup
from genai_tui.jobs.context import JobContext
from genai_tui.jobs.events import GridReady, SweepCell
from genai_tui.jobs.generation import run_generate
from genai_tui.jobs.loading import planned_model_ref
from genai_tui.jobs.scoring import ranked_for, scoring_of
from genai_tui.jobs.specs import GenerateJob, SweepJob
from genai_tui.jobs.sweep_axes import Cell, Plan, plan_sweep
from genai_tui.jobs.sweep_grid import write_grids
from genai_tui.knobs import IMAGE_KNOB_NAMES, MAX_SEED
from genai_tui.session.models import ImageRecord
from genai_tui.session.store import SessionStore

_SWEEP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def check_sweep_id(sweep: str) -> str:
    """Return `sweep` if it can be a sweep id: a file name in grids/ and the records' `sweep`."""
    if not _SWEEP_ID.fullmatch(sweep) or sweep.endswith("."):
        raise BadInput(
            f"sweep id {sweep!r} is not allowed",
            hint='use 1-64 letters, digits, "-", "_" or ".", starting with a letter or digit',
        )
    return sweep


def sweep_seed(sweep: str) -> int:
    """The base seed of a sweep given none: the same for the same id, so a rerun resumes."""
    return int.from_bytes(hashlib.sha256(sweep.encode()).digest()[:4], "big") % (MAX_SEED - 64)


def plan_for(job: SweepJob) -> Plan:
    """The job's plan, checked; its seed from the sweep id when none is given."""
    ranked_by(job.rank, job.model, job.pickscore)  # an unknown scorer is refused
    check_sweep_id(job.sweep)
    if job.batch < 1:
        raise BadInput(f"a sweep batch must be at least 1 (got {job.batch})")
    params = job.params
    if params.seed is None:
        params = replace(params, seed=sweep_seed(job.sweep))
    return plan_sweep(params, job.axes, yes=job.yes, checkpoints=checkpoint_lookup(job.session))


def run_sweep(job: SweepJob, ctx: JobContext) -> None:
    """Make the cells not made yet, batch by batch; then write the grids (GridReady)."""
    from genai_tui.jobs.checkpoint_export import ensure_plan_loras

    plan = plan_for(job)
    model_ref = planned_model_ref(ctx, job.model)
    # Decided (and the demo's stand-in said) once for the sweep, not once a batch.
    scoring = ranked_for(ctx, scoring_of(job), model_ref)
    store = ctx.store()
    made = _made_before(store, job.sweep, plan)
    if len(made) < len(plan.cells):
        ensure_plan_loras(plan)  # a checkpoint axis's LoRA files, each written once
    total = len(plan.cells)
    position = {cell.index: i + 1 for i, cell in enumerate(plan.cells)}
    for index, record in made.items():
        path = store.path / record.file
        ctx.emit(SweepCell(ctx.job_id, job.sweep, position[index], total, record, path, True))
    for batch in _batches([c for c in plan.cells if c.index not in made], job.batch):
        if ctx.cancel.is_set():
            raise Cancelled("sweep cancelled")
        first = batch[0].params
        seeds = [cell.params.seed for cell in batch if cell.params.seed is not None]
        cell_job = GenerateJob(
            params=replace(first, batch_size=len(batch)),
            model=job.model,
            session=store,
            load=job.load,
            id=job.id,
            clip=job.clip,
            preview=job.preview,
            rank=scoring.rank,
            pickscore=job.pickscore,
            pickscore_processor=job.pickscore_processor,
        )
        axes = [cell.axes for cell in batch]
        records = run_generate(cell_job, ctx, seeds=seeds, sweep=job.sweep, axes=axes)
        for cell, record in zip(batch, records, strict=True):
            made[cell.index] = record
            path = store.path / record.file
            ctx.emit(SweepCell(ctx.job_id, job.sweep, position[cell.index], total, record, path))
    records = [made[cell.index] for cell in plan.cells]
    grids = write_grids(store.path, job.sweep, plan, records, scoring.rank)
    ctx.emit(GridReady(ctx.job_id, job.sweep, grids.paths, grids.layout))


def _batches(cells: list[Cell], size: int) -> list[list[Cell]]:
    """Cells that differ only in seed together, at most `size` a batch, in plan order."""
    groups: dict[GenerateParams, list[Cell]] = {}
    for cell in cells:
        groups.setdefault(replace(cell.params, seed=0), []).append(cell)
    return [group[i : i + size] for group in groups.values() for i in range(0, len(group), size)]


def _made_before(
    store: SessionStore, sweep: str, plan: Plan
) -> dict[tuple[int, int, int], ImageRecord]:
    """The plan's cells the session holds already, by sweep id and axis labels.

    A record of the same place made with other knobs (the same id reused for another sweep)
    is refused, not taken for the cell: the grid would show an image it does not describe.
    """
    by_axes = {
        tuple(sorted(record.axes.items())): record
        for record in store.session.images
        if record.sweep == sweep
    }
    found: dict[tuple[int, int, int], ImageRecord] = {}
    for cell in plan.cells:
        record = by_axes.get(tuple(sorted(cell.axes.items())))
        if record is None:
            continue
        if not _same_knobs(cell.params, record):
            raise BadInput(
                f"sweep {sweep} has a cell made with other settings ({record.file})",
                hint="give the sweep another id to start a new one",
            )
        if (store.path / record.file).is_file():
            found[cell.index] = record
    return found


def _same_knobs(params: GenerateParams, record: ImageRecord) -> bool:
    if any(getattr(params, name) != getattr(record, name) for name in IMAGE_KNOB_NAMES):
        return False
    sized = all(
        given is None or given == made
        for given, made in ((params.width, record.width), (params.height, record.height))
    )
    return params.seed == record.seed and sized
