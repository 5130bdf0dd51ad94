"""The worker's loaded models, kept between jobs so the second generation starts at once."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING

from genai_tui.engine.params import LoadOptions

if TYPE_CHECKING:
    from genai_tui.engine.clip import LoadedClip
    from genai_tui.engine.models import LoadedModel
    from genai_tui.engine.scorers import PickScoreSource

Progress = Callable[[str, int | None, int | None], None]


class ModelCache:
    """One diffusion pipeline at a time (GPU memory allows no more); only the worker uses it."""

    def __init__(self) -> None:
        self._key: tuple[str, LoadOptions] | None = None
        self._model: LoadedModel | None = None
        # CLIP is held beside the pipeline: ViT-L/14 is about 0.9 GB in fp16.
        self._clip_key: tuple[str, str] | None = None
        self._clip: LoadedClip | None = None
        # PickScore (CLIP-H, about 2 GB in fp16) only once a job asks for it.
        self._pickscore_key: tuple[PickScoreSource, str] | None = None
        self._pickscore: LoadedClip | None = None

    def pipeline(self, ref: str, options: LoadOptions, on_progress: Progress) -> LoadedModel:
        """The loaded model for (ref, options), loading it (and freeing the old one) if needed."""
        key = (ref, options)
        if self._model is not None and self._key == key:
            return self._model
        from genai_tui.engine.models import load_model

        self.release()
        self._model = load_model(ref, options, on_progress)
        self._key = key
        return self._model

    def clip(self, ref: str, device: str, on_progress: Progress) -> LoadedClip:
        """The CLIP model for (ref, device), loading it (and dropping the old one) if needed."""
        key = (ref, device)
        if self._clip is not None and self._clip_key == key:
            return self._clip
        from genai_tui.engine.clip import load_clip

        self._clip = None
        self._clip_key = None
        self._clip = load_clip(ref, device, on_progress)
        self._clip_key = key
        return self._clip

    def pickscore(self, source: PickScoreSource, device: str, on_progress: Progress) -> LoadedClip:
        """The PickScore model of `source` on `device`, loading it if needed."""
        key = (source, device)
        if self._pickscore is not None and self._pickscore_key == key:
            return self._pickscore
        from genai_tui.engine.scorers import load_pickscore

        self._pickscore = None
        self._pickscore_key = None
        self._pickscore = load_pickscore(source, device, on_progress)
        self._pickscore_key = key
        return self._pickscore

    @property
    def loaded_pickscore(self) -> LoadedClip | None:
        """The PickScore model in memory now, if any."""
        return self._pickscore

    def has_clip(self, ref: str, device: str) -> bool:
        """Whether CLIP `ref` is in memory on `device` (clip() would not load it)."""
        return self._clip is not None and self._clip_key == (ref, device)

    def has_pickscore(self, source: PickScoreSource, device: str) -> bool:
        """Whether PickScore of `source` is in memory on `device`."""
        return self._pickscore is not None and self._pickscore_key == (source, device)

    @property
    def loaded_clip(self) -> LoadedClip | None:
        """The CLIP model in memory now, if any."""
        return self._clip

    @property
    def loaded(self) -> LoadedModel | None:
        """The model in memory now, if any."""
        return self._model

    def release(self) -> None:
        """Drop every model and give their memory back."""
        self._model = None
        self._key = None
        self._clip = None
        self._clip_key = None
        self._pickscore = None
        self._pickscore_key = None
        self.free_memory()

    def free_memory(self) -> None:
        """Return cached GPU memory to the driver (after out-of-memory, or a model change)."""
        gc.collect()
        import sys

        torch = sys.modules.get("torch")  # never import torch just to free nothing
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()
