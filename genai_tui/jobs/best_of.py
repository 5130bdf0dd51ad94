"""Best-of-N: make N images, keep the K best by the job's scorer visible, hide the rest.

Nothing is deleted: every image is saved (and announced by ImageReady) as it lands; once all N
are scored, the others get `hidden=True` in their record and PNG, and BestOfPicked says which
were kept. The gallery can show hidden images again; `update_image(file, hidden=False)` unhides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from genai_tui.engine.errors import BadInput
from genai_tui.engine.params import check_number
from genai_tui.jobs.context import JobContext
from genai_tui.jobs.events import BestOfPicked, JobWarning
from genai_tui.jobs.generation import run_generate
from genai_tui.jobs.loading import planned_model_ref
from genai_tui.jobs.scoring import ranked_for, scoring_of
from genai_tui.jobs.specs import GenerateJob
from genai_tui.knobs import BEST_OF, KEEP, MAX_SEED
from genai_tui.session.models import ImageRecord


def check_best_of(best_of: int | None, keep: int, score: bool) -> None:
    """Raise BadInput when a best-of request cannot be honoured; nothing to check when None."""
    if best_of is None:
        return
    if best_of < 1:
        raise BadInput(f"best-of must be 1 to {BEST_OF.maximum:g} images (got {best_of})")
    check_number(BEST_OF, best_of)
    check_number(KEEP, keep)
    if keep > best_of:
        raise BadInput(f"keep must be 1 to the best-of count {best_of} (got {keep})")
    if not score:
        raise BadInput("best-of ranks images by their score: it cannot run with scoring off")


def pick_best(
    records: Sequence[ImageRecord], keep: int, rank: str = "clip"
) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """(the `keep` best by scorer `rank`, best first; the others in the order they were made).

    Ties keep the earlier image (lower seed). Records without a score rank last.
    """

    def rank_key(i: int) -> tuple[bool, float]:
        score = records[i].score_by(rank)
        return (score is None, -score if score is not None else 0.0)  # PickScores may be < 0

    order = sorted(range(len(records)), key=rank_key)
    best = set(order[:keep])
    kept = [records[i] for i in order[:keep]]
    rest = [record for i, record in enumerate(records) if i not in best]
    return kept, rest


def run_best_of(job: GenerateJob, ctx: JobContext) -> None:
    """Make `job.best_of` images, `params.batch_size` at a time, then hide all but the best.

    Image i gets seed + i, as in a plain batch. A cancel keeps the images already saved, all
    visible. If scoring failed, every image stays visible and a warning says so.
    """
    assert job.best_of is not None
    check_best_of(job.best_of, job.keep, job.score)
    params = job.params.validate().with_seed()
    assert params.seed is not None
    # Decided (and the demo's stand-in said) once, not once a round.
    rank = ranked_for(ctx, scoring_of(job), planned_model_ref(ctx, job.model)).rank
    made: list[ImageRecord] = []
    while len(made) < job.best_of:
        count = min(params.batch_size, job.best_of - len(made))
        seed = (params.seed + len(made)) % (MAX_SEED + 1)
        round_params = replace(params, seed=seed, batch_size=count)
        round_job = replace(job, params=round_params, best_of=None, rank=rank)
        saved = run_generate(round_job, ctx)
        if not saved:  # a round that saved nothing would loop for ever
            raise RuntimeError("a best-of round saved no image")
        made += saved
    if any(record.score_by(rank) is None for record in made):
        ctx.emit(
            JobWarning(
                ctx.job_id,
                f"best of {job.best_of}: the images could not all be scored, so all "
                f"{len(made)} stay visible",
            )
        )
        return
    kept, rest = pick_best(made, job.keep, rank)
    hidden = [ctx.store().update_image(record.file, hidden=True) for record in rest]
    ctx.emit(BestOfPicked(ctx.job_id, tuple(kept), tuple(hidden)))
