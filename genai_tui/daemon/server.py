"""The daemon: workers that own the GPUs, the durable queue they take jobs from, and the clients
that submit jobs and watch their events over a Unix socket.

One asyncio loop does all the bookkeeping; each worker is the same `jobs.worker.Worker` thread
the in-process mode runs, given one job at a time so the queue (not the worker) decides the
order. Worker events come back through `call_soon_threadsafe`. A client's bad message gets an
error reply; nothing a client does can end the daemon but `stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from genai_tui.daemon.codec import PROTOCOL_VERSION, WireError, decode, job_from_wire
from genai_tui.daemon.connection import Connection, same_user
from genai_tui.daemon.live import LiveJobs
from genai_tui.daemon.paths import queue_file
from genai_tui.daemon.queue import JobQueue, QueuedJob
from genai_tui.daemon.requests import Requests
from genai_tui.daemon.wire_info import info_message
from genai_tui.jobs.events import Event, JobCancelled, JobFailed, JobFinished
from genai_tui.jobs.worker import Worker

HISTORY_SECONDS = 30 * 24 * 3600.0
"""Finished jobs are listed for this long, then pruned."""

LINE_LIMIT = 64 * 1024 * 1024
"""The longest message a client may send (a job spec is a few kB)."""

_ENDS = {JobFinished: "done", JobFailed: "failed", JobCancelled: "cancelled"}


class Daemon:
    """Runs every genai-tui's jobs for one user and sessions root."""

    def __init__(
        self, root: Path, socket_file: Path, devices: list[str], idle_seconds: float
    ) -> None:
        self.root = Path(root)
        self.socket_file = socket_file
        self.idle_seconds = idle_seconds
        self.started = time.time()
        self.queue = JobQueue(queue_file(self.root))
        self.live = LiveJobs()
        self.clients: set[Connection] = set()
        self.devices = devices
        self.workers = {name: Worker(partial(self._from_worker, name)) for name in devices}
        self.running: dict[str, str | None] = dict.fromkeys(devices)
        """The job each worker runs now (by worker name)."""
        self.requests = Requests(self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Event()
        self._last_activity = time.monotonic()
        self._numbers = 0

    # -- life -----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until stopped, or idle for `idle_seconds` with no jobs and no clients."""
        self._loop = asyncio.get_running_loop()
        for job in self.queue.recover():
            print(f"job {job.id} ({job.title}) was running when the daemon stopped: interrupted")
        self.queue.prune(HISTORY_SECONDS)
        for worker in self.workers.values():
            worker.start()
        with contextlib.suppress(FileNotFoundError):
            self.socket_file.unlink()  # the spawner checked nobody listens there
        server = await asyncio.start_unix_server(
            self._serve, path=str(self.socket_file), limit=LINE_LIMIT
        )
        os.chmod(self.socket_file, 0o600)
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            # Not off the main thread (a daemon run by a test in a thread).
            with contextlib.suppress(ValueError, RuntimeError):
                self._loop.add_signal_handler(number, self.stop)
        print(f"daemon {os.getpid()} listening on {self.socket_file}, devices {self.devices}")
        self.dispatch()
        idle = asyncio.create_task(self._leave_when_idle())
        async with server:
            await self._stopping.wait()
        idle.cancel()
        await self._shut_down()

    def stop(self) -> None:
        """Leave now: the running jobs are cancelled, queued ones stay for the next daemon."""
        self._stopping.set()

    async def _leave_when_idle(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_seconds))
            if self.busy or self.clients:
                self._last_activity = time.monotonic()
            elif time.monotonic() - self._last_activity >= self.idle_seconds:
                print(f"idle for {self.idle_seconds:.0f} s with no jobs and no clients: leaving")
                self.stop()
                return

    @property
    def busy(self) -> bool:
        """Whether a job runs or waits."""
        return any(self.running.values()) or bool(self.queue.list(states=["queued"], limit=1))

    async def _shut_down(self) -> None:
        for name, job_id in self.running.items():
            if job_id is not None:
                self.workers[name].cancel(job_id)
        deadline = time.monotonic() + 5
        while any(self.running.values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for worker in self.workers.values():
            worker.stop(timeout=2)  # models released: the GPU memory is given back
        for client in list(self.clients):
            await client.flush()
            client.close()
        with contextlib.suppress(FileNotFoundError):
            self.socket_file.unlink()
        self.queue.close()
        print("daemon stopped")

    # -- jobs -----------------------------------------------------------------------------------

    def dispatch(self) -> None:
        """Give each idle worker the next job it may run."""
        for name, current in self.running.items():
            if current is not None or self._stopping.is_set():
                continue
            claimed = self.queue.claim_next(name, devices=self.devices)
            if claimed is None:
                continue
            self.running[name] = claimed.id
            try:
                job = job_from_wire(claimed.spec, self.requests.open_store)
            except (WireError, Exception) as error:  # a spec that no longer reads, a session gone
                self._job_ended(name, JobFailed(claimed.id, "bad_input", str(error).split("\n")[0]))
                continue
            self.workers[name].submit(_on_device(job, name))

    def _from_worker(self, worker: str, event: Event) -> None:
        # On the worker's thread: the loop owns every other piece of state.
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._on_event, worker, event)

    def _on_event(self, worker: str, event: Event) -> None:
        if type(event) in _ENDS:
            self._job_ended(worker, event)
            return
        self.live.record(event)
        self.broadcast(event)

    def _job_ended(self, worker: str, event: Event) -> None:
        state = _ENDS[type(event)]
        summary = _summary(self.live.replay(event.job_id))
        error = event.error if isinstance(event, JobFailed) else ""
        with contextlib.suppress(Exception):  # a full disk must not stop the daemon
            self.queue.finish(event.job_id, state, summary=summary, error=error)
        self.live.forget(event.job_id)
        if self.running.get(worker) == event.job_id:
            self.running[worker] = None
        self.broadcast(event)
        self.dispatch()

    def broadcast(self, event: Event) -> None:
        """Send an event to every client that watches its job (its info first, once)."""
        for client in list(self.clients):
            if not client.watches(event.job_id):
                continue
            if event.job_id not in client.known:
                job = self.queue.get(event.job_id)
                if job is not None:
                    client.send(info_message(job, self.live.progress(job.id)))
                client.known.add(event.job_id)
            client.send_event(event)

    def add_job(self, spec: Mapping[str, Any], title: str, client: Connection | None) -> QueuedJob:
        """Record a job (the queue decides when it runs); the submitter watches it."""
        job_id = str(spec.get("id") or uuid.uuid4().hex[:8])
        session = spec.get("session") or {}
        queued = self.queue.add(
            job_id,
            str(spec.get("kind", "")),
            title,
            spec,
            session_root=str(session.get("root", "")),
            session=session.get("name"),
            device=_pinned(spec, self.devices),
        )
        if client is not None:
            client.watching.add(job_id)
        self._last_activity = time.monotonic()
        self.dispatch()
        return queued

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job."""
        if self.queue.cancel_queued(job_id):
            self.broadcast(JobCancelled(job_id))
            return True
        for name, running in self.running.items():
            if running == job_id:
                return self.workers[name].cancel(job_id)
        return False

    # -- clients --------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._numbers += 1
        client = Connection(writer, self._numbers)
        if not same_user(writer):
            client.send({"op": "error", "error": "refused: the daemon serves only its own user"})
            await client.flush()
            client.close()
            return
        self.clients.add(client)
        try:
            while not client.closed:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    client.send({"op": "error", "error": "message too long"})
                    break
                if not line:
                    break
                await self._answer(client, line)
        except (ConnectionError, OSError):
            pass
        finally:
            self.clients.discard(client)
            client.close()
            self._last_activity = time.monotonic()

    async def _answer(self, client: Connection, line: bytes) -> None:
        ref: Any = None
        try:
            message = decode(line)
            ref = message.get("ref")
            reply = self.requests.answer(client, message)
        except WireError as error:
            reply = {"op": "error", "error": str(error)}
        except Exception as error:  # a bug answering must not end the daemon
            reply = {"op": "error", "error": f"{type(error).__name__}: {error}"}
        if ref is not None:
            reply = {**reply, "ref": ref}
        client.send(reply)


def _pinned(spec: Mapping[str, Any], devices: list[str]) -> str | None:
    """The worker a job must run on: the one named as its device, None for "auto"."""
    device = str((spec.get("load") or {}).get("device", "auto"))
    return device if device in devices else None


def device_of(worker: str) -> str:
    """The device a worker runs on: its name without a "#2" (a second worker on one device)."""
    return worker.split("#", 1)[0]


def _on_device(job: Any, worker: str) -> Any:
    """The job with its load device set to the worker's (an "auto" job runs where it is sent)."""
    load = getattr(job, "load", None)
    device = device_of(worker)
    if load is None or device == "auto" or load.device == device:
        return job
    return replace(job, load=replace(load, device=device))


def _summary(events: list[Event]) -> dict[str, Any]:
    """What a finished job made, for the queue's history."""
    from genai_tui.jobs.events import ImageReady, LoraReady

    images = [e.record.file for e in events if isinstance(e, ImageReady)]
    loras = [e.record.name for e in events if isinstance(e, LoraReady)]
    return {k: v for k, v in (("images", images), ("loras", loras)) if v}


__all__ = ["PROTOCOL_VERSION", "Daemon"]
