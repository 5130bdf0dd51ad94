"""Command-line options for scoring: `--clip`, `--rank`, PickScore's folders, and best-of."""

from __future__ import annotations

import argparse
from typing import Any

from genai_tui.engine.clip_refs import DEFAULT_CLIP_RULE, resolve_clip
from genai_tui.engine.errors import BadInput
from genai_tui.engine.scorers import (
    PICKSCORE_PROCESSOR_REPO,
    PICKSCORE_REPO,
    SCORER_NAMES,
    SCORERS,
    ScorerName,
    ranked_by,
    resolve_pickscore,
)
from genai_tui.knobs import BEST_OF, KEEP


def add_clip_option(parser: argparse.ArgumentParser) -> None:
    """--clip REF: the CLIP model that scores."""
    parser.add_argument(
        "--clip",
        metavar="REF",
        default=None,
        help=f"CLIP model that scores: demo, a hub id or a folder (default: {DEFAULT_CLIP_RULE})",
    )


def scorers_help() -> str:
    """Each scorer's name and what its number means, for --rank and --scorer."""
    return "; ".join(f"{info.name}: {info.label}, {info.meaning}" for info in SCORERS.values())


def add_rank_option(parser: argparse.ArgumentParser, flag: str = "--rank", what: str = "") -> None:
    """--rank clip|pickscore (sweep, generate) or --scorer (score)."""
    parser.add_argument(
        flag,
        dest="rank",
        choices=SCORER_NAMES,
        default="clip",
        help=f"{what or 'the score that ranks the images'} (default: clip). {scorers_help()}. "
        "On the demo model the demo CLIP stands in for PickScore.",
    )


def add_pickscore_options(parser: argparse.ArgumentParser) -> None:
    """--pickscore PATH and --pickscore-processor PATH: PickScore from local folders."""
    parser.add_argument(
        "--pickscore",
        metavar="PATH",
        default=None,
        help=f"PickScore model folder (default: {PICKSCORE_REPO} from the Hugging Face cache; "
        "never downloaded; safetensors only)",
    )
    parser.add_argument(
        "--pickscore-processor",
        metavar="PATH",
        default=None,
        help="its CLIP processor folder (default: the model folder's own, else "
        f"{PICKSCORE_PROCESSOR_REPO} from the cache)",
    )


def check_ranking(args: argparse.Namespace, model_ref: str | None) -> ScorerName:
    """The scorer that will rank images of `model_ref`; ModelError now if PickScore is asked
    for and is not on this machine (nothing is queued, nothing is written)."""
    rank = ranked_by(args.rank, model_ref, args.pickscore)
    if rank == "pickscore":
        resolve_pickscore(args.pickscore, args.pickscore_processor)
    return rank


def pickscore_fields(args: argparse.Namespace) -> dict[str, Any]:
    """A job's rank and PickScore fields from parsed arguments."""
    return {
        "rank": args.rank,
        "pickscore": args.pickscore,
        "pickscore_processor": args.pickscore_processor,
    }


def add_generate_scoring_options(parser: argparse.ArgumentParser) -> None:
    """--clip, --no-score, --best-of N, --keep K, --rank and PickScore's for `generate`."""
    group = parser.add_argument_group("scoring")
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
    what = "the score best-of keeps the best by; pickscore also scores every image with it"
    add_rank_option(group, what=what)  # type: ignore[arg-type]
    add_pickscore_options(group)  # type: ignore[arg-type]


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
    return {
        "score": score,
        "clip": args.clip,
        "best_of": best_of,
        "keep": keep or KEEP.default,
        **pickscore_fields(args),
    }
