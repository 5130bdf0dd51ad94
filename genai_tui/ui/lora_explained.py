"""What a LoRA run trains, in words and numbers: the training screen's explanation, before a run
and once it has started (the course's point: how few parameters LoRA trains)."""

from __future__ import annotations

from genai_tui import words
from genai_tui.engine.lora.params import TARGET_MODULES, TrainParams
from genai_tui.jobs.events import TrainingStarted

IDLE_EXPLANATION = (
    "LoRA keeps every weight of the model frozen and trains two small matrices beside each "
    f"chosen layer (attention: {', '.join(TARGET_MODULES)}; transformer: those and the blocks' "
    "other projections): W x becomes W x + B A x, B d×r and A r×k. How many parameters that is "
    "shows here when the run starts."
)


def explain(event: TrainingStarted, params: TrainParams | None) -> str:
    """What this run trains, in numbers."""
    share = event.trainable_share * 100
    lines = [
        f"training {words.count(event.trainable_params)} of {words.count(event.unet_params)} UNet "
        f"parameters ({share:.2f} %)"
    ]
    if params is not None:
        lines.append(
            f"rank {params.rank}, alpha {params.alpha:g} (scale {params.scale:g}) on "
            f"{', '.join(params.target_modules)} ({params.lora_layers} layers); every other "
            "weight is frozen"
        )
    processes = f" × {event.processes} processes" if event.processes > 1 else ""
    lines.append(
        f"{event.images} images at {event.resolution} px on {event.device}{processes}; "
        f"steps {event.start_step + 1}-{event.total_steps}"
    )
    return "\n".join(lines)
