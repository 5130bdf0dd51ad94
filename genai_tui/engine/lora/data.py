"""Training data: a folder of images with captions, resized and cropped, in a resumable order.

Augmentation randomness (crop offset, flip) comes from the seed, the epoch and the position in
the epoch, never from a global RNG, so a resumed run sees exactly the batches an uninterrupted
one would, on any number of processes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genai_tui.engine.errors import BadInput
from genai_tui.engine.lora.folder import SkippedFile, read_folder, read_rgb


@dataclass(frozen=True)
class TrainImage:
    """One usable image, already resized so its shorter side is the training resolution."""

    path: Path
    caption: str
    image: Image.Image = field(compare=False, repr=False)


@dataclass(frozen=True)
class TrainData:
    """The images of a data folder, with the files that were skipped."""

    folder: Path
    images: tuple[TrainImage, ...]
    skipped: tuple[SkippedFile, ...] = ()

    @property
    def captions(self) -> list[str]:
        """Each image's caption, in order."""
        return [item.caption for item in self.images]


def load_folder(folder: Path, resolution: int, instance_prompt: str = "") -> TrainData:
    """Read every image of `folder` (not recursive) with its caption, as engine.lora.folder says.

    Unusable files (not images, damaged, captions that are not UTF-8 text) are skipped and
    listed in `skipped`; a folder with no usable image, or images without captions when no
    instance prompt is given, raises BadInput with a hint.
    """

    def read(path: Path) -> Image.Image:
        # Resizing once here is what the per-step resize would do anyway, and keeps memory small.
        return resize_shorter_side(read_rgb(path), resolution)

    selection = read_folder(Path(folder), read).for_training(instance_prompt)
    refusal = selection.refusal()
    if refusal is not None:
        raise refusal
    images = tuple(TrainImage(item.path, caption, item.picture) for item, caption in selection.used)
    return TrainData(selection.folder, images, selection.skipped)


def resize_shorter_side(picture: Image.Image, side: int) -> Image.Image:
    """Scale so the shorter side is `side` (bilinear, as the diffusers example's Resize)."""
    width, height = picture.size
    if min(width, height) == side:
        return picture
    if width <= height:
        size = (side, max(side, round(height * side / width)))
    else:
        size = (max(side, round(width * side / height)), side)
    return picture.resize(size, Image.Resampling.BILINEAR)


def augment_rng(seed: int, epoch: int, position: int) -> random.Random:
    """The random source of one draw of one item: the same on resume and on every process."""
    return random.Random(f"augment-{seed}-{epoch}-{position}")


def to_pixels(
    picture: Image.Image, side: int, center_crop: bool, flip: bool, rng: random.Random
) -> tuple[torch.Tensor, tuple[int, int, bool]]:
    """A (3, side, side) tensor in [-1, 1], and the (left, top, flipped) it was cut with."""
    width, height = picture.size
    if center_crop:
        left, top = round((width - side) / 2), round((height - side) / 2)
    else:
        left, top = rng.randint(0, width - side), rng.randint(0, height - side)
    flipped = flip and rng.random() < 0.5
    cut = picture.crop((left, top, left + side, top + side))
    if flipped:
        cut = cut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    array = np.asarray(cut, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array.transpose(2, 0, 1).copy()), (left, top, flipped)


@dataclass
class DataOrder:
    """Where the run is in the data: a shuffled order per epoch, consumed item by item.

    `epoch` and `position` are the whole state; they go into every checkpoint.
    """

    size: int
    seed: int
    epoch: int = 0
    position: int = 0
    _order: list[int] = field(default_factory=list, repr=False)
    _order_epoch: int = field(default=-1, repr=False)

    def take(self, count: int) -> list[tuple[int, int, int]]:
        """The next `count` draws as (item, epoch, position); crosses epochs as needed."""
        drawn = []
        for _ in range(count):
            if self.position >= self.size:
                self.epoch, self.position = self.epoch + 1, 0
            if self._order_epoch != self.epoch:
                self._order = list(range(self.size))
                random.Random(f"order-{self.seed}-{self.epoch}").shuffle(self._order)
                self._order_epoch = self.epoch
            drawn.append((self._order[self.position], self.epoch, self.position))
            self.position += 1
        return drawn

    def state(self) -> dict[str, int]:
        """What a checkpoint stores."""
        return {"epoch": self.epoch, "position": self.position, "size": self.size}

    def restore(self, state: dict[str, int]) -> None:
        """Continue from a checkpoint's state (the same data must be given)."""
        if int(state["size"]) != self.size:
            raise BadInput(
                f"the data changed since the checkpoint ({state['size']} items then, "
                f"{self.size} now)",
                hint="resume with the same data folder, repeats and instance prompt",
            )
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
