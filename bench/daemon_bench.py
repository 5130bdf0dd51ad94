"""The daemon against the in-process worker, each pair measured in one run.

    python bench/daemon_bench.py stream [--runs 5] [--steps 150] [--torch-threads N]
    python bench/daemon_bench.py warm [--runs 3]
    python bench/daemon_bench.py keys [--keys 40] [--rounds 3] [--torch-threads N] [--pinned]
    python bench/daemon_bench.py keys-training [--keys 40] [--rounds 3] [--torch-threads N]

stream: a --steps generation on the demo model through a warm daemon against the same job on an
        in-process worker, alternating: median wall time from submit to JobFinished, their
        ratio (goal <= 1.02), and whether every run delivered its final preview and its end.
warm:   `genai-tui generate` from process start to its first denoising step (seen on its
        terminal), with a warm daemon against a cold `--in-process` run (goal: warm <= 25 %).
keys:   key-to-screen latency in the TUI while a generation runs, daemon against in-process,
        p50 and p95, and each against the same keys while idle (goal: daemon busy p95 <= 1.2x
        idle p95). Also the floor: the idle app while plain busy loops (nice 19) fill every
        core, what any process pays for a machine with no core left, whatever it draws.
keys-training: the same keys in the TUI's prompt while a LoRA training (`genai-tui train
        --detach` on the demo model and assets/sample-images) runs in the daemon, against the
        same keys before it started, and the floor. The prompt stays in front (keys were typed:
        a notice says ctrl+t shows the run) and the header shows the run's steps.

--pinned (keys): the daemon's threads on the last core and the TUI's and this process's on
the others, torch given one thread: the denoising takes no core the terminal uses, as on a GPU
server. The floor is then one busy loop on the daemon's core. Daemon mode only.

--torch-threads N: torch's threads in the daemon, the TUI and this process (OMP_NUM_THREADS;
default torch's own, one per core). On a GPU server the denoising leaves the cores to the
terminal; on a small CPU-only machine torch takes every core unless told fewer: 1 on a 2-core
machine measures the app with a core left for it.
"""

from __future__ import annotations

import argparse
import math
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui_responsiveness import ROOT, drain, read_until, spawn_command, stop

from genai_tui.daemon.client import DaemonClient
from genai_tui.daemon.local import InProcessJobs
from genai_tui.engine.params import GenerateParams
from genai_tui.jobs.events import Event, JobFinished, Progress
from genai_tui.jobs.specs import GenerateJob
from genai_tui.session.store import SessionStore


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def stream(runs: int, steps: int, root: Path) -> None:
    seen: list[Event] = []
    ended = threading.Event()

    def take(event: Event) -> None:
        seen.append(event)
        if isinstance(event, JobFinished):
            ended.set()  # woken, not polled: a polling loop here would take CPU from either side

    daemon = DaemonClient(root, take, watch_all=False)
    daemon.start()
    local = InProcessJobs(root, take)
    local.start()
    store = SessionStore.open(root, "bench")

    def one(jobs: DaemonClient | InProcessJobs) -> tuple[float, bool]:
        params = GenerateParams("a red circle on a white background", steps=steps, seed=1)
        job = GenerateJob(params, "demo", store, score=False, preview="latent")
        seen.clear()
        ended.clear()
        started = time.perf_counter()
        jobs.submit(job)
        while not any(isinstance(e, JobFinished) and e.job_id == job.id for e in seen):
            ended.wait(60)
            ended.clear()
        elapsed = time.perf_counter() - started
        last = [e for e in seen if isinstance(e, Progress) and e.job_id == job.id][-1:]
        return elapsed, bool(last and last[0].step == steps and last[0].previews)

    one(daemon), one(local)  # each loads the demo model once first: not counted
    times: dict[str, list[float]] = {"daemon": [], "in-process": []}
    whole: dict[str, int] = {"daemon": 0, "in-process": 0}
    for _ in range(runs):
        for name, jobs in (("daemon", daemon), ("in-process", local)):
            elapsed, complete = one(jobs)
            times[name].append(elapsed)
            whole[name] += complete
    daemon.stop()
    local.stop()
    d, i = statistics.median(times["daemon"]), statistics.median(times["in-process"])
    print(f"{steps}-step generation, median of {runs}: daemon {d:.3f} s, in-process {i:.3f} s")
    print(f"ratio daemon / in-process: {d / i:.3f} (goal <= 1.02)")
    for name, count in whole.items():
        print(f"  {name}: final preview and end delivered in {count} of {runs} runs")


def warm(runs: int, root: Path) -> None:
    command = [sys.executable, "-m", "genai_tui.cli", "generate", "a red circle on a white"
               " background", "--model", "demo", "--steps", "25", "--sessions-dir", str(root),
               "--no-score"]  # fmt: skip
    client = DaemonClient(root, watch_all=False)
    client.start()  # the daemon runs, and (after the first generate) holds the demo model
    pid, fd, _ = spawn_command(command)
    read_until(fd, b"image(s) in", 300)
    stop(pid, fd)
    results: dict[str, list[float]] = {"warm daemon": [], "cold in-process": []}
    for _ in range(runs):
        for name, extra in (("warm daemon", []), ("cold in-process", ["--in-process"])):
            pid, fd, started = spawn_command([*command, *extra])
            seen, _ = read_until(fd, b"denoising", 300)
            results[name].append(seen - started)
            read_until(fd, b"image(s) in", 300)
            stop(pid, fd)
    client.stop()
    w, c = (statistics.median(results[k]) for k in ("warm daemon", "cold in-process"))
    print(f"start to first denoising step, median of {runs}: warm daemon {w:.2f} s, "
          f"cold in-process {c:.2f} s: {100 * w / c:.0f} % (goal <= 25 %)")  # fmt: skip


KEY_STEPS = 600
"""Steps of 4 demo images per 60 keys: a generation that outlasts the keys (the default 25 steps
end in a fraction of a second on the demo model, and most keys would land after it)."""


def read_for(fd: int, seconds: float) -> bytes:
    """What the app writes in the next `seconds`."""
    out, end = b"", time.perf_counter() + seconds
    while time.perf_counter() < end:
        if select.select([fd], [], [], 0.01)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def open_prompt(root: Path, session: str, extra: list[str]) -> tuple[int, int]:
    """The TUI on `session`, the demo model loaded, nothing running, a prompt typed: pid, pty."""
    command = [sys.executable, "-m", "genai_tui.cli", "--model", "demo", "--images", "halfcell",
               "--sessions-dir", str(root), "--session", session, *extra]  # fmt: skip
    pid, fd, _ = spawn_command(command)
    read_until(fd, b"idle", 300)  # the model is loaded and nothing runs
    drain(fd, 3.0)  # in-process, CLIP loads after the model
    for key in b" a red circle":
        os.write(fd, bytes([key]))
    drain(fd, 0.3)
    return pid, fd


def key_latencies(fd: int, count: int) -> tuple[list[float], bytes]:
    """Each of `count` keys' time to the screen, and what the app drew meanwhile."""
    out, drawn = [], b""
    for _ in range(count):
        sent = time.perf_counter()
        os.write(fd, b"z")
        seen, text = read_until(fd, b"z", 10)
        out.append(seen - sent)
        drawn += text + read_for(fd, 0.05)
    return out, drawn


def pin(pid: int, cores: set[int]) -> None:
    """Every thread of `pid` onto `cores` (threads it starts later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cores)


def daemon_pid(root: Path) -> int:
    """The pid of the daemon of `root` (the TUI started it)."""
    found = subprocess.run(["pgrep", "-f", f"genai_tui.daemon --sessions-dir {root}"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(found.stdout.split()[0])


def with_cores_busy(
    measure: Callable[[], tuple[list[float], bytes]], cores: list[set[int]] | None = None
) -> list[float]:
    """`measure` while a busy loop at the lowest priority runs on each of `cores` (default: on
    every core, unpinned)."""
    loop = [sys.executable, "-c", "while True: pass"]
    count = len(cores) if cores else os.cpu_count() or 1
    loops = [subprocess.Popen(["nice", "-n", "19", *loop]) for _ in range(count)]
    try:
        for process, core in zip(loops, cores or [], strict=False):
            pin(process.pid, core)
        time.sleep(0.5)
        return measure()[0]
    finally:
        for process in loops:
            process.kill()
            process.wait()


def keys(count: int, rounds: int, root: Path, pinned: bool) -> None:
    from genai_tui.session.models import EditorState

    figures: dict[str, tuple[list[float], list[float]]] = {}
    modes = [("daemon", [])] if pinned else [("daemon", []), ("in-process", ["--in-process"])]
    last = max(os.sched_getaffinity(0))
    terminal, denoising = set(os.sched_getaffinity(0)) - {last}, {last}
    for name, extra in modes:
        store = SessionStore.open(root, name)
        store.set_editor(EditorState(steps=KEY_STEPS, batch_size=4 * math.ceil(count / 60)))
        store.save()
        pid, fd = open_prompt(root, name, extra)
        if pinned:
            pin(os.getpid(), terminal)
            pin(pid, terminal)
            pin(daemon_pid(root), denoising)

        def latencies(fd: int = fd) -> tuple[list[float], bytes]:
            return key_latencies(fd, count)

        idle: list[float] = []
        busy: list[float] = []
        for round_ in range(rounds):
            idle += latencies()[0]
            if name == "daemon" and round_ == 0:
                busy_cores = [denoising] if pinned else None
                figures["idle, every core busy"] = (idle[:], with_cores_busy(latencies, busy_cores))
            os.write(fd, b"\x07")  # ctrl+g
            read_until(fd, b"step", 120)
            keyed, drawn = latencies()
            if b"idle" in drawn:  # the header says so when the generation ends
                raise SystemExit(f"{name}: the generation ended before the last key: more steps")
            busy += keyed
            read_until(fd, b"idle", 300)
            drain(fd, 1.0)  # the images landed
        stop(pid, fd)
        figures[name] = (idle, busy)
    threads = os.environ.get("OMP_NUM_THREADS", "one per core")
    where = f"; daemon on core {last}, the TUI on {sorted(terminal)}" if pinned else ""
    print(f"torch threads: {threads}, {os.cpu_count()} cores{where}; {count} keys idle and "
          f"{count} generating, {rounds} times")  # fmt: skip
    floor = p95(figures["idle, every core busy"][1])
    for name, (idle, busy) in figures.items():
        what = "cores busy" if name.startswith("idle") else "generating"
        against = "" if name.startswith("idle") else f", against the floor {p95(busy) / floor:.2f}"
        ratio = p95(busy) / p95(idle)
        print(f"{name}: idle p50 {statistics.median(idle) * 1e3:.1f} ms p95 {p95(idle) * 1e3:.1f}"
              f" ms; {what} p50 {statistics.median(busy) * 1e3:.1f} ms p95 "
              f"{p95(busy) * 1e3:.1f} ms: {what}/idle p95 {ratio:.2f}{against}")  # fmt: skip
    print("goal: daemon busy p95 <= 1.2 x idle p95")


def keys_training(count: int, rounds: int, root: Path) -> None:
    pid, fd = open_prompt(root, "training", [])

    def latencies() -> tuple[list[float], bytes]:
        return key_latencies(fd, count)

    idle = [t for _ in range(rounds) for t in latencies()[0]]
    floor = with_cores_busy(latencies)
    train = [sys.executable, "-m", "genai_tui.cli", "train", "--data", "assets/sample-images",
             "--model", "demo", "--session", "training", "--steps", "100000", "--no-score",
             "--validation-every", "0", "--checkpoint-every", "0", "--sessions-dir", str(root),
             "--detach"]  # fmt: skip
    subprocess.run(train, check=True, stdout=subprocess.DEVNULL)
    # Keys were typed here, so the app leaves the prompt in front (a notice says ctrl+t shows
    # the run) and the header shows the run's steps.
    read_until(fd, b"training ", 300)
    drain(fd, 1.0)
    busy: list[float] = []
    for _ in range(rounds):
        keyed, drawn = latencies()
        if b"idle" in drawn:
            raise SystemExit("the training ended before the last key")
        busy += keyed
    stop(pid, fd)
    threads = os.environ.get("OMP_NUM_THREADS", "one per core")
    print(f"torch threads: {threads}, {os.cpu_count()} cores; {rounds} x {count} keys each")
    for name, values in (("idle", idle), ("idle, every core busy", floor), ("training", busy)):
        print(
            f"{name}: p50 {statistics.median(values) * 1e3:.1f} ms, p95 "
            f"{p95(values) * 1e3:.1f} ms, p95 / idle p95 {p95(values) / p95(idle):.2f}"
        )
    print(f"training against the floor: {p95(busy) / p95(floor):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("stream", "warm", "keys", "keys-training"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="keys: generations typed through")
    parser.add_argument("--torch-threads", type=int, help="OMP_NUM_THREADS for every process")
    parser.add_argument("--pinned", action="store_true", help="keys: the daemon on its own core")
    args = parser.parse_args()
    if args.pinned:
        args.torch_threads = 1
    if args.torch_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.torch_threads)  # before torch loads here

    os.chdir(ROOT)
    os.environ.pop("GENAI_TUI_IN_PROCESS", None)
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="gt-bench-"))
    root = Path(tempfile.mkdtemp(prefix="gt-sessions-"))
    try:
        if args.what == "stream":
            stream(args.runs, args.steps, root)
        elif args.what == "warm":
            warm(args.runs, root)
        elif args.what == "keys":
            keys(args.keys, args.rounds, root, args.pinned)
        else:
            keys_training(args.keys, args.rounds, root)
    finally:
        client = DaemonClient(root, watch_all=False)
        try:
            client.start()
            client.stop_daemon()
        except Exception:
            pass


if __name__ == "__main__":
    main()
