"""`genai-tui train export RUN --step N`: keep a training checkpoint as a LoRA of the session.

The files are those a finished training writes (loras/NAME/: diffusers and webui formats,
training.json, loss.jsonl, samples.png), so the TUI's LoRA sliders and `generate --lora NAME`
use it. The run and step are checked here first: a typo is one line and nothing is queued.
"""

from __future__ import annotations

import argparse
from typing import Any

from genai_tui.cli.options import (
    DEFAULT_SESSION,
    ExitCode,
    add_jobs_options,
    add_session_options,
    fail,
    in_process,
    open_store,
)
from genai_tui.engine.errors import BadInput
from genai_tui.engine.params import LoadOptions
from genai_tui.jobs.specs import ExportCheckpointJob
from genai_tui.session.errors import SessionError


def add_export_command(actions: Any) -> None:
    """Register `train export` under the train command's actions."""
    parser = actions.add_parser(
        "export",
        help="keep a checkpoint of a training run as a LoRA of the session",
        description="Write checkpoint N (--step) of training run RUN as the session's LoRA "
        "NAME, in the files a finished training writes; prints their paths (webui file, then "
        "diffusers file).",
    )
    parser.add_argument("run", metavar="RUN", help="a training run's name, or a LoRA's name")
    parser.add_argument(
        "--step", type=int, required=True, metavar="N", help="the checkpoint's step"
    )
    parser.add_argument(
        "--name", default=None, help="the LoRA's name (default: <the run's LoRA>-step<N>)"
    )
    # Not given here, it is the one given to `train` (train --session S export ...), or its
    # default: a default of this parser's own would override that.
    parser.add_argument(
        "--session",
        default=argparse.SUPPRESS,
        help=f"session name (default: {DEFAULT_SESSION})",
    )
    parser.add_argument(
        "--device", default="auto", help="where the run's base model loads: auto, cuda, mps or cpu"
    )
    add_session_options(parser)
    add_jobs_options(parser)
    parser.set_defaults(handler=run_export_command)


def job_from_args(args: argparse.Namespace) -> ExportCheckpointJob:
    """The export asked for, checked against the session; BadInput or SessionError if not."""
    from genai_tui.jobs.checkpoints import export_name, find_checkpoint, find_run

    store = open_store(args, create=False)
    run = find_run(store, args.run)
    find_checkpoint(store, run, args.step)
    name = export_name(store, run, args.step, args.name)
    return ExportCheckpointJob(run.name, args.step, store, name, LoadOptions(device=args.device))


def run_export_command(args: argparse.Namespace) -> int:
    """Check, export on a worker, print the written files; see ExitCode."""
    from genai_tui.cli.follow import detached, failure_code, follow
    from genai_tui.jobs.events import JobFailed, JobFinished, LoraReady

    try:
        job = job_from_args(args)
    except BadInput as exc:
        fail(str(exc), exc.hint)
    except SessionError as exc:
        fail(str(exc), exc.hint)
    root = job.session.path.parent
    if detached(job, root, args):
        return ExitCode.OK
    end, seen = follow(job, root, in_process=in_process(args))
    for event in seen:
        if isinstance(event, LoraReady):
            print(job.session.path / event.record.webui_file)
            print(job.session.path / event.record.diffusers_file)
    if isinstance(end, JobFinished):
        return ExitCode.OK
    if isinstance(end, JobFailed):
        return failure_code(end)
    return ExitCode.INTERRUPTED
