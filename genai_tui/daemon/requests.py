"""What the daemon answers to each request a client sends (one method per `op`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genai_tui.daemon.codec import PROTOCOL_VERSION, WireError, job_from_wire
from genai_tui.daemon.connection import Connection
from genai_tui.daemon.wire_info import info_message, info_to_wire

if TYPE_CHECKING:
    from genai_tui.daemon.server import Daemon
    from genai_tui.session.store import SessionStore

RETRYABLE = frozenset({"failed", "cancelled", "interrupted"})


class Requests:
    """The daemon's answers; every one returns a reply (errors as {"op": "error"})."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def open_store(self, root: Path, name: str) -> SessionStore:
        """The session a job writes into (opened by the daemon: it runs the job)."""
        from genai_tui.session.store import SessionStore

        return SessionStore.open(Path(root), name)

    def answer(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        """The reply to one request; WireError for one that makes no sense."""
        op = message.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        if handler is None:
            raise WireError(f"unknown request {op!r}")
        reply: dict[str, Any] = handler(client, message)
        return reply

    @staticmethod
    def _id(message: Mapping[str, Any]) -> str:
        job_id = message.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise WireError("the request names no job id")
        return job_id

    def op_hello(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        version = message.get("version")
        client.kind = str(message.get("client", "client"))
        if version != PROTOCOL_VERSION:
            return {
                "op": "error",
                "error": f"the daemon (pid {os.getpid()}) speaks protocol {PROTOCOL_VERSION}, "
                f"this genai-tui {version}",
                "version": PROTOCOL_VERSION,
                "busy": self.daemon.busy,
            }
        return {
            "op": "welcome",
            "version": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "devices": self.daemon.devices,
        }

    def op_submit(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        spec = message.get("job")
        if not isinstance(spec, dict):
            raise WireError("submit needs a job")
        job = job_from_wire(spec, self.open_store)  # a job that cannot be read is refused now
        queued = self.daemon.add_job(spec, job.title, client)
        return {"op": "submitted", "job": info_to_wire(queued)}

    def op_cancel(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        return {"op": "cancelled", "ok": self.daemon.cancel(self._id(message))}

    def op_move(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        delta = message.get("delta")
        if not isinstance(delta, int):
            raise WireError("move needs a whole number delta")
        return {"op": "moved", "ok": self.daemon.queue.move(self._id(message), delta)}

    def op_list(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        limit = message.get("limit", 200)
        limit = limit if isinstance(limit, int) and limit > 0 else 200
        live = self.daemon.live
        jobs = [
            info_to_wire(job, live.progress(job.id)) for job in self.daemon.queue.list(limit=limit)
        ]
        return {"op": "jobs", "jobs": jobs}

    def op_subscribe(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        """Watch every job (or those named): running ones are replayed first, so a client that
        connects mid-job shows it at once (the loss curve so far, the last preview)."""
        jobs = message.get("jobs")
        if jobs is None:
            client.watch_all = True
        elif isinstance(jobs, list) and all(isinstance(j, str) for j in jobs):
            client.watching.update(jobs)
        else:
            raise WireError("subscribe takes a list of job ids, or none for all")
        queue, live = self.daemon.queue, self.daemon.live
        for job_id in live.running():
            if not client.watches(job_id) or (job := queue.get(job_id)) is None:
                continue
            client.send(info_message(job, live.progress(job_id)))
            client.known.add(job_id)
            for event in live.replay(job_id):
                client.send_event(event)
        return {"op": "subscribed"}

    def op_status(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        from genai_tui.daemon.status import daemon_status

        return {"op": "status", **daemon_status(self.daemon)}

    def op_stop(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        self.daemon.stop()
        return {"op": "stopping", "pid": os.getpid()}

    def op_retry(self, client: Connection, message: Mapping[str, Any]) -> dict[str, Any]:
        """Queue an ended job again as a new job; an interrupted or cancelled training goes
        on from its last checkpoint."""
        old = self.daemon.queue.get(self._id(message))
        if old is None or old.state not in RETRYABLE:
            state = "unknown" if old is None else old.state
            return {"op": "error", "error": f"job {message.get('id')} cannot be retried ({state})"}
        spec = {**old.spec, "id": uuid.uuid4().hex[:8]}
        if old.kind == "train" and old.session is not None:
            checkpoint = self._last_checkpoint(Path(old.session_root), old.session, spec)
            if checkpoint is not None:
                spec["resume"] = checkpoint
        queued = self.daemon.add_job(spec, old.title, client)
        return {"op": "submitted", "job": info_to_wire(queued), "retried": old.id}

    def _last_checkpoint(self, root: Path, session: str, spec: Mapping[str, Any]) -> str | None:
        """The newest checkpoint of the session's run that made the LoRA `spec` trains."""
        store = self.open_store(root, session)
        name = spec.get("name")
        runs = [run for run in store.session.runs if run.lora == name and run.checkpoints]
        if not runs:
            return None
        runs.sort(key=lambda run: run.updated)
        return str(store.path / runs[-1].checkpoints[-1])
