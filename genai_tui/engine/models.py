"""Load a Stable Diffusion pipeline from any model reference, on the best device there is.

Weights load with `use_safetensors=True` only. The hub is used through its cache and respects
`HF_HUB_OFFLINE`; a model missing offline becomes one ModelError naming it and how to fetch it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from genai_tui.engine.errors import BadInput, ModelError
from genai_tui.engine.hashing import short_hash
from genai_tui.engine.load_lock import loading
from genai_tui.engine.params import LoadOptions
from genai_tui.engine.preview import SD15_LATENT_RGB, LatentRGB
from genai_tui.engine.previewer import PreviewState
from genai_tui.engine.sources import DEMO, SD15_REPO, ModelSource, resolve_source

LoadProgress = Callable[[str, int | None, int | None], None]
"""Called with (what is happening, done, total) while a model is fetched and loaded."""

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}

# Only what the pipeline loads: no pickles, no duplicate full checkpoints at the top level,
# no safety checker (we load none, as AUTOMATIC1111 does).
_HUB_ALLOW = ["model_index.json", "*/*.json", "*/*.txt", "*/*.safetensors"]
_HUB_IGNORE = ["safety_checker/*", "feature_extractor/*", "*.fp16.*", "*non_ema*", "*.ema.*"]


@dataclass
class LoadedModel:
    """A pipeline ready to generate, with what the records need to know about it."""

    source: ModelSource
    pipe: Any
    device: str
    dtype: str
    model_hash: str
    latent_rgb: LatentRGB
    original_scheduler_config: Any
    load_seconds: float
    previews: PreviewState = field(default_factory=PreviewState)
    """What previews learnt about this model (decode cost, TAESD), kept between generations."""

    @property
    def native_size(self) -> int:
        """The side the UNet was trained at, in pixels (512 for SD 1.5)."""
        return int(self.pipe.unet.config.sample_size * self.pipe.vae_scale_factor)


def has_cuda() -> bool:
    """Whether a CUDA device is usable."""
    return bool(torch.cuda.is_available())


def default_model_ref() -> str:
    """SD 1.5 where CUDA is found, the embedded demo model elsewhere."""
    return SD15_REPO if has_cuda() else DEMO


def pick_device(preference: str = "auto") -> str:
    """cuda, then mps, then cpu; a named device that is not there is a ModelError."""
    mps = getattr(torch.backends, "mps", None)
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(mps and mps.is_available()),
        "cpu": True,
    }
    if preference == "auto":
        return next(name for name, ok in available.items() if ok)
    kind, _, index = preference.partition(":")
    if kind not in available or (index and (kind != "cuda" or not index.isdigit())):
        raise BadInput(
            f"unknown device {preference!r}",
            hint="use auto, cuda, cuda:N (several GPUs), mps or cpu",
        )
    if not available[kind] or (index and int(index) >= torch.cuda.device_count()):
        raise ModelError(f"device {preference} is not available on this machine")
    return preference


def pick_dtype(device: str, preference: str = "auto") -> torch.dtype:
    """fp16 on CUDA, fp32 elsewhere; half precision on the CPU is refused (slow or broken)."""
    if preference == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    if preference not in DTYPES:
        raise BadInput(f"unknown precision {preference!r}", hint="use auto, fp16, bf16 or fp32")
    if device == "cpu" and preference != "fp32":
        raise BadInput(f"{preference} needs a GPU; on the CPU use fp32")
    return DTYPES[preference]


def dtype_name(dtype: torch.dtype) -> str:
    """fp16, bf16 or fp32, as the records show it."""
    return next((name for name, value in DTYPES.items() if value == dtype), str(dtype))


def fetch_hub_model(
    repo_id: str,
    on_progress: LoadProgress | None = None,
    *,
    allow_patterns: list[str] | None = None,
    ignore_patterns: list[str] | None = None,
) -> Path:
    """The local snapshot of a hub model: from the cache, or downloaded unless offline.

    The patterns default to a diffusers pipeline's files; other models (CLIP) pass their own.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    tqdm_class = _progress_tqdm(on_progress) if on_progress else None
    try:
        folder = snapshot_download(
            repo_id,
            allow_patterns=_HUB_ALLOW if allow_patterns is None else allow_patterns,
            ignore_patterns=_HUB_IGNORE if ignore_patterns is None else ignore_patterns,
            tqdm_class=tqdm_class,
        )
    except GatedRepoError as exc:
        raise ModelError(
            f"{repo_id} is gated on the Hugging Face hub",
            hint="accept its licence on the hub, then `hf auth login` on this machine",
        ) from exc
    except RepositoryNotFoundError as exc:
        raise ModelError(f"no model {repo_id} on the Hugging Face hub") from exc
    except (OSError, HfHubHTTPError) as exc:
        # LocalEntryNotFoundError (offline or unreachable, nothing cached) is an OSError.
        raise ModelError(
            f"model {repo_id} is not in the local cache and could not be downloaded",
            hint=f"on a machine with internet run `hf download {repo_id}`, or unset HF_HUB_OFFLINE",
        ) from exc
    return Path(str(folder))


def load_model(
    ref: str, options: LoadOptions | None = None, on_progress: LoadProgress | None = None
) -> LoadedModel:
    """Resolve, fetch if needed, and load `ref` as a StableDiffusionPipeline."""
    options = options or LoadOptions()
    started = time.perf_counter()
    report = on_progress or (lambda _what, _done, _total: None)
    device = pick_device(options.device)
    dtype = pick_dtype(device, options.dtype)
    if options.cpu_offload and device != "cuda":
        raise BadInput("model CPU offload needs a CUDA GPU")
    source = resolve_source(ref)

    import diffusers
    import transformers

    for library in (diffusers, transformers):
        library.utils.logging.disable_progress_bar()
        library.utils.logging.set_verbosity_error()
    local = fetch_hub_model(source.location, report) if source.kind == "hub" else source.path
    report(f"loading {source.name}", None, None)
    try:
        with loading:
            if source.kind == "single_file":
                pipe = _load_single_file(local, options, dtype)
            else:
                pipe = diffusers.StableDiffusionPipeline.from_pretrained(  # type: ignore[no-untyped-call]
                    local,
                    dtype=dtype,
                    use_safetensors=True,
                    local_files_only=True,
                    safety_checker=None,
                    requires_safety_checker=False,
                )
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not load {source.name}: {exc}".splitlines()[0]) from exc
    pipe.set_progress_bar_config(disable=True)
    _bridge_clip_skip(pipe.text_encoder)
    report(f"moving {source.name} to {device}", None, None)
    if options.cpu_offload:
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(device)
    if options.attention_slicing:
        pipe.enable_attention_slicing()
    if options.vae_tiling:
        pipe.vae.enable_tiling()
    report(f"hashing {source.name}", None, None)
    return LoadedModel(
        source=source,
        pipe=pipe,
        device=device,
        dtype=dtype_name(dtype),
        model_hash=_model_hash(source, Path(local)),
        latent_rgb=_latent_rgb(source, Path(local)),
        original_scheduler_config=pipe.scheduler.config,
        load_seconds=time.perf_counter() - started,
        previews=PreviewState(taesd_folder=options.taesd, vae_offloaded=options.cpu_offload),
    )


def _bridge_clip_skip(text_encoder: Any) -> None:
    """Let diffusers' clip-skip path find `text_model.final_layer_norm` on transformers 5.

    diffusers 0.42 reads `text_encoder.text_model.final_layer_norm`; transformers 5 flattened
    CLIPTextModel, so the layer norm sits on the model itself. A plain attribute (not a registered
    submodule, so no cycle in named_modules or state_dict) points back to the model.
    """
    if (
        text_encoder is not None
        and "text_model" not in dir(text_encoder)
        and hasattr(text_encoder, "final_layer_norm")
    ):
        object.__setattr__(text_encoder, "text_model", text_encoder)


def _load_single_file(path: Path, options: LoadOptions, dtype: torch.dtype) -> Any:
    import diffusers

    config = options.single_file_config
    if config is None:
        try:
            from huggingface_hub import snapshot_download

            config = snapshot_download(
                SD15_REPO, allow_patterns=["*.json", "*.txt"], local_files_only=True
            )
        except OSError as exc:
            raise ModelError(
                f"{path.name} needs a diffusers config to load offline",
                hint="pass --model-config with a diffusers folder of the same architecture, or "
                f"run `hf download {SD15_REPO} --include '*.json' '*.txt'`",
            ) from exc
    return diffusers.StableDiffusionPipeline.from_single_file(
        str(path),
        config=str(config),
        local_files_only=True,
        torch_dtype=dtype,
        safety_checker=None,
        requires_safety_checker=False,
    )


def _model_hash(source: ModelSource, local: Path) -> str:
    """sha256[:10] of the checkpoint file, or of the UNet weights of a diffusers folder."""
    if source.kind == "single_file":
        return short_hash(local)
    unet = local / "unet" / "diffusion_pytorch_model.safetensors"
    return short_hash(unet) if unet.is_file() else ""


def _latent_rgb(source: ModelSource, local: Path) -> LatentRGB:
    """The model's own preview map when it ships one (the demo model does), else SD 1.5's."""
    if source.kind != "single_file":
        custom = local / "latent_rgb.json"
        if custom.is_file():
            data = json.loads(custom.read_text(encoding="utf-8"))
            return LatentRGB(factors=data["factors"], bias=data.get("bias", [0.0, 0.0, 0.0]))
    return SD15_LATENT_RGB


def _progress_tqdm(on_progress: LoadProgress) -> type:
    """A tqdm class whose updates become load-progress calls instead of terminal output."""
    from tqdm.auto import tqdm

    class ForwardingTqdm(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = False
            kwargs["file"] = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the bar
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            result: bool | None = super().update(n)
            on_progress(f"downloading {self.desc or ''}".strip(), int(self.n), self.total)
            return result

        def close(self) -> None:
            file = self.fp
            super().close()
            file.close()

    return ForwardingTqdm
