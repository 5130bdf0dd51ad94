"""LoRA exports and checkpoints get the same permissions as the session's other files.

A webui running as another user on the same server reads the LoRAs beside the images: the
process umask decides every file's mode, as it does for a plain open().
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from genai_tui.engine.lora.checkpoint import load_checkpoint, save_checkpoint
from genai_tui.engine.lora.export import export_lora, kohya_metadata

MODULE = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q"


@pytest.fixture(params=[0o022, 0o002], ids=["umask-022", "umask-002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def plain_open_mode(folder: Path) -> int:
    """What the session's images and JSON get: a file made by open()."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "plain.txt").open("w") as handle:
        handle.write("x")
    return mode(folder / "plain.txt")


def test_exported_lora_files_are_as_readable_as_the_images(tmp_path: Path, umask: int) -> None:
    adapter = {
        f"{MODULE}.lora_A.weight": torch.randn(4, 8),
        f"{MODULE}.lora_B.weight": torch.randn(8, 4),
    }
    config = {"r": 4, "lora_alpha": 4, "target_modules": {"to_q"}}
    meta = kohya_metadata(name="shared", rank=4, alpha=4.0, steps=1, extra={})
    exported = export_lora(adapter, config, tmp_path / "loras" / "shared", "shared", meta)
    expected = plain_open_mode(tmp_path / "images")
    assert expected == 0o666 & ~umask
    assert mode(exported.webui_file) == expected
    assert mode(exported.diffusers_file) == expected
    assert [p.name for p in exported.folder.iterdir() if p.name.startswith(".")] == []


def test_checkpoint_files_are_as_readable_as_the_images(tmp_path: Path, umask: int) -> None:
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.AdamW([weight], lr=0.1)
    (weight * 2).sum().backward()
    optimizer.step()
    folder = save_checkpoint(
        tmp_path / "runs" / "r" / "checkpoint-1",
        step=1,
        adapter={f"{MODULE}.lora_A.weight": weight.detach()},
        optimizer=optimizer,
        noise_generator=torch.Generator().manual_seed(0),
        state={"params": {}},
    )
    expected = plain_open_mode(tmp_path / "images")
    assert {p.name: mode(p) for p in folder.iterdir()} == {
        p.name: expected for p in folder.iterdir()
    }
    assert load_checkpoint(folder).step == 1
