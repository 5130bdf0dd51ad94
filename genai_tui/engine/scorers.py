"""Scorers that rank images against their prompts: CLIP score and PickScore. Imports no torch.

A scorer has a name (what records, jobs and options say: "clip", "pickscore"), a label users
read, one line on what its number means, and `score(images, prompts) -> list[float]`. The two:

- **clip**: engine.clip's CLIP score, `max(100 * cos, 0)` (unchanged; it is the image record's
  `clip_score`, with `clip_model`, as it always was).
- **pickscore**: PickScore v1 (`yuvalkirstain/PickScore_v1`, a CLIP-H fine-tuned on Pick-a-Pic
  human preferences) with the processor of `laion/CLIP-ViT-H-14-laion2B-s32B-b79K` (PickScore_v1
  ships a copy; the laion repository's is used where the model folder has none), scored as its
  README does: `logit_scale.exp() * cos(image_embeds, text_embeds)` of the projected
  embeddings (about 20 for a good image; higher is preferred). It is stored in the record's
  `scores["pickscore"]`. It is loaded offline only (local_files_only: from `--pickscore PATH`,
  or the Hugging Face hub cache; never downloaded, it is 3.9 GB) and from safetensors only,
  each file's header checked first (engine/safetensors_check.py); a folder with only
  pytorch_model.bin is refused. Where it is not on the machine: one ModelError with the
  `hf download` lines to fetch it.

The demo model: the demo world has no preference model, and a real PickScore knows nothing of
its 32-pixel shapes. Asked to rank demo images by PickScore (and given no PickScore folder),
the demo CLIP ranks instead and the job says so once (STAND_IN). Honesty first: nothing is
stored as "pickscore" then; the images get their CLIP score only, and whatever records the
ranking (a sweep's grid layout, best-of) says it was ranked by "clip".
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from genai_tui.engine.errors import BadInput, ModelError
from genai_tui.engine.safetensors_check import check_safetensors
from genai_tui.engine.sources import DEMO, is_demo

if TYPE_CHECKING:
    from PIL import Image

    from genai_tui.engine.clip import LoadedClip
    from genai_tui.engine.models import LoadProgress

ScorerName = Literal["clip", "pickscore"]
SCORER_NAMES: tuple[ScorerName, ...] = ("clip", "pickscore")


@dataclass(frozen=True)
class ScorerInfo:
    """What users read about a scorer."""

    name: ScorerName
    label: str
    meaning: str
    """One line: what a higher number says about an image."""


SCORERS: dict[ScorerName, ScorerInfo] = {
    "clip": ScorerInfo(
        "clip",
        "CLIP score",
        "how well the image matches its text (100 × CLIP's cosine similarity; ~35 is good)",
    ),
    "pickscore": ScorerInfo(
        "pickscore",
        "PickScore",
        "how much people would prefer the image for its prompt (PickScore v1; ~20 is good)",
    ),
}
"""The registry: every scorer a job, an option or the gallery can name."""


def label_of(name: str) -> str:
    """The label users read for scorer `name` (the name itself for one this version lacks)."""
    return next((info.label for info in SCORERS.values() if info.name == name), name)


PICKSCORE_REPO = "yuvalkirstain/PickScore_v1"
PICKSCORE_PROCESSOR_REPO = "laion/CLIP-ViT-H-14-laion2B-s32B-b79K"
PICKSCORE_HELP = (
    "PickScore v1 is CLIP-H fine-tuned on Pick-a-Pic, people's choices between two images of "
    "one prompt; its paper reports it agrees with users 70.2 % of the time, where people agree "
    "with each other 68.0 %. PickScore = logit_scale.exp() × the cosine of its image and text "
    "embeddings (about 20 for a good image). Higher means people would more likely prefer it: "
    "beauty and prompt agreement together, where the CLIP score measures agreement only. "
    "Compare it between images of the same prompt."
)
"""Shown by the help screen and --help."""

STAND_IN = (
    "the demo CLIP stands in for PickScore (the demo world has no preference model): "
    "ranked by CLIP score"
)
"""What a job asked for PickScore on the demo model says, once."""

_FETCH = (
    f"on a machine with internet: `hf download {PICKSCORE_REPO} --include '*.safetensors' "
    f"'*.json'` and `hf download {PICKSCORE_PROCESSOR_REPO} --include '*.json' '*.txt'`, "
    "or give --pickscore PATH"
)
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_PICKLES = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl")
_PROCESSOR_CONFIGS = ("preprocessor_config.json", "processor_config.json")


class Scorer(Protocol):
    """A loaded scorer: one number per image against its prompt, higher is better."""

    @property
    def info(self) -> ScorerInfo: ...

    @property
    def model(self) -> str:
        """The model reference that scores (kept with a CLIP score as `clip_model`)."""
        ...

    def score(
        self,
        images: Sequence[Image.Image],
        prompts: str | Sequence[str],
        *,
        batch_size: int = 16,
        cancel: threading.Event | None = None,
    ) -> list[float]: ...

    def cut_texts(self, prompts: str | Sequence[str]) -> list[str]:
        """A notice for each distinct prompt longer than the scorer reads (it is cut)."""
        ...


@dataclass(frozen=True)
class _ClipShaped:
    """What both scorers share: a CLIP-shaped model, its reference and its token limit."""

    clip: LoadedClip

    @property
    def model(self) -> str:
        return self.clip.ref

    def cut_texts(self, prompts: str | Sequence[str]) -> list[str]:
        return _cut_texts(self.clip, prompts)


@dataclass(frozen=True)
class ClipScorer(_ClipShaped):
    """The CLIP score of engine.clip."""

    info: ScorerInfo = SCORERS["clip"]

    def score(
        self,
        images: Sequence[Image.Image],
        prompts: str | Sequence[str],
        *,
        batch_size: int = 16,
        cancel: threading.Event | None = None,
    ) -> list[float]:
        from genai_tui.engine.clip import score_images

        return score_images(self.clip, images, prompts, batch_size=batch_size, cancel=cancel).scores


@dataclass(frozen=True)
class PickScorer(_ClipShaped):
    """PickScore: logit_scale.exp() * cosine of a PickScore CLIP's projected embeddings."""

    info: ScorerInfo = SCORERS["pickscore"]

    def score(
        self,
        images: Sequence[Image.Image],
        prompts: str | Sequence[str],
        *,
        batch_size: int = 16,
        cancel: threading.Event | None = None,
    ) -> list[float]:
        from genai_tui.engine.clip import scaled_cosines

        # Its README: scores = model.logit_scale.exp() * (text_embs @ image_embs.T)
        scale = float(self.clip.model.logit_scale.detach().float().exp().item())
        return scaled_cosines(
            self.clip, images, prompts, lambda c: scale * c, batch_size=batch_size, cancel=cancel
        ).scores


def _cut_texts(clip: LoadedClip, prompts: str | Sequence[str]) -> list[str]:
    from genai_tui.engine.tokens import cut_notice, text_overflow

    texts = [prompts] if isinstance(prompts, str) else list(dict.fromkeys(prompts))
    tokenizer = clip.processor.tokenizer
    return [
        cut_notice("the scored text", clip.max_length, dropped)
        for text in texts
        if (dropped := text_overflow(tokenizer, text, clip.max_length))
    ]


def stands_in(rank: str, model_ref: str | None, pickscore: str | None) -> bool:
    """Whether the demo CLIP ranks in PickScore's place (see the module's words)."""
    return rank == "pickscore" and is_demo(model_ref) and pickscore is None


def images_model(models: Sequence[str | None]) -> str | None:
    """The model to apply the stand-in rule to for images made by `models`: demo when all of
    them are the demo's (none: not demo), else None (a real model: PickScore scores)."""
    return DEMO if models and all(is_demo(m) for m in models) else None


def ranked_by(rank: str, model_ref: str | None, pickscore: str | None) -> ScorerName:
    """The scorer that really ranks when `rank` is asked for on `model_ref`."""
    if rank not in SCORERS:
        names = ", ".join(SCORER_NAMES)
        raise BadInput(f"unknown scorer {rank!r}", hint=f"use one of: {names}")
    return "clip" if stands_in(rank, model_ref, pickscore) else rank


@dataclass(frozen=True)
class PickScoreSource:
    """Where a PickScore model and its processor are, both local folders, weights checked."""

    name: str
    model: Path
    processor: Path


def resolve_pickscore(model: str | None = None, processor: str | None = None) -> PickScoreSource:
    """The PickScore to load: `model` (a folder or a cached hub id; None: PickScore_v1 from the
    hub cache) and `processor` (likewise; None: the model folder's own, else the laion CLIP-H
    processor from the cache). Reads only the filesystem; ModelError saying how to get it.
    """
    model_dir = _folder(model or PICKSCORE_REPO, "PickScore model", "config.json")
    _check_weights(model_dir)
    if processor is not None:
        processor_dir = _folder(processor, "PickScore processor", "tokenizer_config.json")
    elif _has_processor(model_dir):
        processor_dir = model_dir  # PickScore_v1 ships a copy of the laion processor
    else:
        cached = (_cached(PICKSCORE_PROCESSOR_REPO, name) for name in _PROCESSOR_CONFIGS)
        processor_dir = next((found for found in cached if found is not None), model_dir)
    if not _has_processor(processor_dir):
        raise ModelError(
            f"no CLIP processor for PickScore in {processor_dir} (preprocessor_config.json and "
            "the tokenizer's files)",
            hint=_FETCH.replace("--pickscore PATH", "--pickscore-processor PATH"),
        )
    name = PICKSCORE_REPO if model is None else model_dir.name
    return PickScoreSource(name, model_dir, processor_dir)


def load_pickscore(
    source: PickScoreSource, device: str = "auto", on_progress: LoadProgress | None = None
) -> LoadedClip:
    """Load PickScore's CLIP on `device` from the local folders of `source`."""
    from genai_tui.engine.clip import load_clip_folders

    if on_progress is not None:
        on_progress(f"loading PickScore {source.name}", None, None)
    return load_clip_folders(
        source.name,
        source.name,
        source.model,
        source.processor,
        device,
        what=f"PickScore {source.name}",
        hint=_FETCH,
    )


def _folder(ref: str, what: str, marker: str) -> Path:
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / marker).is_file():
            raise ModelError(f"{path} is a folder but not a {what} (no {marker})", hint=_FETCH)
        return path.resolve()
    if _REPO_ID.match(ref) and not path.exists() and not ref.startswith((".", "~", "/")):
        cached = _cached(ref, marker)
        if cached is not None:
            return cached
        raise ModelError(f"{what} {ref} is not on this machine (never downloaded)", hint=_FETCH)
    raise ModelError(f"{what} not found: {ref}", hint=_FETCH)


def _cached(repo: str, filename: str) -> Path | None:
    """The snapshot folder of `repo` in the hub cache if it holds `filename`; never downloads."""
    from huggingface_hub import try_to_load_from_cache

    # Read now, not at import: the hub library fixes its cache folder when first imported.
    cache = os.environ.get("HF_HUB_CACHE") or None
    try:
        found = try_to_load_from_cache(repo, filename, cache_dir=cache)
    except (OSError, ValueError):  # a name the hub refuses (HFValidationError), an odd cache
        return None
    return Path(found).parent if isinstance(found, str) else None


def _check_weights(folder: Path) -> None:
    """Every safetensors file transformers would read is well formed; pickles are refused."""
    single = folder / "model.safetensors"
    index = folder / "model.safetensors.index.json"
    if single.exists():
        check_safetensors(single, "PickScore model")
        return
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(f"{index} is not a safetensors index", hint=_FETCH) from exc
        for shard in shards:
            check_safetensors(folder / str(shard), "PickScore model")
        return
    pickles = sorted(p.name for pattern in _PICKLES for p in folder.glob(pattern))
    if pickles:
        raise ModelError(
            f"{folder} holds PickScore only as {pickles[0]}, a pickle: refused (only "
            "safetensors weights are loaded)",
            hint=f"`hf download {PICKSCORE_REPO} --include '*.safetensors' '*.json'` gets "
            "model.safetensors",
        )
    raise ModelError(f"{folder} has no model.safetensors for PickScore", hint=_FETCH)


def _has_processor(folder: Path) -> bool:
    tokenizer = (folder / "tokenizer.json").is_file() or all(
        (folder / name).is_file() for name in ("vocab.json", "merges.txt")
    )
    # transformers 5 saves the image settings in processor_config.json, 4 in preprocessor_...
    images = any((folder / name).is_file() for name in _PROCESSOR_CONFIGS)
    return images and tokenizer
