"""`genai-tui score`: rank a session's images by CLIP score or PickScore, best first, as a table."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from genai_tui.cli.clip_options import (
    add_clip_option,
    add_pickscore_options,
    add_rank_option,
    check_ranking,
)
from genai_tui.cli.options import (
    ExitCode,
    add_session_name_option,
    add_session_options,
    fail,
    open_store,
)
from genai_tui.engine.clip_refs import CLIP_SCORE_HELP, resolve_clip
from genai_tui.engine.errors import BadInput, ModelError
from genai_tui.engine.scorers import PICKSCORE_HELP, images_model, label_of
from genai_tui.engine.sources import DEMO
from genai_tui.jobs.events import (
    ClipLoaded,
    Event,
    ImagesScored,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobWarning,
    ModelLoading,
)
from genai_tui.jobs.hints import USER_FIXABLE
from genai_tui.jobs.specs import ScoreJob
from genai_tui.session.errors import SessionError

if TYPE_CHECKING:
    from genai_tui.session.models import ImageRecord


def add_score_command(commands: Any) -> None:
    """Register the score subcommand."""
    parser = commands.add_parser(
        "score",
        help="rank a session's images by CLIP score or PickScore",
        description="Score a session's images with CLIP (or PickScore: --scorer pickscore) and "
        "print them best first (rank, score, file, prompt). Without --text each image is scored "
        "against its own prompt and the score is saved in its record; with --text every image "
        f"is scored against that text and nothing is saved. {CLIP_SCORE_HELP} {PICKSCORE_HELP}",
    )
    add_session_name_option(parser)
    parser.add_argument(
        "--text", default=None, help="rank by this text instead of each image's own prompt"
    )
    add_clip_option(parser)
    add_rank_option(parser, "--scorer", "the scorer")
    add_pickscore_options(parser)
    parser.add_argument(
        "--batch-size", type=int, default=16, help="images scored together (default: 16)"
    )
    add_session_options(parser)
    parser.set_defaults(handler=run_score_command)


def run_score_command(args: argparse.Namespace) -> int:
    """Check the input, score through the worker, print the ranking; see ExitCode."""
    try:
        if args.text is not None and not args.text.strip():
            raise BadInput("--text is empty", hint="leave it out to rank by each image's prompt")
        if args.batch_size < 1:
            raise BadInput(f"--batch-size must be at least 1 (got {args.batch_size})")
        if args.clip is not None:
            resolve_clip(args.clip)
        # Scores against the images' own prompts are saved in their records; by a text, nothing.
        store = open_store(args, create=False, writes=args.text is None)
        images = [r.model for r in store.session.images] or [store.session.model or DEMO]
        check_ranking(args, images_model(images))
    except (BadInput, ModelError) as exc:
        fail(str(exc), exc.hint)
    except SessionError as exc:
        fail(str(exc), exc.hint)
    if not store.session.images:
        print(f'genai-tui: session "{store.name}" has no images to score', file=sys.stderr)
        return ExitCode.OK
    job = ScoreJob(
        store,
        text=args.text,
        clip=args.clip,
        batch_size=args.batch_size,
        scorer=args.rank,
        pickscore=args.pickscore,
        pickscore_processor=args.pickscore_processor,
    )
    outcome, scored = _run(job)
    if isinstance(outcome, JobFinished) and scored is not None:
        if scored.text is not None:
            print(f"genai-tui: scored against {scored.text!r}", file=sys.stderr)
        print(format_ranking(scored.records, scored.scores))
        label = label_of(scored.scorer)
        count = len(scored.scores)
        print(f"genai-tui: {label} by {scored.clip_model}, {count} image(s)", file=sys.stderr)
        return ExitCode.OK
    if isinstance(outcome, JobFailed):
        hint = f" ({outcome.hint})" if outcome.hint else ""
        print(f"genai-tui: error: {outcome.error}{hint}", file=sys.stderr)
        return ExitCode.BAD_INPUT if outcome.kind in USER_FIXABLE else ExitCode.FAILED
    print("genai-tui: cancelled; no score was saved", file=sys.stderr)
    return ExitCode.INTERRUPTED


def ranking(
    records: Sequence[ImageRecord], scores: Mapping[str, float]
) -> list[tuple[int, float, ImageRecord]]:
    """(rank, score, record) best first; ties in file order. Unscored records are left out."""
    scored = [(scores[r.file], r) for r in records if r.file in scores]
    scored.sort(key=lambda pair: (-pair[0], pair[1].file))
    return [(rank, score, record) for rank, (score, record) in enumerate(scored, start=1)]


def format_ranking(records: Sequence[ImageRecord], scores: Mapping[str, float]) -> str:
    """The ranking as a plain-text table: RANK, SCORE, FILE (hidden ones marked), PROMPT."""
    rows = [
        (
            str(rank),
            f"{score:.2f}",
            record.file + (" (hidden)" if record.hidden else ""),
            " ".join(record.prompt.split()),
        )
        for rank, score, record in ranking(records, scores)
    ]
    header = ("RANK", "SCORE", "FILE", "PROMPT")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    lines = [
        f"{r[0]:>{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip()
        for r in [header, *rows]
    ]
    return "\n".join(lines)


def _run(job: ScoreJob) -> tuple[Event | None, ImagesScored | None]:
    from genai_tui.jobs.worker import Worker

    done = threading.Event()
    outcome: list[Event] = []
    scored: list[ImagesScored] = []

    shown: set[str] = set()

    def listen(event: Event) -> None:
        if isinstance(event, ModelLoading):
            if event.what not in shown:  # download progress repeats the same line many times
                shown.add(event.what)
                print(f"genai-tui: {event.what}", file=sys.stderr)
        elif isinstance(event, ClipLoaded):
            print(
                f"genai-tui: loaded CLIP {event.name} on {event.device} ({event.dtype}) "
                f"in {event.seconds:.1f} s",
                file=sys.stderr,
            )
        elif isinstance(event, JobWarning):
            print(f"genai-tui: warning: {event.message}", file=sys.stderr)
        elif isinstance(event, ImagesScored):
            scored.append(event)
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
    return (outcome[0] if outcome else None), (scored[-1] if scored else None)
