"""Every key of our webui LoRA file is taken by ComfyUI and A1111, on an SD 1.5-shaped UNet.

Their key mapping is modelled in tests/fixtures/webui_keys.py (our code, from reading theirs);
the UNet has SD 1.5's blocks and layer names with tiny widths, random weights.
"""

from __future__ import annotations

import pytest
import torch

from genai_tui.engine.lora.export import webui_state_dict
from genai_tui.engine.lora.params import LORA_LAYERS
from tests.fixtures.webui_keys import a1111_left_over, comfyui_left_over, diffusers_to_ldm


def sd15_shaped_lora_keys(layers: str) -> set[str]:
    from diffusers import UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=8,
        block_out_channels=(8, 8, 8, 8),
        norm_num_groups=4,
        cross_attention_dim=8,
        attention_head_dim=2,
    )
    unet.add_adapter(LoraConfig(r=2, lora_alpha=1, target_modules=list(LORA_LAYERS[layers])))
    return set(webui_state_dict(get_peft_model_state_dict(unet), 1.0))


def test_the_model_of_their_mapping_knows_sd15s_attention_layers() -> None:
    names = diffusers_to_ldm()
    assert names["down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k"] == (
        "input_blocks.2.1.transformer_blocks.0.attn2.to_k"
    )
    assert names["up_blocks.3.attentions.2.proj_out"] == "output_blocks.11.1.proj_out"
    assert not any(
        name.startswith(("down_blocks.3.attentions", "up_blocks.0.attentions")) for name in names
    )
    stray = {"lora_unet_down_blocks_3_attentions_0_proj_in.lora_up.weight"}  # no such layer
    assert comfyui_left_over(stray) == stray and a1111_left_over(stray) == stray


@pytest.mark.parametrize("layers", list(LORA_LAYERS))
def test_comfyui_and_a1111_take_every_key_of_the_webui_file(layers: str) -> None:
    keys = sd15_shaped_lora_keys(layers)
    layer_count = {"attention": 16 * 8, "transformer": 16 * 12}[layers]
    assert len(keys) == 3 * layer_count  # lora_down, lora_up, alpha per layer
    assert comfyui_left_over(keys) == set()
    assert a1111_left_over(keys) == set()
