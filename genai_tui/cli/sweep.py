"""`genai-tui sweep`: an X/Y/Z sweep into a session, one line per cell, the grid path last.

Every generate option sets the base knobs the cells start from; --x/--y/--z each vary one.
The whole plan is checked here first, so a bad axis is one line on stderr and nothing is queued.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

from genai_tui.cli.clip_options import (
    add_clip_option,
    add_pickscore_options,
    add_rank_option,
    check_ranking,
    pickscore_fields,
)
from genai_tui.cli.follow import detached, failure_code, follow
from genai_tui.cli.generate import add_knob_options, default_model, params_from_args
from genai_tui.cli.options import (
    ExitCode,
    add_jobs_options,
    add_load_options,
    add_session_name_option,
    add_session_options,
    fail,
    given_model,
    in_process,
    load_options,
    open_store,
)
from genai_tui.engine.clip_refs import resolve_clip
from genai_tui.engine.errors import BadInput, ModelError
from genai_tui.engine.scorers import ranked_by
from genai_tui.jobs.events import GridReady, JobFailed, JobFinished, SweepCell
from genai_tui.jobs.specs import SWEEP_BATCH, SweepJob, new_job_id
from genai_tui.jobs.sweep import check_sweep_id, plan_for
from genai_tui.jobs.sweep_axes import MAX_CELLS, axes_help
from genai_tui.knobs import PROMPT
from genai_tui.session.store import SessionError


def add_sweep_command(commands: Any) -> None:
    """Register the sweep subcommand."""
    parser = commands.add_parser(
        "sweep",
        help="an X/Y/Z sweep of knobs into a session, with a labelled grid",
        description="Make one image per cell of up to three axes (AUTOMATIC1111's X/Y/Z plot) "
        "and a labelled grid per Z value. Prints each cell (path, axis values, its --rank score), "
        "tab separated, and the grid path last. Running the same --id again makes only the cells "
        "missing.",
        epilog=f"axes (AXIS=VALUES; values: a,b,c or ranges 1-5, 1-10 (+2), 1-10 [5]):\n"
        f"{axes_help()}\n\nexample: genai-tui sweep 'a lighthouse' --x 'cfg=3-9 (+2)' "
        "--y 'seed=1-3'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("prompt", help=PROMPT.help)
    for letter in "xyz":
        parser.add_argument(
            f"--{letter}",
            metavar="AXIS=VALUES",
            default=None,
            help=f"the {letter.upper()} axis"
            + (": columns" if letter == "x" else ": rows" if letter == "y" else ": one grid each"),
        )
    parser.add_argument(
        "--id",
        dest="sweep_id",
        metavar="ID",
        default=None,
        help="the sweep's id: give an earlier one to finish it (default: a new id)",
    )
    add_rank_option(parser, what="the score that marks the best cells")
    add_pickscore_options(parser)
    parser.add_argument(
        "--yes",
        action="store_true",
        help=f"run a sweep of more than {MAX_CELLS} cells",
    )
    add_knob_options(parser)
    add_session_name_option(parser)
    add_clip_option(parser)
    add_session_options(parser)
    add_load_options(parser)
    add_jobs_options(parser)
    parser.set_defaults(handler=run_sweep_command)


def job_from_args(args: argparse.Namespace) -> SweepJob:
    """The sweep asked for, its plan checked; BadInput, ModelError or SessionError if unusable."""
    from genai_tui.engine.sources import resolve_source

    axes = tuple(spec for spec in (args.x, args.y, args.z) if spec is not None)
    if (args.z is not None and args.y is None) or (args.y is not None and args.x is None):
        raise BadInput("axes fill x first, then y, then z", hint="e.g. --x cfg=5,7 --y seed=1,2")
    params = params_from_args(args)
    # -n: how many seed cells are made together; each cell is one image.
    batch = params.batch_size if hasattr(args, "batch_size") else SWEEP_BATCH
    sweep = check_sweep_id(args.sweep_id) if args.sweep_id else "sweep-" + new_job_id()
    given = given_model(args)
    if args.clip is not None:
        resolve_clip(args.clip)
    if given is not None:
        resolve_source(given)  # a typo fails before anything is written
        check_ranking(args, given)  # and a PickScore that is not here
    store = open_store(args)
    model = given or store.session.model or default_model()
    resolve_source(model)
    job = SweepJob(
        params=replace(params, batch_size=1),
        axes=axes,
        model=model,
        session=store,
        sweep=sweep,
        load=load_options(args),
        clip=args.clip,
        batch=batch,
        yes=args.yes,
        preview="latent",  # nobody sees previews here: the cheapest mode
        **pickscore_fields(args),
    )
    plan_for(job)  # every axis value checked now: nothing queued on a typo
    check_ranking(args, model)  # and PickScore, when it ranks
    return job


def run_sweep_command(args: argparse.Namespace) -> int:
    """Check everything, run the sweep, print its cells and grids; see ExitCode."""
    try:
        job = job_from_args(args)
    except (BadInput, ModelError) as exc:
        fail(str(exc), exc.hint)
    except SessionError as exc:
        fail(str(exc), exc.hint)
    from rich.console import Console

    from genai_tui.cli.progress import ProgressView

    root = job.session.path.parent
    if detached(job, root, args):
        return ExitCode.OK
    print(f"genai-tui: sweep {job.sweep} (--id {job.sweep} finishes it)", file=sys.stderr)
    with ProgressView(Console(stderr=True), job.params.steps) as view:
        end, seen = follow(job, root, in_process=in_process(args), view=view)
    # In plan order (x fastest), whatever order the batches made them in.
    cells = sorted((e for e in seen if isinstance(e, SweepCell)), key=lambda e: e.index)
    rank = ranked_by(job.rank, job.model, job.pickscore)  # CLIP where it stood in (the demo)
    for cell in cells:
        record = cell.record
        where = ", ".join(f"{axis}: {value}" for axis, value in record.axes.items())
        value = record.score_by(rank)
        score = f"{value:.2f}" if value is not None else "-"
        print(f"{cell.path}\t{where}\t{score}")
    for grid in (e for e in seen if isinstance(e, GridReady)):
        for path in grid.paths:
            print(path)
    if isinstance(end, JobFinished):
        return ExitCode.OK
    if isinstance(end, JobFailed):
        return failure_code(end)
    print(f"genai-tui: cancelled; run again with --id {job.sweep} to finish", file=sys.stderr)
    return ExitCode.INTERRUPTED
