"""`genai-tui train`: train a LoRA into a session, headless, with one progress line per step.

Runs the very job the TUI's worker runs, on the main thread, so it works under nohup or tmux and
the TUI shows the result later. Under `accelerate launch` (several GPUs, or `--cpu` processes)
it trains data parallel; only the main process prints and writes session files.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from genai_tui.cli.clip_options import add_clip_option
from genai_tui.cli.follow import STEP_LINE_SECONDS, event_line, say
from genai_tui.cli.options import (
    ExitCode,
    add_jobs_options,
    add_session_name_option,
    add_session_options,
    fail,
    given_model,
    in_process,
    open_store,
)
from genai_tui.engine.errors import BadInput, Cancelled, EngineError
from genai_tui.engine.lora.params import TrainParams, checkpoint_params, help_of
from genai_tui.engine.lora.recipes import DEMO_RECIPE, recommended_params
from genai_tui.engine.params import LoadOptions
from genai_tui.jobs.events import Event, JobFailed, JobFinished, LoraReady, TrainStep
from genai_tui.jobs.hints import USER_FIXABLE, describe
from genai_tui.jobs.specs import TrainJob, lora_name_for
from genai_tui.session.errors import SessionError

# (flag, TrainParams field, type); help comes from the field, so --help and the UI agree.
_PARAM_FLAGS: list[tuple[str, str, Any]] = [
    ("--instance-prompt", "instance_prompt", str),
    ("--layers", "lora_layers", str),
    ("--rank", "rank", int),
    ("--alpha", "alpha", float),
    ("--lr", "learning_rate", float),
    ("--lr-schedule", "lr_schedule", str),
    ("--warmup", "warmup_steps", int),
    ("--steps", "steps", int),
    ("--batch", "batch_size", int),
    ("--grad-accum", "gradient_accumulation", int),
    ("--resolution", "resolution", int),
    ("--repeats", "repeats", int),
    ("--mixed-precision", "mixed_precision", str),
    ("--snr-gamma", "snr_gamma", float),
    ("--noise-offset", "noise_offset", float),
    ("--max-grad-norm", "max_grad_norm", float),
    ("--weight-decay", "weight_decay", float),
    ("--seed", "seed", int),
    ("--validation-every", "validation_every", int),
    ("--validation-steps", "validation_steps", int),
    ("--checkpoint-every", "checkpoint_every", int),
]
_SWITCHES = [
    ("--random-crop", "center_crop", False),
    ("--flip", "random_flip", True),
    ("--gradient-checkpointing", "gradient_checkpointing", True),
]


def add_train_command(commands: Any) -> None:
    """Register the train subcommand."""
    parser = commands.add_parser(
        "train",
        help="train a LoRA on a folder of images into a session, headless",
        description="Train a LoRA on a folder of images (captions in .txt files beside them, or "
        "--instance-prompt). Writes loras/NAME/ and runs/RUN/ in the session. Works under "
        "`accelerate launch` for several GPUs. Ctrl-C stops after the current step and saves "
        "a checkpoint to --resume from.",
    )
    parser.add_argument("--data", metavar="DIR", help="folder of training images")
    add_session_name_option(parser)
    parser.add_argument(
        "--model",
        metavar="REF",
        default=argparse.SUPPRESS,
        help="base model (default: the session's model, else SD 1.5 on CUDA and demo elsewhere)",
    )
    parser.add_argument(
        "--name", default=None, help="the LoRA's name (default: the data folder's name)"
    )
    parser.add_argument(
        "--resume",
        metavar="CHECKPOINT",
        default=None,
        help="continue a run from runs/RUN/checkpoint-STEP, with its settings",
    )
    parser.add_argument(
        "--device", default=argparse.SUPPRESS, help="auto, cuda, mps or cpu (default: auto)"
    )
    group = parser.add_argument_group(
        "training (defaults: the diffusers LoRA example's; on the demo model, its recipe)"
    )
    defaults = TrainParams()
    for flag, name, kind in _PARAM_FLAGS:  # each help names its choices
        default = f"default: {getattr(defaults, name)}"
        if getattr(DEMO_RECIPE, name) != getattr(defaults, name):
            default += f"; demo: {getattr(DEMO_RECIPE, name)}"
        group.add_argument(
            flag,
            dest=name,
            type=kind,
            metavar={int: "N", float: "X"}.get(kind, "TEXT"),
            default=argparse.SUPPRESS,
            help=f"{help_of(name)} ({default})",
        )
    for flag, name, value in _SWITCHES:
        group.add_argument(
            flag,
            dest=name,
            action="store_const",
            const=value,
            default=argparse.SUPPRESS,
            help=help_of(name),
        )
    group.add_argument(
        "--validation-prompt",
        dest="validation_prompts",
        action="append",
        default=argparse.SUPPRESS,
        metavar="TEXT",
        help=help_of("validation_prompts") + " (repeatable)",
    )
    group.add_argument(
        "--validation-seeds",
        default=argparse.SUPPRESS,
        metavar="S,S",
        help=help_of("validation_seeds"),
    )
    samples = parser.add_argument_group("sample images")
    samples.add_argument(
        "--no-score",
        action="store_true",
        help="do not score the sample images against their prompts with CLIP",
    )
    add_clip_option(samples)  # an argument group takes the same calls
    add_session_options(parser)
    add_jobs_options(parser)
    parser.set_defaults(handler=run_train_command)
    from genai_tui.cli.train_export import add_export_command

    add_export_command(parser.add_subparsers(dest="train_action", metavar="{export}"))


def train_params(args: argparse.Namespace, base: TrainParams | None = None) -> TrainParams:
    """TrainParams from the flags given; the others keep `base`'s values (or the defaults)."""
    values = (base or TrainParams()).to_json()
    names = [name for _, name, _ in _PARAM_FLAGS] + [name for _, name, _ in _SWITCHES]
    for name in [*names, "validation_prompts"]:
        if hasattr(args, name):
            values[name] = getattr(args, name)
    if hasattr(args, "validation_seeds"):
        try:
            values["validation_seeds"] = [int(s) for s in args.validation_seeds.split(",")]
        except ValueError:
            raise BadInput(
                f"validation seeds must be numbers like 0,1 (got {args.validation_seeds!r})"
            ) from None
    return TrainParams.from_json(values).validate()


def run_train_command(args: argparse.Namespace) -> int:
    """Check the input, then train on this thread; Ctrl-C cancels with a checkpoint."""
    from genai_tui.engine.clip_refs import resolve_clip
    from genai_tui.engine.models import default_model_ref
    from genai_tui.engine.sources import resolve_source

    try:
        store = open_store(args)
        if not args.resume:
            for offer in store.resume_offers():
                say(f"{offer.text} (--resume {offer.checkpoint})")
        run = (
            store.run(Path(args.resume).expanduser().resolve().parent.name) if args.resume else None
        )
        model = given_model(args) or (run.model if run else None) or store.session.model
        if model:
            resolve_source(model)
        if args.clip is not None:
            resolve_clip(args.clip)  # a typo fails now, not at the first samples
        # A resumed run keeps its checkpoint's settings; a new one starts from the model's recipe.
        if args.resume:
            base = checkpoint_params(Path(args.resume))
        else:
            base = recommended_params(model or default_model_ref())
        params = train_params(args, base)
        data = args.data or (run.data if run else None)
        if not data:
            raise BadInput("no training images given", hint="--data DIR")
        if not Path(data).expanduser().is_dir():
            raise BadInput(f"data folder not found: {data}")
        name = lora_name_for(store, args.name or "", data, args.resume)
    except EngineError as exc:
        fail(str(exc), exc.hint)
    except SessionError as exc:
        fail(str(exc), exc.hint)
    job = TrainJob(
        params=params,
        data=str(data),
        name=name,
        session=store,
        model=model,
        resume=args.resume,
        load=LoadOptions(device=getattr(args, "device", "auto")),
        score=not args.no_score,
        clip=args.clip,
    )
    if under_accelerate() or in_process(args):
        return _run(job, int(os.environ.get("RANK", "0")) == 0)
    return _run_on_daemon(job, args)


def under_accelerate() -> bool:
    """Whether this is one of several processes of `accelerate launch` (they train together,
    in-process; the daemon runs one process's jobs)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _run_on_daemon(job: TrainJob, args: argparse.Namespace) -> int:
    """Train in the daemon: the run goes on if this terminal goes; Ctrl-C cancels it (with a
    checkpoint), as in-process."""
    from genai_tui.cli.follow import detached, failure_code, follow

    root = job.session.path.parent
    if detached(job, root, args):
        return ExitCode.OK
    started = time.perf_counter()
    end, seen = follow(job, root, in_process=False)
    for event in seen:
        if isinstance(event, LoraReady):
            print(event.path / Path(event.record.webui_file).name)
    if isinstance(end, JobFinished):
        say(f"done in {time.perf_counter() - started:.1f} s")
        return ExitCode.OK
    if isinstance(end, JobFailed):
        return failure_code(end)
    say("cancelled: the run stopped after its step; its checkpoint is kept (--resume)")
    return ExitCode.INTERRUPTED


def _run(job: TrainJob, main: bool) -> int:
    from genai_tui.jobs.context import JobContext
    from genai_tui.jobs.models_cache import ModelCache
    from genai_tui.jobs.training import run_train

    cancel = threading.Event()
    printer = _Printer(main)

    def on_interrupt(signum: int, _frame: FrameType | None) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, without a checkpoint
        cancel.set()
        again = " (Ctrl-C again: quit now)" if signum == signal.SIGINT else ""
        printer.line(f"stopping after this step; saving a checkpoint{again}")

    # A closed terminal (SIGHUP) or a `kill` (SIGTERM) stops the run as Ctrl-C does: after its
    # step, with a checkpoint, so the steps made are kept for --resume.
    stops = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    previous = {stop: signal.signal(stop, on_interrupt) for stop in stops}
    started = time.perf_counter()
    try:
        run_train(job, JobContext(job.id, job.session, ModelCache(), printer, cancel))
    except Cancelled as exc:
        printer.line(f"cancelled: {exc}")
        return ExitCode.INTERRUPTED
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:
        kind, error, hint = describe(exc)
        if main:
            print(f"genai-tui: error: {error}" + (f" ({hint})" if hint else ""), file=sys.stderr)
        return ExitCode.BAD_INPUT if kind in USER_FIXABLE else ExitCode.FAILED
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
    printer.line(f"done in {time.perf_counter() - started:.1f} s")
    return ExitCode.OK


class _Printer:
    """Events to plain lines on stderr (they read well in a nohup log); the LoRA path on stdout."""

    def __init__(self, main: bool) -> None:
        self.main = main
        self._last_print = 0.0

    def line(self, text: str) -> None:
        if self.main:
            print(f"genai-tui: {text}", file=sys.stderr, flush=True)

    def __call__(self, event: Event) -> None:
        if isinstance(event, TrainStep):
            now = time.monotonic()
            if event.step < event.total and now - self._last_print < STEP_LINE_SECONDS:
                return
            self._last_print = now
        if text := event_line(event):
            self.line(text)
        if isinstance(event, LoraReady) and self.main:
            print(event.path / Path(event.record.webui_file).name)
