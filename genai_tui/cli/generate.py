"""`genai-tui generate`: make images into a session from a script, with a progress bar.

Its options are the knobs of genai_tui.knobs, each with the same words as the UI's tooltip.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import fields
from typing import Any

from genai_tui.cli.clip_options import (
    add_generate_scoring_options,
    check_ranking,
    scoring_fields,
)
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
from genai_tui.engine.errors import BadInput, ModelError
from genai_tui.engine.params import GenerateParams, LoraWeight
from genai_tui.engine.schedulers import SAMPLER_NAMES
from genai_tui.jobs.specs import GenerateJob
from genai_tui.knobs import LORAS, PROMPT, WIDTH, Knob
from genai_tui.session.errors import SessionError

_TYPES = {"int": int, "float": float, "str": str, "int | None": int}
"""argparse types by a knob field's annotation (a string: the modules use future annotations)."""


def knob_help(spec: Knob, default: Any) -> str:
    """A knob's --help line: its one line of help, its range and its default."""
    parts = [spec.bounds_text()] if spec.minimum is not None else []
    if default not in (None, ""):
        parts.append(f"default: {default}")
    return f"{spec.help} ({', '.join(parts)})" if parts else spec.help


def add_generate_command(commands: Any) -> None:
    """Register the generate subcommand."""
    parser = commands.add_parser(
        "generate",
        help="generate images into a session, headless",
        description="Generate images into a session. Prints the paths of the images it wrote, "
        "one per line, last.",
    )
    parser.add_argument("prompt", help=PROMPT.help)
    add_knob_options(parser)
    add_session_name_option(parser)
    add_generate_scoring_options(parser)
    add_session_options(parser)
    add_load_options(parser)
    add_jobs_options(parser)
    parser.set_defaults(handler=run_generate_command)


def add_knob_options(parser: argparse.ArgumentParser) -> None:
    """An option per knob (the words of genai_tui.knobs), --size and --lora: generate's and
    sweep's."""
    for item in fields(GenerateParams):
        spec: Knob | None = item.metadata.get("knob")
        if spec is None or not spec.flags or item.name == "loras":
            continue
        extra = f" One of: {', '.join(SAMPLER_NAMES)}." if item.name == "scheduler" else ""
        parser.add_argument(
            *spec.flags,
            dest=item.name,
            type=_TYPES[str(item.type)],
            default=argparse.SUPPRESS,
            metavar=spec.metavar,
            help=knob_help(spec, item.default) + extra,
        )
    parser.add_argument(
        "--size",
        default=None,
        metavar="WxH",
        help="image size in pixels, multiples of 8, e.g. 512x768 (default: the model's native)",
    )
    parser.add_argument(
        *LORAS.flags,
        dest="loras",
        action="append",
        default=[],
        metavar=LORAS.metavar,
        help="apply a LoRA of the session (by name) or a .safetensors file, at WEIGHT "
        "(default 1); repeat for several",
    )


def parse_size(text: str | None) -> tuple[int | None, int | None]:
    """'512x768' -> (512, 768); '512' -> (512, 512); None -> native size."""
    if text is None:
        return None, None
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*", text)
    if not match:
        raise BadInput(f"size must look like 512x768 (got {text!r})", hint=WIDTH.help)
    width = int(match.group(1))
    return width, int(match.group(2) or width)


def params_from_args(args: argparse.Namespace) -> GenerateParams:
    """The knobs given on the command line; the others keep their defaults. Validated."""
    width, height = parse_size(args.size)
    given = {
        item.name: getattr(args, item.name)
        for item in fields(GenerateParams)
        if item.name not in {"prompt", "loras", "width", "height"} and hasattr(args, item.name)
    }
    return GenerateParams(
        prompt=args.prompt,
        **given,
        width=width,
        height=height,
        loras=tuple(LoraWeight.parse(text) for text in args.loras),
    ).validate()


def run_generate_command(args: argparse.Namespace) -> int:
    """Validate everything, then generate through the worker; see ExitCode for the result."""
    from genai_tui.engine.sources import resolve_source
    from genai_tui.jobs.editor import editor_from_params

    try:
        params = params_from_args(args)
        scoring = scoring_fields(args)
        given = given_model(args)
        if given is not None:
            resolve_source(given)  # a typo fails before anything is written
            if scoring["score"]:
                check_ranking(args, given)  # and a PickScore that is not here
        store = open_store(args)
        model = given or store.session.model or default_model()
        resolve_source(model)
        if scoring["score"]:
            check_ranking(args, model)  # PickScore missing: one line now, not after the images
    except (BadInput, ModelError) as exc:
        fail(str(exc), exc.hint)
    except SessionError as exc:
        fail(str(exc), exc.hint)
    params = params.with_seed()
    store.set_editor(editor_from_params(params, store.session.editor))
    # Nobody sees previews here: the cheapest mode keeps the run as fast as it can be.
    job = GenerateJob(
        params=params,
        model=model,
        session=store,
        load=load_options(args),
        preview="latent",
        **scoring,
    )
    return _run(job, args)


def default_model() -> str:
    from genai_tui.engine.models import default_model_ref
    from genai_tui.engine.sources import DEMO

    ref = default_model_ref()
    if ref == DEMO:
        print("genai-tui: no CUDA device found: using the embedded demo model", file=sys.stderr)
    return ref


def _run(job: GenerateJob, args: argparse.Namespace) -> int:
    from rich.console import Console

    from genai_tui.cli.follow import detached, failure_code, follow
    from genai_tui.cli.progress import ProgressView
    from genai_tui.jobs.events import BestOfPicked, ImageReady, JobFailed, JobFinished

    root = job.session.path.parent
    if detached(job, root, args):
        return ExitCode.OK
    with ProgressView(Console(stderr=True), job.params.steps) as view:
        end, seen = follow(job, root, in_process=in_process(args), view=view)
    written = [e.path for e in seen if isinstance(e, ImageReady)]
    # Hidden images (not among the best of a best-of run) stay on disk; stdout lists the kept.
    hidden = {
        job.session.path / r.file for e in seen if isinstance(e, BestOfPicked) for r in e.hidden
    }
    for path in written:
        if path not in hidden:
            print(path)
    if isinstance(end, JobFinished):
        print(f"genai-tui: {len(written)} image(s) in {end.seconds:.1f} s", file=sys.stderr)
        return ExitCode.OK
    if isinstance(end, JobFailed):
        return failure_code(end)
    print("genai-tui: cancelled; nothing half-made was kept", file=sys.stderr)
    return ExitCode.INTERRUPTED
