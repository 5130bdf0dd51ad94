"""A queued job as it travels to clients: the queue's row, plus where a running job is now."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_tui.daemon.api import JobInfo
from genai_tui.daemon.queue import QueuedJob


def info_to_wire(job: QueuedJob, progress: str = "") -> dict[str, Any]:
    """The fields of JobInfo, as JSON."""
    return {
        "id": job.id,
        "kind": job.kind,
        "title": job.title,
        "state": job.state,
        "session_root": job.session_root,
        "session": job.session,
        "device": job.device,
        "submitted": job.submitted,
        "started": job.started,
        "finished": job.finished,
        "error": job.error,
        "progress": progress,
        "summary": dict(job.summary),
    }


def info_message(job: QueuedJob, progress: str = "") -> dict[str, Any]:
    """The notice that goes to a client before the first event of a job it had not seen."""
    return {"op": "job", "job": info_to_wire(job, progress)}


def info_from_wire(data: Mapping[str, Any]) -> JobInfo:
    """A JobInfo from its JSON (fields a newer daemon adds are left out)."""
    known = set(JobInfo.__dataclass_fields__)
    return JobInfo(**{key: value for key, value in data.items() if key in known})
