"""Starting settings for a training run, by base model. Imports no torch.

A trainer's generic defaults (rank 4, learning rate 1e-4, 500 steps of one image) suit SD 1.5 on
a GPU; on the tiny demo model they would teach nothing in the minutes a CPU run should take. The
demo recipe below is the one `bench/lora_train.py concept` measures: the demo CLIP reads the star
in most trigger-word images made at LoRA weight 0.8 after about a minute on 2 CPU cores.
"""

from __future__ import annotations

from genai_tui.engine.lora.params import TrainParams
from genai_tui.engine.sources import is_demo

DEMO_RECIPE = TrainParams(
    rank=16,
    alpha=16.0,
    # The demo UNet is 4 M parameters: its attention layers alone learn a new shape only partly.
    lora_layers="transformer",
    learning_rate=1e-3,
    steps=600,
    batch_size=4,
    # Min-SNR weighting puts the loss where the shape forms (the noisy steps), as the demo UNet
    # itself was trained.
    snr_gamma=5.0,
    validation_every=100,
    # Checkpoints to compare on fixed seeds afterwards (f6 on the training screen, or a sweep's
    # checkpoint axis); with none but the last there is nothing to compare.
    checkpoint_every=200,
    validation_prompts=(
        "a red zst star on a white background",
        "a blue zst star on a black background",
    ),
    validation_seeds=(0,),
)
"""The demo model's recipe for assets/sample-images (trigger word `zst`)."""


def recommended_params(model_ref: str | None) -> TrainParams:
    """The settings a new run on `model_ref` starts from: the demo recipe, or the defaults."""
    if is_demo(model_ref):
        return DEMO_RECIPE
    return TrainParams()


def recipe_note(model_ref: str | None) -> str:
    """One line saying where the form's starting values come from."""
    if is_demo(model_ref):
        return (
            "Starting values: the demo model's recipe for assets/sample-images (about a minute "
            "on 2 CPU cores); try prompts with its trigger word, zst."
        )
    return "Starting values: the diffusers LoRA example's defaults, for SD 1.5 on a GPU."
