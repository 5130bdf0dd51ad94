"""The demo world generator: deterministic per seed, varied, and captioned truthfully."""

from __future__ import annotations

import numpy as np

from genai_tui.demo import world


def _pixels(seed: int, count: int = 8) -> np.ndarray:
    return world.to_array([s.image for s in world.samples(seed, count)])


def test_same_seed_gives_same_images_and_captions() -> None:
    first, second = world.samples(7, 8), world.samples(7, 8)
    assert [s.caption for s in first] == [s.caption for s in second]
    assert np.array_equal(_pixels(7), _pixels(7))


def test_different_seeds_differ() -> None:
    assert not np.array_equal(_pixels(7), _pixels(8))
    assert [s.caption for s in world.samples(7, 8)] != [s.caption for s in world.samples(8, 8)]


def test_images_are_native_size_and_anti_aliased() -> None:
    sample = world.samples(3, 1)[0]
    assert sample.image.size == (world.SIZE, world.SIZE)
    colours = {tuple(p) for p in np.asarray(sample.image).reshape(-1, 3)}
    # Besides the shape and background colours, edge pixels hold blends of the two.
    assert len(colours) > 2


def test_captions_state_shape_colour_and_background() -> None:
    for sample in world.samples(11, 50):
        assert sample.shape in world.SHAPES
        for word in (sample.shape, sample.colour, sample.background):
            assert word in sample.caption


def test_held_out_shape_is_only_drawn_when_asked() -> None:
    assert world.HELD_OUT_SHAPE not in {s.shape for s in world.samples(5, 200)}
    stars = world.samples(5, 20, [world.HELD_OUT_SHAPE])
    assert {s.shape for s in stars} == {world.HELD_OUT_SHAPE}


def test_vocabulary_covers_every_caption_word() -> None:
    words = set(world.vocabulary())
    for sample in world.samples(2, 50, world.ALL_SHAPES):
        assert set(sample.caption.replace(",", " ").split()) <= words
    assert world.TRIGGER_WORD in words
