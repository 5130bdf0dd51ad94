"""Which images the gallery shows, in which order: by a scorer (CLIP score, PickScore) or by
time, hidden or not. On demo images that have no PickScore the CLIP score stands in for it
(engine/scorers.py: the demo world has no preference model), and the title says so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from genai_tui.engine.scorers import SCORER_NAMES, ScorerName
from genai_tui.engine.sources import is_demo

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
    scorer: ScorerName = "clip"
    """The scorer asked for (s in the gallery cycles it)."""
    sorted_by: ScorerName = "clip"
    """The scorer that really sorts: `scorer`, or clip standing in (see stands_in)."""

    def score_of(self, record: ImageRecord) -> float | None:
        """The score that ranks `record` now."""
        if self.text is not None:
            return self.text_scores.get(record.file)
        return record.score_by(self.sorted_by)

    def next_scorer(self) -> ScorerName:
        """Sort by the next scorer (a text ranking ends); returns it."""
        self.scorer = SCORER_NAMES[(SCORER_NAMES.index(self.scorer) + 1) % len(SCORER_NAMES)]
        self.text = None
        self.text_scores = {}
        self.mode = "score"
        return self.scorer

    def stands_in(self) -> bool:
        """PickScore asked for on demo images none of which has one: their CLIP score sorts."""
        return (
            self.scorer == "pickscore"
            and any(is_demo(r.model) for r in self.records)
            and not any("pickscore" in r.scores for r in self.records)
        )

    def shown(self) -> list[ImageRecord]:
        """The visible records, best first (unscored ones after, newest first) or newest first."""
        self.sorted_by = "clip" if self.stands_in() else self.scorer
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
