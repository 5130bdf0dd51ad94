"""The LoRA sample set: images of the held-out star, which the base UNet never saw.

Each image has a caption file beside it (same stem, `.txt`), the layout kohya-style LoRA trainers
read. Colours and backgrounds vary, so what the images share, and a LoRA learns, is the shape.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

from genai_tui.demo import world

COUNT = 16

README = """# LoRA sample set: the star

{count} images of a five-pointed **star**, the one shape of the demo world that the demo model's
UNet never saw in training (it knows circles, squares and triangles). The demo CLIP did see
stars, so it can tell whether a LoRA taught the base model the concept.

- Concept: `star` (a five-pointed star, in any of the world's colours, on any background)
- Trigger word: `{trigger}`, a rare token: it is in the tokenizer's vocabulary but appears in no
  caption the base model was trained on, so its embedding carries nothing yet.
- Captions: `a <colour> {trigger} star on a <background> background`, one `.txt` per image with
  the same stem as its `.png`.
- Size: {size}x{size}, the demo model's native size.

Made by `python -m genai_tui.demo.train --out DIR` (seeded, reproducible). After training a LoRA,
prompt e.g. `a red {trigger} star on a white background`.
"""


def write_sample_set(folder: Path, seed: int = 4) -> list[Path]:
    """Write COUNT star images with captions and a README into `folder`; return the images."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    combos = list(itertools.product(world.COLOURS, world.BACKGROUNDS))
    rng.shuffle(combos)
    written = []
    for number, (colour, background) in enumerate(combos[:COUNT], start=1):
        sample = world.random_sample(
            rng, shape=world.HELD_OUT_SHAPE, colour=colour, background=background
        )
        stem = folder / f"star-{number:02d}"
        sample.image.save(stem.with_suffix(".png"))
        text = f"a {colour} {world.TRIGGER_WORD} star on a {background} background"
        stem.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
        written.append(stem.with_suffix(".png"))
    (folder / "README.md").write_text(
        README.format(count=COUNT, trigger=world.TRIGGER_WORD, size=world.SIZE), encoding="utf-8"
    )
    return written
