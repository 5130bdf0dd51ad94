"""Options shared by the command line's subcommands, and its one-line error reporting."""

from __future__ import annotations

import argparse
import sys
from enum import IntEnum
from typing import TYPE_CHECKING, NoReturn

from genai_tui.engine.errors import BadInput
from genai_tui.engine.params import LoadOptions

if TYPE_CHECKING:
    from genai_tui.session.store import SessionStore


class ExitCode(IntEnum):
    """Exit codes scripts can rely on."""

    OK = 0
    FAILED = 1
    """The job failed for a reason that is not the input's fault (out of memory, a bug)."""
    BAD_INPUT = 2
    """Bad arguments, a missing model, an unreadable session: nothing was written."""
    INTERRUPTED = 130


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit code 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {self.prog} --help)")


def fail(message: str, hint: str = "", code: int = ExitCode.BAD_INPUT) -> NoReturn:
    """Print `genai-tui: error: message (hint)` as one line on stderr and exit."""
    suffix = f" ({hint})" if hint else ""
    print(f"genai-tui: error: {message}{suffix}", file=sys.stderr)
    raise SystemExit(code)


def add_session_options(parser: argparse.ArgumentParser) -> None:
    """--sessions-dir, accepted before or after the subcommand."""
    parser.add_argument(
        "--sessions-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="where sessions live (default: $GENAI_TUI_SESSIONS_DIR, else ./sessions)",
    )


DEFAULT_SESSION = "default"
"""The session headless commands use when none is named."""


def open_store(
    args: argparse.Namespace, *, create: bool = True, writes: bool = True
) -> SessionStore:
    """The session named by --session under --sessions-dir; SessionError when it cannot be
    used. A command that will write is refused now if it could not (a read-only folder, a full
    disk), not after the model has loaded."""
    from genai_tui.session.store import SessionStore, sessions_root

    root = sessions_root(getattr(args, "sessions_dir", None))
    store = SessionStore.open(root, args.session, create=create)
    if writes:
        store.check_writable()
    return store


def add_session_name_option(parser: argparse.ArgumentParser) -> None:
    """--session NAME for a headless command."""
    parser.add_argument(
        "--session", default=DEFAULT_SESSION, help=f"session name (default: {DEFAULT_SESSION})"
    )


def add_jobs_options(parser: argparse.ArgumentParser, *, detach: bool = True) -> None:
    """Where the job runs: the daemon (default) or this process; --detach returns at once."""
    parser.add_argument(
        "--in-process",
        action="store_true",
        default=argparse.SUPPRESS,
        help="run the job in this process instead of the genai-tui daemon (it stops with it)",
    )
    if detach:
        parser.add_argument(
            "--detach",
            action="store_true",
            help="queue the job with the daemon and return at once, printing its id",
        )


def in_process(args: argparse.Namespace) -> bool:
    """Whether jobs run in this process (--in-process, or GENAI_TUI_IN_PROCESS=1)."""
    from genai_tui.daemon.jobs import in_process_default

    return bool(getattr(args, "in_process", False)) or in_process_default()


def add_load_options(parser: argparse.ArgumentParser) -> None:
    """How models load: --model, device, precision and memory savers."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        metavar="REF",
        default=argparse.SUPPRESS,
        help="demo, a hub id, a diffusers folder or a .safetensors file "
        "(default: the session's model, else SD 1.5 on CUDA and demo elsewhere)",
    )
    group.add_argument(
        "--model-config",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="diffusers folder with the configs a single .safetensors file needs",
    )
    group.add_argument(
        "--device", default=argparse.SUPPRESS, help="auto, cuda, mps or cpu (default: auto)"
    )
    group.add_argument(
        "--dtype", default=argparse.SUPPRESS, help="auto, fp16, bf16 or fp32 (default: auto)"
    )
    group.add_argument(
        "--taesd",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="TAESD folder (AutoencoderTiny, safetensors) for previews "
        "(default: madebyollin/taesd from the Hugging Face cache when it is there)",
    )
    for flag, text in (
        ("--attention-slicing", "compute attention in slices: less memory, a bit slower"),
        ("--vae-tiling", "decode in tiles: large images in less memory"),
        ("--cpu-offload", "keep idle model parts in RAM (CUDA): least GPU memory"),
    ):
        group.add_argument(flag, action="store_true", default=argparse.SUPPRESS, help=text)


def given_model(args: argparse.Namespace) -> str | None:
    """The --model given (None when not given); an empty one is refused, not taken as absent."""
    model: str | None = getattr(args, "model", None)
    if model is not None and not model.strip():
        raise BadInput("--model is empty", hint="give demo, a hub id, a folder or a file")
    return model


def load_options(args: argparse.Namespace) -> LoadOptions:
    """LoadOptions from parsed arguments (options may sit before or after the subcommand)."""
    return LoadOptions(
        device=getattr(args, "device", "auto"),
        dtype=getattr(args, "dtype", "auto"),
        attention_slicing=getattr(args, "attention_slicing", False),
        vae_tiling=getattr(args, "vae_tiling", False),
        cpu_offload=getattr(args, "cpu_offload", False),
        single_file_config=getattr(args, "model_config", None),
        taesd=getattr(args, "taesd", None),
    )
