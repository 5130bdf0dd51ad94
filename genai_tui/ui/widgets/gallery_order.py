"""Which images the gallery shows, in which order: by CLIP score or by time, hidden or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from genai_tui.session.models import ImageRecord


SortMode = Literal["score", "time"]


@dataclass
class GalleryOrder:
    """The gallery's records and how to show them. `records` is in time order, oldest first."""

    records: list[ImageRecord] = field(default_factory=list)
    mode: SortMode = "score"
    show_hidden: bool = False
    text: str | None = None
    """A "rank by text" query whose scores replace the per-prompt scores while it stands."""
    text_scores: dict[str, float] = field(default_factory=dict)

    def score_of(self, record: ImageRecord) -> float | None:
        """The score that ranks `record` now."""
        if self.text is not None:
            return self.text_scores.get(record.file)
        return record.clip_score

    def shown(self) -> list[ImageRecord]:
        """The visible records, best first (unscored ones after, newest first) or newest first."""
        visible = [r for r in self.records if self.show_hidden or not r.hidden]
        newest_first = list(reversed(visible))
        if self.mode == "time":
            return newest_first
        scored = [r for r in newest_first if self.score_of(r) is not None]
        unscored = [r for r in newest_first if self.score_of(r) is None]
        # sorted() is stable: equal scores keep newest first.
        return sorted(scored, key=lambda r: -(self.score_of(r) or 0.0)) + unscored

    def add(self, record: ImageRecord) -> None:
        """A new image landed."""
        self.records.append(record)

    def replace(self, updated: list[ImageRecord]) -> None:
        """Records changed (scores, hidden); matched by file."""
        by_file = {r.file: r for r in updated}
        self.records = [by_file.get(r.file, r) for r in self.records]

    def remove(self, file: str) -> None:
        """An image was deleted."""
        self.records = [r for r in self.records if r.file != file]
        self.text_scores.pop(file, None)
