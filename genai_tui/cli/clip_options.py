"""Command-line options for CLIP scoring: `--clip` everywhere, and generate's best-of flags."""

from __future__ import annotations

import argparse
from typing import Any

from genai_tui.engine.clip_refs import DEFAULT_CLIP_RULE, resolve_clip
from genai_tui.engine.errors import BadInput
from genai_tui.knobs import BEST_OF, KEEP


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
        *BEST_OF.flags,
        type=int,
        default=None,
        metavar=BEST_OF.metavar,
        help=f"{BEST_OF.help} Made -n at a time, N <= {BEST_OF.maximum:g}; only the kept paths "
        "are printed.",
    )
    group.add_argument(
        *KEEP.flags,
        type=int,
        default=None,
        metavar=KEEP.metavar,
        help=f"{KEEP.help} (default: {KEEP.default})",
    )
    add_clip_option(group)  # type: ignore[arg-type]  # an argument group takes the same calls


def scoring_fields(args: argparse.Namespace) -> dict[str, Any]:
    """GenerateJob's scoring fields from parsed arguments; BadInput or ModelError when unusable."""
    from genai_tui.jobs.best_of import check_best_of

    best_of: int | None = args.best_of
    keep: int | None = args.keep
    score = not args.no_score
    if keep is not None and best_of is None:
        raise BadInput("--keep needs --best-of", hint="e.g. --best-of 8 --keep 2")
    check_best_of(best_of, keep or KEEP.default, score)
    if args.clip is not None:
        resolve_clip(args.clip)  # a typo fails now, before the pipeline loads
    return {"score": score, "clip": args.clip, "best_of": best_of, "keep": keep or KEEP.default}
