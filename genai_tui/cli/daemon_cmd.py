"""`genai-tui daemon status|stop|run` and `genai-tui jobs [list|follow|cancel|retry]`."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

from genai_tui import words
from genai_tui.cli.follow import event_line, failure_code, say
from genai_tui.cli.options import ExitCode, add_session_options
from genai_tui.daemon.api import JobInfo
from genai_tui.jobs.events import Event, JobCancelled, JobFailed, JobFinished, TrainStep


def add_daemon_command(commands: Any) -> None:
    """Register `daemon`."""
    parser = commands.add_parser(
        "daemon",
        help="the background process that runs jobs: status, stop, run",
        description="The genai-tui daemon owns the GPU and runs every genai-tui's jobs, so a "
        "dropped SSH link loses nothing. The first genai-tui that needs it starts it; it leaves "
        "after 15 minutes with no jobs and no clients (GENAI_TUI_DAEMON_IDLE_MINUTES).",
    )
    parser.add_argument("action", choices=("status", "stop", "run"), nargs="?", default="status")
    parser.add_argument("--devices", default=None, help="run: workers, e.g. cuda:0,cuda:1")
    parser.add_argument("--idle-minutes", type=float, default=None, help="run: idle time")
    add_session_options(parser)
    parser.set_defaults(handler=run_daemon_command)


def add_jobs_command(commands: Any) -> None:
    """Register `jobs`."""
    parser = commands.add_parser(
        "jobs",
        help="list, follow, cancel or retry the daemon's jobs",
        description="The daemon's jobs of every session: running, queued and recent ones.",
    )
    parser.add_argument(
        "action", choices=("list", "follow", "cancel", "retry"), nargs="?", default="list"
    )
    parser.add_argument("id", nargs="?", help="the job (follow, cancel, retry)")
    add_session_options(parser)
    parser.set_defaults(handler=run_jobs_command)


def _root(args: argparse.Namespace) -> Any:
    from genai_tui.session.names import sessions_root

    return sessions_root(getattr(args, "sessions_dir", None))


def run_daemon_command(args: argparse.Namespace) -> int:
    """status: what runs; stop: leave now; run: serve in the foreground."""
    from genai_tui.daemon.client import DaemonClient
    from genai_tui.daemon.errors import DaemonUnavailable
    from genai_tui.daemon.spawn import connect

    root = _root(args)
    if args.action == "run":
        from genai_tui.daemon.__main__ import main

        argv = ["--sessions-dir", str(root)]
        argv += ["--devices", args.devices] if args.devices else []
        argv += ["--idle-minutes", str(args.idle_minutes)] if args.idle_minutes else []
        return main(argv)
    try:
        connect(root, start=False).close()
    except DaemonUnavailable:
        print(f"no genai-tui daemon runs for {root}")
        return ExitCode.OK
    client = DaemonClient(root, watch_all=False, client="genai-tui daemon")
    client.start()
    try:
        if args.action == "stop":
            client.stop_daemon()
            print(f"genai-tui daemon {client.daemon_pid} is stopping")
            return ExitCode.OK
        print(format_status(client.status()))
    finally:
        client.stop()
    return ExitCode.OK


def format_status(status: dict[str, Any]) -> str:
    """`daemon status` as lines: pid, uptime, workers (device, job, models, memory), queue."""
    lines = [
        f"genai-tui daemon {status['pid']}, up {words.duration(status['uptime'])}, "
        f"serving {status['root']}",
        # The daemon counts the connection that asks too.
        f"  socket {status['socket']}; {max(0, status['clients'] - 1)} other client(s); leaves "
        f"after "
        f"{words.duration(status['idle_seconds'])} idle",
    ]
    for worker in status["workers"]:
        memory = worker.get("gpu_memory")
        held = f", GPU memory {memory / 2**30:.2f} GiB" if memory else ""
        named = ((worker.get("model"), ""), (worker.get("clip"), "CLIP "))
        models = ", ".join(f"{kind}{ref}" for ref, kind in named if ref) or "none"
        job = worker.get("job") or "idle"
        lines.append(f"  {worker['device']}: {job}; models loaded: {models}{held}")
    lines.append(f"  queue: {status['running']} running, {status['queued']} queued")
    return "\n".join(lines)


def format_jobs(jobs: list[JobInfo]) -> str:
    """The jobs as a table: ID, STATE, SESSION, DEVICE, PROGRESS or result, TITLE."""
    rows = [("ID", "STATE", "SESSION", "DEVICE", "WHEN", "TITLE")]
    for job in jobs:
        when = job.progress or (job.error or time.strftime("%m-%d %H:%M", time.localtime(
            job.finished or job.submitted)))  # fmt: skip
        rows.append(
            (job.id, job.state, job.session or "-", job.device or "-", when[:40], job.title)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5]
        for row in rows
    )


def run_jobs_command(args: argparse.Namespace) -> int:
    """list (default), follow ID, cancel ID, retry ID."""
    from genai_tui.daemon.client import DaemonClient
    from genai_tui.daemon.errors import DaemonUnavailable
    from genai_tui.daemon.spawn import connect

    root = _root(args)
    if args.action != "list" and not args.id:
        print(f"genai-tui: error: jobs {args.action} needs a job id", file=sys.stderr)
        return ExitCode.BAD_INPUT
    try:
        connect(root, start=False).close()
    except DaemonUnavailable:
        print(f"no genai-tui daemon runs for {root}: no jobs")
        return ExitCode.OK
    if args.action == "follow":
        return follow_job(root, args.id)
    client = DaemonClient(root, watch_all=False, client="genai-tui jobs")
    client.start()
    try:
        if args.action == "list":
            jobs = client.list_jobs()
            print(format_jobs(jobs) if jobs else "no jobs")
        elif args.action == "cancel":
            ok = client.cancel(args.id)
            say(f"job {args.id} {'is cancelling' if ok else 'is not queued or running'}")
            return ExitCode.OK if ok else ExitCode.BAD_INPUT
        else:
            new = client.retry(args.id)
            print(new)
            say(f"job {args.id} queued again as {new}")
    finally:
        client.stop()
    return ExitCode.OK


def follow_job(root: Any, job_id: str) -> int:
    """Stream a job's events (its progress so far first) until it ends; Ctrl-C stops watching."""
    from genai_tui.daemon.client import DaemonClient

    done = threading.Event()
    ended: list[Event] = []
    last_step = [0.0]

    def listen(event: Event) -> None:
        if event.job_id != job_id:
            return
        if isinstance(event, JobFinished | JobFailed | JobCancelled):
            ended.append(event)
            done.set()
            return
        if isinstance(event, TrainStep) and event.step < event.total:
            if time.monotonic() - last_step[0] < 1.0:
                return
            last_step[0] = time.monotonic()
        if line := event_line(event):
            say(line)

    client = DaemonClient(root, listen, watch_all=False, client="genai-tui jobs follow")
    client.start()
    try:
        known = {job.id: job for job in client.list_jobs()}
        job = known.get(job_id)
        if job is None:
            print(f"genai-tui: error: no job {job_id}", file=sys.stderr)
            return ExitCode.BAD_INPUT
        if job.ended:
            say(f"job {job_id} is {job.state}" + (f": {job.error}" if job.error else ""))
            return ExitCode.OK if job.state == "done" else ExitCode.FAILED
        client.watch([job_id])
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        say(f"stopped watching; job {job_id} goes on")
        return ExitCode.INTERRUPTED
    finally:
        client.stop()
    end = ended[0]
    if isinstance(end, JobFailed):
        return failure_code(end)
    say(end.sentence())
    return ExitCode.OK if isinstance(end, JobFinished) else ExitCode.INTERRUPTED
