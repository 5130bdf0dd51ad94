"""How many tensors of our exported LoRA files other tools take, before and after issue 11.

On the tests' tiny pipeline and on an SD 1.5-shaped UNet (SD 1.5's blocks and layer names, tiny
widths, random weights), for each LoRA layer set:
- the diffusers file as plain `pipe.load_lora_weights(file)` loads it: tensors in the file and
  LoRA weights that end up in the UNet, for the old export (diffusers'
  convert_state_dict_to_diffusers before saving) and for ours;
- ComfyUI's and A1111's key mapping (modelled in tests/fixtures/webui_keys.py): keys left over.

    python bench/lora_export_keys.py
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import torch

    torch.set_num_threads(1)
    # peft warns when the old file leaves layers out; the counts below say it in numbers.
    warnings.simplefilter("ignore", RuntimeWarning)
    import diffusers
    import transformers
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils.state_dict_utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from safetensors import safe_open

    from genai_tui.engine.lora.export import diffusers_state_dict, webui_state_dict
    from genai_tui.engine.lora.params import LORA_LAYERS
    from genai_tui.engine.weights_file import save_weights
    from tests.fixtures.tiny_pipeline import make_tiny_pipeline
    from tests.fixtures.webui_keys import (
        a1111_left_over,
        comfyui_left_over,
        comfyui_left_over_diffusers_file,
    )

    for library in (diffusers, transformers):
        library.utils.logging.disable_progress_bar()
        library.utils.logging.set_verbosity_error()
    scratch = Path(tempfile.mkdtemp())
    tiny = make_tiny_pipeline(scratch / "tiny")

    def sd15_shaped() -> UNet2DConditionModel:
        return UNet2DConditionModel(
            sample_size=8,
            block_out_channels=(8, 8, 8, 8),
            norm_num_groups=4,
            cross_attention_dim=32,  # the tiny text encoder's width
            attention_head_dim=2,
        )

    def pipeline(shape: str) -> StableDiffusionPipeline:
        pipe = StableDiffusionPipeline.from_pretrained(tiny, safety_checker=None)
        if shape == "sd15-shaped":
            pipe.unet = sd15_shaped()
        return pipe

    def loaded_by_diffusers(shape: str, path: Path) -> int:
        pipe = pipeline(shape)
        pipe.load_lora_weights(str(path))
        return sum(1 for name, _ in pipe.unet.named_parameters() if ".lora_" in name)

    for shape in ("tiny", "sd15-shaped"):
        for layers, modules in LORA_LAYERS.items():
            unet = pipeline(shape).unet
            unet.add_adapter(
                LoraConfig(
                    r=4, lora_alpha=2, init_lora_weights="gaussian", target_modules=list(modules)
                )
            )
            adapter = {k: v.detach().clone() for k, v in get_peft_model_state_dict(unet).items()}
            config = unet.peft_config["default"].to_dict()
            tensors, metadata = diffusers_state_dict(adapter, config)
            old = {
                f"unet.{k}": v for k, v in convert_state_dict_to_diffusers(dict(adapter)).items()
            }
            row = []
            for label, content in (("old", old), ("new", tensors)):
                path = save_weights(
                    content, scratch / f"{shape}-{layers}-{label}.safetensors", metadata
                )
                with safe_open(path, "pt") as handle:
                    in_file = set(handle.keys())
                row.append(
                    f"{label}: diffusers loads {loaded_by_diffusers(shape, path)}/{len(in_file)}"
                    + (
                        f", ComfyUI ignores {len(comfyui_left_over_diffusers_file(in_file))}"
                        if shape == "sd15-shaped"
                        else ""
                    )
                )
            line = f"{shape:12} {layers:12} diffusers file  " + "; ".join(row)
            if shape == "sd15-shaped":
                webui = set(webui_state_dict(adapter, 2.0))
                line += (
                    f"\n{'':25} webui file {len(webui)} keys: ComfyUI leaves "
                    f"{len(comfyui_left_over(webui))}, A1111 leaves {len(a1111_left_over(webui))}"
                )
            print(line)


if __name__ == "__main__":
    main()
