"""The `genai-tui` command: the terminal UI by default, headless subcommands for scripts."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from genai_tui import __version__
from genai_tui.cli.options import (
    ExitCode,
    OneLineParser,
    add_jobs_options,
    add_load_options,
    add_session_options,
    fail,
)
from genai_tui.daemon.errors import DaemonError, DaemonUnavailable
from genai_tui.engine.preview_modes import PREVIEW_HELP, PREVIEW_MODES

COMMANDS: dict[str, str] = {
    "generate": "genai_tui.cli.generate:add_generate_command",
    "sweep": "genai_tui.cli.sweep:add_sweep_command",
    "sessions": "genai_tui.cli.sessions:add_sessions_command",
    "score": "genai_tui.cli.score:add_score_command",
    "train": "genai_tui.cli.train:add_train_command",
    "jobs": "genai_tui.cli.daemon_cmd:add_jobs_command",
    "daemon": "genai_tui.cli.daemon_cmd:add_daemon_command",
}
"""Each subcommand and where it is defined: only the one asked for is imported (the TUI, the
most common start, imports none: its first frame comes sooner)."""


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line, with --help on every subcommand (`commands`: only these)."""
    import importlib

    parser = OneLineParser(
        prog="genai-tui",
        description="Personalized image generation from a terminal: Stable Diffusion, LoRA, CLIP.",
        epilog="Run without a subcommand to open the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"genai-tui {__version__}")
    add_session_options(parser)
    parser.add_argument(
        "--session",
        default=argparse.SUPPRESS,
        help="open or create this session in the UI (default: the most recent one)",
    )
    parser.add_argument(
        "--images",
        choices=("auto", "tgp", "sixel", "halfcell", "unicode"),
        default="auto",
        help="how images are drawn: auto-detected Kitty TGP or Sixel, else half-cell blocks",
    )
    parser.add_argument(
        "--preview",
        choices=PREVIEW_MODES,
        default="auto",
        help=PREVIEW_HELP + "; f2 in the UI cycles them",
    )
    parser.add_argument(
        "--clip",
        metavar="REF",
        default=argparse.SUPPRESS,
        help="CLIP model that scores images in the UI (default: demo on the CPU, ViT-L/14 on GPUs)",
    )
    add_load_options(parser)
    add_jobs_options(parser, detach=False)
    if commands is not None and not commands:
        return parser  # the terminal UI's options only
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, where in COMMANDS.items():
        if commands is None or name in commands:
            module, function = where.split(":")
            getattr(importlib.import_module(module), function)(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    if {"-h", "--help"} & set(words):
        asked = next((word for word in words if word in COMMANDS), None)
    else:
        args, rest = build_parser(commands=()).parse_known_args(words)
        if not rest:  # the terminal UI: no subcommand module is imported
            return run_tui(args)
        asked = rest[0] if rest[0] in COMMANDS else None  # not a word that is an option's value
    parser = build_parser(None if asked is None else [asked])
    args = parser.parse_args(words)
    if args.command is None:
        return run_tui(args)
    handler = args.handler
    try:
        code: int = handler(args)
    except (DaemonUnavailable, DaemonError) as error:
        fail(str(error), error.hint, code=ExitCode.FAILED)
    except BrokenPipeError:
        # The reader went away (`genai-tui jobs | head`): stop quietly, as Unix tools do; the
        # jobs themselves are the daemon's and go on. stdout is pointed at /dev/null so the
        # interpreter's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    return code


def run_tui(args: argparse.Namespace) -> int:
    """Open the terminal UI with the options given before any subcommand."""
    from genai_tui.cli.options import fail, load_options
    from genai_tui.engine.clip_refs import resolve_clip
    from genai_tui.engine.errors import BadInput, ModelError
    from genai_tui.engine.sources import resolve_source
    from genai_tui.engine.taesd import find_taesd
    from genai_tui.session.errors import OTHER_FOLDER, SessionError
    from genai_tui.session.names import sessions_root, validate_name

    session = getattr(args, "session", None)
    model = getattr(args, "model", None)
    clip = getattr(args, "clip", None)
    root = sessions_root(getattr(args, "sessions_dir", None))
    try:
        if root.exists() and not root.is_dir():
            raise SessionError(f"the sessions folder {root} is a file, not a folder", OTHER_FOLDER)
        if session is not None:
            validate_name(session)
        if model is not None:
            resolve_source(model)
        if clip is not None:
            resolve_clip(clip)
        if getattr(args, "taesd", None) is not None:
            find_taesd(args.taesd)
    except SessionError as error:
        fail(str(error), error.hint)
    except (BadInput, ModelError) as error:
        fail(str(error), error.hint)
    # Imported here: a subcommand needs none of the UI.
    from genai_tui.cli.options import in_process
    from genai_tui.ui.app import AppOptions, run_app

    run_app(
        AppOptions(
            sessions_root=root,
            session=session,
            model=model,
            images=args.images,
            preview=args.preview,
            clip=clip,
            load=load_options(args),
            in_process=in_process(args),
        )
    )
    return ExitCode.OK  # run_app ends the process itself; this is for a stand-in of it


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
