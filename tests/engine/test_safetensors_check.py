"""A LoRA, model or checkpoint file is judged by its header before any library opens it.

The files are written byte by byte here (no torch, no pickle module): what a user might have on
disk after a failed copy, a renamed pickle, or a link into a folder of old checkpoints.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from genai_tui.engine.errors import BadInput
from genai_tui.engine.safetensors_check import check_lora_file, check_safetensors

# The first bytes of `torch.save`'s old format and of a protocol-4 pickle, written by hand:
# a file like this must never reach a loader.
PICKLE = b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x06weight\x94K\x01s."
KEY = "lora_unet_down_blocks_1_attentions_0_proj_in"


def safetensors_bytes(
    tensors: dict[str, tuple[str, list[int], bytes]], metadata: dict[str, str] | None = None
) -> bytes:
    """A file in safetensors layout: 8-byte length, JSON header, then the tensors' bytes."""
    header: dict[str, object] = {"__metadata__": metadata} if metadata is not None else {}
    data = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def lora_bytes() -> bytes:
    return safetensors_bytes(
        {
            f"{KEY}.lora_down.weight": ("F32", [1, 2], struct.pack("<2f", 0.5, 0.25)),
            f"{KEY}.lora_up.weight": ("F32", [2, 1], struct.pack("<2f", 1.0, 2.0)),
            f"{KEY}.alpha": ("F32", [], struct.pack("<f", 1.0)),
        },
        {"ss_network_dim": "1"},
    )


def write(folder: Path, name: str, payload: bytes) -> Path:
    path = folder / name
    path.write_bytes(payload)
    return path


def test_a_valid_file_gives_its_tensors_and_metadata(tmp_path: Path) -> None:
    header = check_lora_file(write(tmp_path, "ok.safetensors", lora_bytes()))
    assert header.metadata == {"ss_network_dim": "1"}
    assert header.tensors[f"{KEY}.lora_up.weight"].shape == (2, 1)
    assert header.size == len(lora_bytes())


def test_a_real_safetensors_file_passes(tmp_path: Path) -> None:
    """What safetensors itself writes (aligned, sorted its own way) is accepted as it is."""
    import torch
    from safetensors.torch import save_file

    path = tmp_path / "real.safetensors"
    tensors = {"a.lora_A.weight": torch.ones(3, 5, dtype=torch.float16), "b": torch.zeros(7)}
    save_file(tensors, path, metadata={"format": "pt"})
    header = check_safetensors(path)
    assert {k: v.shape for k, v in header.tensors.items()} == {
        "a.lora_A.weight": (3, 5),
        "b": (7,),
    }


def broken_header(claimed: int, body: bytes) -> bytes:
    return struct.pack("<Q", claimed) + body


def data_cut_short() -> bytes:
    good = lora_bytes()
    return good[: len(good) - 4]  # the last tensor's bytes are missing


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "too short to hold a header"),
        (lora_bytes()[:6], "too short to hold a header"),
        (lora_bytes()[:40], "cut short: its header claims"),
        (data_cut_short(), "cut short: its tensors need"),
        (lora_bytes() + b"\0" * 16, "after the last tensor"),
        (broken_header(1 << 40, b"{" + b" " * 31), "its header claims 1,099,511,627,784 bytes"),
        (broken_header(16, b'{"a": {"dtype": '), "not valid JSON"),
        (broken_header(8, b"[1, 2]  "), "not a safetensors file"),
        (
            safetensors_bytes({f"{KEY}.lora_up.weight": ("F32", [4, 4], b"\0" * 8)}),
            "needs 64",
        ),
        (safetensors_bytes({f"{KEY}.lora_up.weight": ("Q9", [1], b"\0")}), "unknown dtype"),
        (PICKLE, "it looks like a pickle: refused, never opened"),
        (b"PK\x03\x04" + b"\0" * 40, "PyTorch zip checkpoint"),
    ],
    ids=[
        "zero-byte",
        "six-bytes",
        "truncated-header",
        "truncated-data",
        "trailing-bytes",
        "header-claims-1-TiB",
        "broken-json",
        "header-not-an-object",
        "shape-and-offsets-disagree",
        "unknown-dtype",
        "pickle",
        "zip",
    ],
)
def test_a_broken_file_is_one_clear_bad_input(tmp_path: Path, payload: bytes, message: str) -> None:
    path = write(tmp_path, "bad.safetensors", payload)
    with pytest.raises(BadInput, match=r"bad\.safetensors") as caught:
        check_lora_file(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.hint


def test_offsets_past_the_end_of_the_file_are_refused(tmp_path: Path) -> None:
    header = {f"{KEY}.lora_up.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    text = json.dumps(header).encode()
    path = write(tmp_path, "short.safetensors", struct.pack("<Q", len(text)) + text + b"\0" * 4)
    with pytest.raises(BadInput, match="cut short"):
        check_safetensors(path)


def test_metadata_must_map_text_to_text(tmp_path: Path) -> None:
    payload = safetensors_bytes({"x.lora_A.weight": ("U8", [1], b"\1")}, {"steps": 4})  # type: ignore[dict-item]
    with pytest.raises(BadInput, match="__metadata__"):
        check_safetensors(write(tmp_path, "meta.safetensors", payload))


def test_a_link_is_judged_by_its_target(tmp_path: Path) -> None:
    pickle_file = write(tmp_path, "old-model.ckpt", PICKLE)
    link = tmp_path / "innocent.safetensors"
    link.symlink_to(pickle_file)
    with pytest.raises(BadInput) as caught:
        check_lora_file(link)
    message = str(caught.value)
    assert "innocent.safetensors" in message and "old-model.ckpt" in message
    assert "looks like a pickle: refused, never opened" in message
    good = write(tmp_path, "real.safetensors", lora_bytes())
    (tmp_path / "alias.safetensors").symlink_to(good)
    assert check_lora_file(tmp_path / "alias.safetensors").path == good.resolve()


def test_missing_files_dangling_links_and_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not found"):
        check_lora_file(tmp_path / "nothing.safetensors")
    (tmp_path / "dangling.safetensors").symlink_to(tmp_path / "gone.safetensors")
    with pytest.raises(BadInput, match="not found"):
        check_lora_file(tmp_path / "dangling.safetensors")
    (tmp_path / "dir.safetensors").mkdir()
    with pytest.raises(BadInput, match="not a file"):
        check_lora_file(tmp_path / "dir.safetensors")


def test_a_file_without_lora_keys_is_no_lora(tmp_path: Path) -> None:
    path = write(tmp_path, "vae.safetensors", safetensors_bytes({"w": ("U8", [1], b"\0")}))
    assert check_safetensors(path).tensors
    with pytest.raises(BadInput, match="holds no LoRA weights"):
        check_lora_file(path)


def test_a_diffusers_file_mixing_two_key_forms_is_refused(tmp_path: Path) -> None:
    """genai-tui's early exports: diffusers would load only the layers in the first key's form."""
    block = "unet.down_blocks.1.attentions.0"
    raw = struct.pack("<2f", 0.5, 0.25)
    tensors = {
        f"{block}.transformer_blocks.0.attn1.to_q.lora.down.weight": ("F32", [1, 2], raw),
        f"{block}.transformer_blocks.0.attn1.to_q.lora.up.weight": ("F32", [2, 1], raw),
        f"{block}.proj_in.lora_A.weight": ("F32", [1, 2], raw),
        f"{block}.proj_in.lora_B.weight": ("F32", [2, 1], raw),
    }
    path = write(tmp_path, "pytorch_lora_weights.safetensors", safetensors_bytes(tensors))
    with pytest.raises(BadInput, match="mixes two LoRA key forms") as caught:
        check_lora_file(path)
    assert "webui" in caught.value.hint
    peft_only = {k: v for k, v in tensors.items() if "lora_" in k}
    check_lora_file(write(tmp_path, "new.safetensors", safetensors_bytes(peft_only)))


def test_a_single_file_model_is_checked_when_the_reference_is_resolved(tmp_path: Path) -> None:
    from genai_tui.engine.sources import resolve_source

    link = tmp_path / "model.safetensors"
    link.symlink_to(write(tmp_path, "model.ckpt", PICKLE))
    with pytest.raises(BadInput, match="looks like a pickle"):
        resolve_source(str(link))
    good = write(tmp_path, "good.safetensors", lora_bytes())
    assert resolve_source(str(good)).kind == "single_file"


def test_a_damaged_checkpoint_is_refused_before_safetensors_reads_it(tmp_path: Path) -> None:
    from genai_tui.engine.lora.checkpoint import ADAPTER_FILE, load_checkpoint

    folder = tmp_path / "checkpoint-2"
    folder.mkdir()
    for name in ("optimizer.safetensors", "rng.safetensors"):
        write(folder, name, safetensors_bytes({"0.step": ("F32", [], b"\0" * 4)}))
    write(folder, ADAPTER_FILE, lora_bytes()[:30])
    for name in ("optimizer.json", "rng.json"):
        (folder / name).write_text('{"param_groups": [], "plain": {}}')
    (folder / "state.json").write_text(json.dumps({"format": 1, "step": 2}))
    with pytest.raises(BadInput, match=re.escape(f"{ADAPTER_FILE} is cut short")):
        load_checkpoint(folder)


def test_the_lora_panel_shows_the_same_one_line(tmp_path: Path) -> None:
    from genai_tui.ui.widgets.lora_panel import lora_file_problem

    link = tmp_path / "x.safetensors"
    link.symlink_to(write(tmp_path, "x.pt", PICKLE))
    assert "looks like a pickle: refused, never opened" in str(lora_file_problem(link))
    assert lora_file_problem(write(tmp_path, "ok.safetensors", lora_bytes())) is None
    assert "not a .safetensors file" in str(lora_file_problem(tmp_path / "x.pt"))
