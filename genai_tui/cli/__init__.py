"""The `genai-tui` command: the terminal UI by default, headless subcommands for scripts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from genai_tui import __version__
from genai_tui.cli.options import ExitCode, OneLineParser, add_load_options, add_session_options


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with --help on every subcommand."""
    from genai_tui.cli.generate import add_generate_command
    from genai_tui.cli.sessions import add_sessions_command

    parser = OneLineParser(
        prog="genai-tui",
        description="Personalized image generation from a terminal: Stable Diffusion, LoRA, CLIP.",
        epilog="Run without a subcommand to open the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"genai-tui {__version__}")
    add_session_options(parser)
    add_load_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_generate_command(commands)
    add_sessions_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        print(
            "genai-tui: the terminal UI is not built yet; use `genai-tui generate PROMPT` "
            "(see `genai-tui --help`)",
            file=sys.stderr,
        )
        return ExitCode.FAILED
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
