"""`genai-tui sessions`: list the sessions, newest first."""

from __future__ import annotations

import argparse
from typing import Any

from genai_tui.cli.options import ExitCode, add_session_options, fail
from genai_tui.session.errors import SessionError
from genai_tui.session.names import sessions_root


def add_sessions_command(commands: Any) -> None:
    """Register the sessions subcommand."""
    parser = commands.add_parser(
        "sessions",
        help="list sessions (name, images, last change)",
        description="List the sessions in the sessions folder, the most recently changed first.",
    )
    add_session_options(parser)
    parser.set_defaults(handler=run_sessions_command)


def run_sessions_command(args: argparse.Namespace) -> int:
    """Print one line per session; unreadable ones say why instead of failing the listing."""
    root = sessions_root(getattr(args, "sessions_dir", None))
    try:
        from genai_tui.session.listing import list_sessions

        summaries = list_sessions(root)
    except SessionError as error:  # a root that is a file or cannot be read
        fail(str(error), error.hint)
    if not summaries:
        print(f"no sessions in {root}")
        return ExitCode.OK
    width = max(len("NAME"), *(len(s.name) for s in summaries))
    print(f"{'NAME':<{width}}  {'IMAGES':>6}  LAST CHANGE")
    for summary in summaries:
        if summary.error:
            print(f"{summary.name:<{width}}  {'?':>6}  unreadable: {summary.error}")
        else:
            print(f"{summary.name:<{width}}  {summary.images:>6}  {summary.updated}")
    return ExitCode.OK
