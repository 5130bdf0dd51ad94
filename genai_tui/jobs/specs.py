"""Jobs as data: what the worker is asked to do. Free of torch, so the UI can build them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from genai_tui.engine.params import GenerateParams, LoadOptions
from genai_tui.session.store import SessionStore


def new_job_id() -> str:
    """A short id for log lines and cancel requests."""
    return uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class GenerateJob:
    """Generate images from a prompt into a session."""

    params: GenerateParams
    model: str
    session: SessionStore = field(compare=False, repr=False)
    load: LoadOptions = field(default_factory=LoadOptions)
    id: str = field(default_factory=new_job_id)

    @property
    def title(self) -> str:
        """One line for the log panel."""
        count = self.params.batch_size
        prompt = (
            self.params.prompt if len(self.params.prompt) < 40 else self.params.prompt[:39] + "…"
        )
        return f"generate {count} image{'s' * (count != 1)}: {prompt}"


Job = GenerateJob
"""Every kind of job the worker runs (training and scoring join this union)."""
