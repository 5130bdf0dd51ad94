"""Worker events arriving in the UI, each wrapped in one Textual message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from genai_tui.jobs.events import Event


class WorkerEvent(Message):
    """A worker event, posted from the worker thread with `post_message` (thread-safe).

    High-rate events (progress, previews, loss ticks) replace a waiting one of the same kind and
    job, so a busy UI drops stale frames instead of falling behind.
    """

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, WorkerEvent)
            and self.event.replaceable
            and type(message.event) is type(self.event)
            and message.event.job_id == self.event.job_id
            and self.event.supersedes(message.event)
        )
