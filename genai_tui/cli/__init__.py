"""The `genai-tui` command: the terminal UI by default, headless subcommands for scripts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from genai_tui import __version__
from genai_tui.cli.options import OneLineParser, add_load_options, add_session_options


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with --help on every subcommand."""
    from genai_tui.cli.generate import add_generate_command
    from genai_tui.cli.score import add_score_command
    from genai_tui.cli.sessions import add_sessions_command
    from genai_tui.cli.train import add_train_command

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
        "--clip",
        metavar="REF",
        default=argparse.SUPPRESS,
        help="CLIP model that scores images in the UI (default: demo on the CPU, ViT-L/14 on GPUs)",
    )
    add_load_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_generate_command(commands)
    add_sessions_command(commands)
    add_score_command(commands)
    add_train_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return run_tui(args)
    handler = args.handler
    code: int = handler(args)
    return code


def run_tui(args: argparse.Namespace) -> int:
    """Open the terminal UI with the options given before any subcommand."""
    from genai_tui.cli.options import fail, load_options
    from genai_tui.engine.clip_refs import resolve_clip
    from genai_tui.engine.errors import BadInput, ModelError
    from genai_tui.engine.sources import resolve_source
    from genai_tui.session.store import SessionError, sessions_root, validate_name

    session = getattr(args, "session", None)
    model = getattr(args, "model", None)
    clip = getattr(args, "clip", None)
    try:
        if session is not None:
            validate_name(session)
        if model is not None:
            resolve_source(model)
        if clip is not None:
            resolve_clip(clip)
    except SessionError as error:
        fail(str(error))
    except (BadInput, ModelError) as error:
        fail(str(error), error.hint)
    # Imported here: textual-image asks the terminal about graphics before the app starts.
    from genai_tui.ui.app import AppOptions, run_app

    run_app(
        AppOptions(
            sessions_root=sessions_root(getattr(args, "sessions_dir", None)),
            session=session,
            model=model,
            images=args.images,
            clip=clip,
            load=load_options(args),
        )
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
