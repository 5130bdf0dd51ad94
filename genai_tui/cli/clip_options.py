"""Command-line options for CLIP scoring: `--clip` everywhere, and generate's best-of flags."""

from __future__ import annotations

import argparse
from typing import Any

from genai_tui.engine.clip_refs import DEFAULT_CLIP_RULE, resolve_clip
from genai_tui.engine.errors import BadInput
from genai_tui.jobs.best_of import MAX_BEST_OF, check_best_of


def add_clip_option(parser: argparse.ArgumentParser) -> None:
    """--clip REF: the CLIP model that scores."""
    parser.add_argument(
        "--clip",
        metavar="REF",
        default=None,
        help=f"CLIP model that scores: demo, a hub id or a folder (default: {DEFAULT_CLIP_RULE})",
    )


def add_generate_scoring_options(parser: argparse.ArgumentParser) -> None:
    """--clip, --no-score, --best-of N and --keep K for `generate`."""
    group = parser.add_argument_group("CLIP scoring")
    group.add_argument(
        "--no-score",
        action="store_true",
        help="do not score the images against their prompt with CLIP",
    )
    group.add_argument(
        "--best-of",
        type=int,
        default=None,
        metavar="N",
        help=f"make N images (-n at a time, N <= {MAX_BEST_OF}) and keep the --keep best by "
        "CLIP score; the others are saved hidden and only the kept paths are printed",
    )
    group.add_argument(
        "--keep",
        type=int,
        default=None,
        metavar="K",
        help="with --best-of: how many images stay visible (default: 1)",
    )
    add_clip_option(group)  # type: ignore[arg-type]  # an argument group takes the same calls


def scoring_fields(args: argparse.Namespace) -> dict[str, Any]:
    """GenerateJob's scoring fields from parsed arguments; BadInput or ModelError when unusable."""
    best_of: int | None = args.best_of
    keep: int | None = args.keep
    score = not args.no_score
    if keep is not None and best_of is None:
        raise BadInput("--keep needs --best-of", hint="e.g. --best-of 8 --keep 2")
    check_best_of(best_of, keep or 1, score)
    if args.clip is not None:
        resolve_clip(args.clip)  # a typo fails now, before the pipeline loads
    return {"score": score, "clip": args.clip, "best_of": best_of, "keep": keep or 1}
