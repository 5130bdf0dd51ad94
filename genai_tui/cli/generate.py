"""`genai-tui generate`: make images into a session from a script, with a progress bar."""

from __future__ import annotations

import argparse
import re
import sys
import threading
from pathlib import Path
from typing import Any

from genai_tui.cli.clip_options import add_generate_scoring_options, scoring_fields
from genai_tui.cli.options import (
    ExitCode,
    add_load_options,
    add_session_name_option,
    add_session_options,
    fail,
    load_options,
)
from genai_tui.cli.train import add_lora_option, parse_loras
from genai_tui.engine.errors import BadInput, ModelError
from genai_tui.engine.params import GenerateParams
from genai_tui.engine.schedulers import DEFAULT_SAMPLER, SAMPLER_NAMES
from genai_tui.jobs.events import (
    BestOfPicked,
    Event,
    ImageReady,
    ImagesScored,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobWarning,
    ModelLoaded,
    ModelLoading,
    Progress,
)
from genai_tui.jobs.hints import USER_FIXABLE
from genai_tui.jobs.specs import GenerateJob
from genai_tui.session.models import EditorState
from genai_tui.session.store import SessionError, SessionStore, sessions_root


def add_generate_command(commands: Any) -> None:
    """Register the generate subcommand."""
    parser = commands.add_parser(
        "generate",
        help="generate images into a session, headless",
        description="Generate images into a session. Prints the paths of the images it wrote, "
        "one per line, last.",
    )
    parser.add_argument("prompt", help="what to draw")
    parser.add_argument("--negative", default="", metavar="TEXT", help="what to steer away from")
    parser.add_argument("--steps", type=int, default=25, help="denoising steps (default: 25)")
    parser.add_argument("--cfg", type=float, default=7.0, help="guidance scale (default: 7)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: random)")
    parser.add_argument(
        "--size", default=None, metavar="WxH", help="image size, multiples of 8 (default: native)"
    )
    parser.add_argument(
        "-n", "--images", type=int, default=1, dest="images", help="images per prompt (default: 1)"
    )
    parser.add_argument(
        "--scheduler",
        default=DEFAULT_SAMPLER,
        metavar="NAME",
        help=f"sampler: {', '.join(SAMPLER_NAMES)} (default: {DEFAULT_SAMPLER})",
    )
    parser.add_argument(
        "--clip-skip", type=int, default=1, help="1 uses CLIP's last layer (default: 1)"
    )
    add_session_name_option(parser)
    add_generate_scoring_options(parser)
    add_lora_option(parser)
    add_session_options(parser)
    add_load_options(parser)
    parser.set_defaults(handler=run_generate_command)


def parse_size(text: str | None) -> tuple[int | None, int | None]:
    """'512x768' -> (512, 768); '512' -> (512, 512); None -> native size."""
    if text is None:
        return None, None
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*", text)
    if not match:
        raise BadInput(f"size must look like 512x768 (got {text!r})")
    width = int(match.group(1))
    return width, int(match.group(2) or width)


def run_generate_command(args: argparse.Namespace) -> int:
    """Validate everything, then generate through the worker; see ExitCode for the result."""
    from genai_tui.engine.sources import resolve_source

    try:
        width, height = parse_size(args.size)
        params = GenerateParams(
            prompt=args.prompt,
            negative_prompt=args.negative,
            steps=args.steps,
            cfg_scale=args.cfg,
            seed=args.seed,
            width=width,
            height=height,
            batch_size=args.images,
            scheduler=args.scheduler,
            clip_skip=args.clip_skip,
            loras=parse_loras(args.lora),
        ).validate()
        scoring = scoring_fields(args)
        store = SessionStore.open(sessions_root(getattr(args, "sessions_dir", None)), args.session)
        model = getattr(args, "model", None) or store.session.model or _default_model()
        resolve_source(model)
    except (BadInput, ModelError) as exc:
        fail(str(exc), exc.hint)
    except SessionError as exc:
        fail(str(exc))
    params = params.with_seed()
    store.set_editor(_editor_state(params))
    job = GenerateJob(params=params, model=model, session=store, load=load_options(args), **scoring)
    return _run(job)


def _default_model() -> str:
    from genai_tui.engine.models import default_model_ref
    from genai_tui.engine.sources import DEMO

    ref = default_model_ref()
    if ref == DEMO:
        print("genai-tui: no CUDA device found: using the embedded demo model", file=sys.stderr)
    return ref


def _editor_state(params: GenerateParams) -> EditorState:
    """What the TUI shows when this session is opened next."""
    return EditorState(
        prompt=params.prompt,
        negative_prompt=params.negative_prompt,
        steps=params.steps,
        cfg_scale=params.cfg_scale,
        seed=params.seed if params.seed is not None else -1,
        width=params.width,
        height=params.height,
        batch_size=params.batch_size,
        scheduler=params.scheduler,
        clip_skip=params.clip_skip,
    )


def _run(job: GenerateJob) -> int:
    from rich.console import Console

    from genai_tui.cli.progress import ProgressView
    from genai_tui.jobs.worker import Worker

    console = Console(stderr=True)
    done = threading.Event()
    outcome: list[Event] = []
    written: list[Path] = []
    hidden: set[Path] = set()
    with ProgressView(console, job.params.steps) as view:

        def listen(event: Event) -> None:
            if isinstance(event, Progress):
                view.step(event.step, event.total)
            elif isinstance(event, ModelLoading):
                view.status(event.what)
            elif isinstance(event, ModelLoaded):
                view.log(
                    f"loaded {event.name} on {event.device} ({event.dtype}) "
                    f"in {event.seconds:.1f} s"
                )
            elif isinstance(event, JobWarning):
                view.log(f"warning: {event.message}")
            elif isinstance(event, ImageReady):
                written.append(event.path)
            elif isinstance(event, ImagesScored):
                for record in event.records:
                    view.log(f"CLIP score {event.scores.get(record.file, 0):.2f}: {record.file}")
            elif isinstance(event, BestOfPicked):
                # Hidden images stay on disk; stdout lists only the ones kept.
                hidden.update(job.session.path / r.file for r in event.hidden)
                view.log(f"best of {job.best_of}: kept {len(event.kept)}, hid {len(event.hidden)}")
            elif isinstance(event, JobFinished | JobFailed | JobCancelled):
                outcome.append(event)
                done.set()

        worker = Worker(listen).start()
        worker.submit(job)
        try:
            while not done.wait(0.1):
                pass
        except KeyboardInterrupt:
            worker.cancel(job.id)
            done.wait(30)
        finally:
            worker.stop()
    for path in written:
        if path not in hidden:
            print(path)
    return _exit_code(outcome[0] if outcome else None, len(written))


def _exit_code(event: Event | None, images: int) -> int:
    if isinstance(event, JobFinished):
        print(f"genai-tui: {images} image(s) in {event.seconds:.1f} s", file=sys.stderr)
        return ExitCode.OK
    if isinstance(event, JobFailed):
        hint = f" ({event.hint})" if event.hint else ""
        print(f"genai-tui: error: {event.error}{hint}", file=sys.stderr)
        return ExitCode.BAD_INPUT if event.kind in USER_FIXABLE else ExitCode.FAILED
    print("genai-tui: cancelled; nothing half-made was kept", file=sys.stderr)
    return ExitCode.INTERRUPTED
