"""Load a CLIP model and score images against texts with it: CLIPScore, batched.

The score is torchmetrics' CLIPScore computed per image: `max(100 * cos(image, text), 0)` of the
projected embeddings. torchmetrics itself is not used: version 1.9 breaks on the output objects
transformers 5 returns. Weights load with `use_safetensors=True` only; hub models come through
the hub cache and respect `HF_HUB_OFFLINE`, exactly like the diffusion pipeline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from genai_tui.engine.clip_refs import resolve_clip
from genai_tui.engine.errors import Cancelled, ModelError
from genai_tui.engine.load_lock import loading
from genai_tui.engine.models import (
    LoadProgress,
    dtype_name,
    fetch_hub_model,
    pick_device,
    pick_dtype,
)
from genai_tui.engine.tokens import cut_notice, text_overflow

DEFAULT_BATCH_SIZE = 16
"""Images embedded per forward pass; ViT-L/14 in fp16 needs well under 1 GB for 16."""

# A CLIP repository's own files at its top level; no pickles, TensorFlow or Flax weights.
_HUB_ALLOW = ["*.json", "*.txt", "*.safetensors"]
_HUB_IGNORE = ["*/*", "*.fp16.*"]

BatchProgress = Callable[[int, int], None]
"""Called with (images scored, images in all) after each batch."""


@dataclass
class LoadedClip:
    """A CLIP model and its processor on a device, ready to score."""

    ref: str
    name: str
    model: Any
    processor: Any
    device: str
    dtype: str
    max_length: int
    """Tokens a text may have, start and end tokens included (77 for every OpenAI CLIP)."""
    load_seconds: float


@dataclass(frozen=True)
class ClipScores:
    """One score per image, in order, and what the user should know (texts that were cut)."""

    scores: list[float]
    warnings: list[str]


def load_clip(
    ref: str, device: str = "auto", on_progress: LoadProgress | None = None
) -> LoadedClip:
    """Resolve, fetch if needed, and load the CLIP model `ref` (demo, hub id or folder).

    `device` is chosen as for the pipeline (`engine.models.pick_device`); fp16 on CUDA, fp32
    elsewhere. A missing or unloadable model raises ModelError with a hint.
    """
    started = time.perf_counter()
    report = on_progress or (lambda _what, _done, _total: None)
    source = resolve_clip(ref)
    _quiet_transformers()
    if source.kind == "hub":
        local = fetch_hub_model(
            source.location, report, allow_patterns=_HUB_ALLOW, ignore_patterns=_HUB_IGNORE
        )
    else:
        local = Path(source.location)
    name = source.location if source.kind == "hub" else ref if source.kind == "demo" else local.name
    report(f"loading CLIP {name}", None, None)
    return load_clip_folders(
        ref,
        name,
        local,
        local,
        device,
        what=f"CLIP {ref}",
        hint="a CLIP folder needs config.json, model.safetensors and the processor's files",
        started=started,
    )


def load_clip_folders(
    ref: str,
    name: str,
    model_dir: Path,
    processor_dir: Path,
    device: str = "auto",
    *,
    what: str,
    hint: str,
    started: float | None = None,
) -> LoadedClip:
    """Load a CLIPModel from `model_dir` and its processor from `processor_dir`, both local.

    Nothing is downloaded (local_files_only) and only safetensors weights are read. Used for
    the CLIP scorer and for PickScore (a CLIP-H whose processor lives in another repository).
    """
    started = time.perf_counter() if started is None else started
    device = pick_device(device)
    dtype = pick_dtype(device)
    _quiet_transformers()
    import transformers

    try:
        with loading:
            model: Any = transformers.CLIPModel.from_pretrained(
                model_dir, dtype=dtype, use_safetensors=True, local_files_only=True
            )
            processor = transformers.CLIPProcessor.from_pretrained(
                processor_dir, local_files_only=True
            )
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not load {what}: {exc}".splitlines()[0], hint=hint) from exc
    model.to(device).eval()
    tokenizer_limit = int(getattr(processor.tokenizer, "model_max_length", 0) or 0)
    positions = int(model.config.text_config.max_position_embeddings)
    # A tokenizer saved without model_max_length reports a huge number: the model decides.
    max_length = min(tokenizer_limit, positions) if tokenizer_limit > 0 else positions
    return LoadedClip(
        ref=ref,
        name=name,
        model=model,
        processor=processor,
        device=device,
        dtype=dtype_name(dtype),
        max_length=max_length,
        load_seconds=time.perf_counter() - started,
    )


def _quiet_transformers() -> None:
    import transformers

    # Progress goes to our events; tqdm would draw over the TUI.
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]


def score_images(
    clip: LoadedClip,
    images: Sequence[Image.Image],
    texts: str | Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: BatchProgress | None = None,
    cancel: threading.Event | None = None,
) -> ClipScores:
    """CLIP score of each image against its text (one text for all, or one per image).

    Texts longer than the model's token limit are truncated, and each cut is reported in
    `warnings`. Raises Cancelled if `cancel` is set between two batches.
    """
    return scaled_cosines(
        clip,
        images,
        texts,
        lambda cosine: (100 * cosine).clamp(min=0),
        batch_size=batch_size,
        on_batch=on_batch,
        cancel=cancel,
    )


def scaled_cosines(
    clip: LoadedClip,
    images: Sequence[Image.Image],
    texts: str | Sequence[str],
    scale: Callable[[torch.Tensor], torch.Tensor],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: BatchProgress | None = None,
    cancel: threading.Event | None = None,
) -> ClipScores:
    """`scale(cosine)` of each image's and its text's projected embeddings, batched.

    CLIP score and PickScore differ only in `scale`; see score_images for the rest.
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1 (got {batch_size})")
    per_image = [texts] * len(images) if isinstance(texts, str) else list(texts)
    if len(per_image) != len(images):
        raise ValueError(f"{len(images)} images but {len(per_image)} texts")
    if not images:
        return ClipScores([], [])
    # Each distinct text is embedded once: a batch of one prompt costs one text pass.
    distinct = list(dict.fromkeys(per_image))
    tokenizer = clip.processor.tokenizer
    warnings = [
        cut_notice("the scored text", clip.max_length, dropped)
        for text in distinct
        if (dropped := text_overflow(tokenizer, text, clip.max_length))
    ]
    text_rows = embed_texts(clip, distinct, batch_size=batch_size)
    row_of = {text: i for i, text in enumerate(distinct)}
    scores: list[float] = []
    for start in range(0, len(images), batch_size):
        if cancel is not None and cancel.is_set():
            raise Cancelled("scoring cancelled")
        chunk = images[start : start + batch_size]
        image_rows = embed_images(clip, chunk)
        rows = torch.tensor([row_of[t] for t in per_image[start : start + len(chunk)]])
        cosine = (image_rows * text_rows[rows]).sum(dim=-1)
        scores += scale(cosine).tolist()
        if on_batch is not None:
            on_batch(len(scores), len(images))
    return ClipScores(scores, warnings)


def embed_texts(clip: LoadedClip, texts: Sequence[str], *, batch_size: int) -> torch.Tensor:
    """Unit-length projected text embeddings (float32 on the CPU), texts cut at the limit."""
    rows = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            tokens = clip.processor.tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=clip.max_length,
                return_tensors="pt",
            ).to(clip.device)
            features = clip.model.get_text_features(
                input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
            ).pooler_output
            rows.append(_unit(features))
    return torch.cat(rows)


def embed_images(clip: LoadedClip, images: Sequence[Image.Image]) -> torch.Tensor:
    """Unit-length projected image embeddings (float32 on the CPU) of one batch."""
    pixels = clip.processor.image_processor(
        images=[image.convert("RGB") for image in images], return_tensors="pt"
    )["pixel_values"]
    dtype = next(clip.model.parameters()).dtype
    with torch.inference_mode():
        features = clip.model.get_image_features(
            pixel_values=pixels.to(clip.device, dtype)
        ).pooler_output
    return _unit(features)


def _unit(features: torch.Tensor) -> torch.Tensor:
    # Normalise in float32: fp16 norms of 768-wide vectors lose digits the ranking may need.
    return torch.nn.functional.normalize(features.float().cpu(), dim=-1)
