"""A genai-tui process's side of the daemon: requests, and the events of the jobs it watches.

The wire codec (pydantic, PIL), the events and the queue's records are imported where a message
is made or read, not with this module: the TUI makes its client before its first frame and
connects after it (importing them here cost the first frame about 35 ms).

A reader thread takes every line the daemon sends: replies wake the request that waits for them,
events go to the listener (on that thread, as the in-process worker sends them). When the
daemon goes away mid-job, the jobs this client waits for end with one clear JobFailed, and the
next request starts a new daemon.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_tui.daemon.api import JobInfo, Listener
from genai_tui.daemon.errors import DaemonError, DaemonUnavailable
from genai_tui.daemon.spawn import connect

if TYPE_CHECKING:
    from genai_tui.jobs.events import Event
    from genai_tui.jobs.specs import Job

REPLY_SECONDS = 30.0
"""How long a request waits for the daemon's answer."""

CONNECT_ATTEMPTS = 3


class DaemonClient:
    """Jobs run by the daemon of a sessions root: they go on when this process leaves."""

    leaves_jobs_running = True

    def __init__(
        self,
        root: Path,
        listener: Listener | None = None,
        *,
        watch_all: bool = True,
        client: str = "genai-tui",
    ) -> None:
        self.root = Path(root)
        self._listener = listener
        self._watch_all = watch_all
        self._client = client
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()  # one writer at a time; connects once
        self._refs = itertools.count(1)
        self._waiting: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._infos: dict[str, JobInfo] = {}
        self._open: list[str] = []  # jobs submitted here that have not ended
        self.daemon_pid: int | None = None

    # -- connection -------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect to the daemon (starting one if none runs) and watch its jobs."""
        for attempt in range(CONNECT_ATTEMPTS):
            with self._lock:
                if self._sock is not None:
                    return
                sock = connect(self.root)
                self._sock = sock
                threading.Thread(
                    target=self._read, args=(sock,), name="genai-tui-daemon-reader", daemon=True
                ).start()
            try:
                from genai_tui.daemon.codec import PROTOCOL_VERSION

                hello = {"op": "hello", "version": PROTOCOL_VERSION, "client": self._client}
                welcome = self._request(hello)
            except DaemonError as error:
                if not error.idle_other_version or attempt + 1 == CONNECT_ATTEMPTS:
                    raise
                # An idle daemon of another genai-tui version: nothing runs, so it is
                # replaced by one of this version (its queued jobs stay in the queue).
                self._replace_idle_daemon()
                continue
            except DaemonUnavailable:
                # A daemon killed a moment ago can still take a connection while the kernel
                # tears it down; the next try finds the socket dead and starts a new one.
                self.stop()
                if attempt + 1 == CONNECT_ATTEMPTS:
                    raise
                time.sleep(0.2)
                continue
            self.daemon_pid = welcome.get("pid")
            if self._watch_all:
                self._request({"op": "subscribe", "jobs": None})
            return

    def _replace_idle_daemon(self) -> None:
        from genai_tui.daemon.codec import encode
        from genai_tui.daemon.paths import socket_path

        with contextlib.suppress(OSError), self._lock:
            if self._sock is not None:
                self._sock.sendall(encode({"op": "stop"}))
        self.stop()
        deadline = time.monotonic() + 10
        while socket_path(self.root).exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _read(self, sock: socket.socket) -> None:
        from genai_tui.daemon.codec import WireError, decode

        with contextlib.suppress(OSError), sock.makefile("rb") as stream:
            for line in stream:
                try:
                    message = decode(line)
                except WireError:
                    continue
                self._take(message)
        self._lost(sock)

    def _take(self, message: Mapping[str, Any]) -> None:
        from genai_tui.daemon.codec import WireError, event_from_wire
        from genai_tui.daemon.wire_info import info_from_wire

        ref = message.get("ref")
        if isinstance(ref, int) and ref in self._waiting:
            done, slot = self._waiting[ref]
            slot.append(dict(message))
            done.set()
        elif message.get("op") == "job" and isinstance(message.get("job"), dict):
            info = info_from_wire(message["job"])
            self._infos[info.id] = info
        elif message.get("op") == "event" and isinstance(message.get("event"), dict):
            try:
                event = event_from_wire(message["event"])
            except WireError:
                return
            self._deliver(event)

    def _deliver(self, event: Event) -> None:
        from genai_tui.jobs.events import JobCancelled, JobFailed, JobFinished

        if isinstance(event, JobFinished | JobFailed | JobCancelled) and event.job_id in self._open:
            self._open.remove(event.job_id)
        if self._listener is not None:
            self._listener(event)

    def _lost(self, sock: socket.socket) -> None:
        """The daemon went away: what waited here ends, and the next request reconnects."""
        with self._lock:
            if self._sock is sock:
                self._sock = None
        for done, _slot in list(self._waiting.values()):
            done.set()
        from genai_tui.jobs.events import JobFailed

        for job_id in list(self._open):
            self._deliver(
                JobFailed(
                    job_id,
                    "engine",
                    "the genai-tui daemon stopped while the job ran",
                    "it is marked interrupted: `genai-tui jobs` lists it; retry or resume it",
                )
            )

    def _request(self, message: Mapping[str, Any]) -> dict[str, Any]:
        from genai_tui.daemon.codec import encode

        if self._sock is None:
            self.start()
        ref = next(self._refs)
        done: threading.Event = threading.Event()
        slot: list[dict[str, Any]] = []
        self._waiting[ref] = (done, slot)
        try:
            with self._lock:
                sock = self._sock
                if sock is None:
                    raise DaemonUnavailable("the genai-tui daemon went away")
                try:
                    sock.sendall(encode({**message, "ref": ref}))
                except OSError as error:  # it went away (its reader sees the end too)
                    raise DaemonUnavailable(f"the genai-tui daemon went away ({error})") from None
            if not done.wait(REPLY_SECONDS) or not slot:
                raise DaemonUnavailable("the genai-tui daemon did not answer")
        finally:
            self._waiting.pop(ref, None)
        reply = slot[0]
        if reply.get("op") == "error":
            idle_other = "version" in reply and not reply.get("busy")
            raise DaemonError(
                str(reply.get("error", "refused")), _hint(reply), idle_other_version=idle_other
            )
        return reply

    # -- jobs -----------------------------------------------------------------------------------

    def submit(self, job: Job) -> str:
        """Queue a job with the daemon; its events come to the listener."""
        from genai_tui.daemon.codec import job_to_wire
        from genai_tui.daemon.wire_info import info_from_wire

        self._open.append(job.id)
        try:
            reply = self._request({"op": "submit", "job": job_to_wire(job)})
        except Exception:
            self._open.remove(job.id)
            raise
        info = info_from_wire(reply["job"])
        self._infos[info.id] = info
        return info.id

    def cancel(self, job_id: str | None = None) -> bool:
        """Cancel a job (None: the newest submitted here that has not ended)."""
        target = job_id or (self._open[-1] if self._open else None)
        if target is None:
            return False
        return bool(self._request({"op": "cancel", "id": target}).get("ok"))

    @property
    def busy(self) -> bool:
        """Whether a job submitted here is queued or running."""
        return bool(self._open)

    def info(self, job_id: str) -> JobInfo | None:
        """What the daemon said about a job whose events come here."""
        return self._infos.get(job_id)

    def unfinished(self) -> list[JobInfo]:
        """The jobs submitted here that have not ended (they go on in the daemon)."""
        return [info for job_id in self._open if (info := self._infos.get(job_id)) is not None]

    def list_jobs(self, limit: int = 200) -> list[JobInfo]:
        """Running, queued and recent jobs of every session."""
        from genai_tui.daemon.wire_info import info_from_wire

        reply = self._request({"op": "list", "limit": limit})
        return [info_from_wire(job) for job in reply.get("jobs", [])]

    def move(self, job_id: str, delta: int) -> bool:
        """Move a queued job up (-1) or down (+1)."""
        return bool(self._request({"op": "move", "id": job_id, "delta": delta}).get("ok"))

    def retry(self, job_id: str) -> str | None:
        """Queue an ended job again (training from its last checkpoint); the new id."""
        from genai_tui.daemon.wire_info import info_from_wire

        reply = self._request({"op": "retry", "id": job_id})
        info = info_from_wire(reply["job"])
        self._open.append(info.id)
        self._infos[info.id] = info
        return info.id

    def watch(self, job_ids: list[str]) -> None:
        """Get the events of these jobs too (their progress so far first)."""
        self._request({"op": "subscribe", "jobs": job_ids})

    def status(self) -> dict[str, Any]:
        """The daemon's pid, devices, models, memory, uptime and queue."""
        return self._request({"op": "status"})

    def stop_daemon(self) -> None:
        """Ask the daemon to leave now (running jobs are cancelled, queued ones kept)."""
        self._request({"op": "stop"})

    def stop(self, timeout: float = 2.0) -> None:
        """Let go of the daemon; its jobs go on (`timeout`: nothing to wait for here)."""
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _hint(reply: Mapping[str, Any]) -> str:
    if "version" in reply:
        busy = reply.get("busy")
        if busy:
            return "it is busy: let its jobs end, then run `genai-tui daemon stop`"
        return "it is idle: `genai-tui daemon stop` and try again"
    return ""
