"""A sweep's grids: the cell images in a labelled grid, as AUTOMATIC1111's X/Y/Z plot draws them.

X values head the columns, Y values the rows; each Z value gets a grid of its own with its value
as a title. Every grid's PNG carries the A1111 "parameters" of its first cell plus the axes (as
A1111 writes its grids), and the layout: where each cell is, its file and its scores, and the
best cell of each row, each column and the grid. The viewer marks the best from that layout,
which is also written beside the grids as `grids/<sweep>.json`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from genai_tui import __version__
from genai_tui.engine.schedulers import infotext_names
from genai_tui.jobs.sweep_axes import Plan
from genai_tui.session.atomic import write_atomically
from genai_tui.session.models import ImageRecord
from genai_tui.session.pngmeta import PARAMETERS_KEY, a1111_parameters

GRID_FOLDER = "grids"
LAYOUT_KEY = "genai-tui-grid"
"""The PNG text key of a grid's layout JSON."""
MAX_GRID_PIXELS = 64_000_000
"""Cells are shrunk in the grid beyond this (each image stays full size in images/)."""
MIN_FONT = 12
MIN_CELL = 128
"""Smaller images (the demo model's 32 px) are drawn a whole number of times larger, pixels kept
sharp: at their own size the labels wrapped into each other and the grid was a thumbnail."""


@dataclass(frozen=True)
class Grids:
    """What was written: one PNG per Z value and the layout JSON."""

    paths: tuple[Path, ...]
    layout: Path


def grid_names(sweep: str, count: int) -> list[str]:
    """grids/<sweep>.png for one grid; grids/<sweep>-1.png ... one per Z value."""
    if count == 1:
        return [f"{GRID_FOLDER}/{sweep}.png"]
    return [f"{GRID_FOLDER}/{sweep}-{z + 1}.png" for z in range(count)]


def write_grids(
    session_path: Path, sweep: str, plan: Plan, records: Sequence[ImageRecord], rank: str
) -> Grids:
    """Draw and save the grids of `plan` whose cells are `records` (in plan order)."""
    columns, rows, count = plan.shape
    cell_w = max(record.width for record in records)
    cell_h = max(record.height for record in records)
    shrink = min(1.0, math.sqrt(MAX_GRID_PIXELS / (cell_w * cell_h * len(records))))
    grow = max(1, MIN_CELL // max(cell_w, cell_h))
    cell_w, cell_h = max(1, int(cell_w * shrink * grow)), max(1, int(cell_h * shrink * grow))
    size = max(MIN_FONT, (cell_w + cell_h) // 25)  # A1111's size for its grid labels
    font = _font(size)
    axes = list(plan.axes)
    x_heads = [axes[0].heading(v) for v in axes[0].values]
    y_heads = [axes[1].heading(v) for v in axes[1].values] if len(axes) > 1 else []
    z_heads = [axes[2].heading(v) for v in axes[2].values] if len(axes) > 2 else [""]
    spacing = size // 2
    x_lines = [_wrap(text, font, cell_w - spacing) for text in x_heads]
    left = 0
    if y_heads:
        width = max(cell_w * 3 // 4, 4 * size)
        y_lines = [_wrap(text, font, width - 2 * spacing) for text in y_heads]
        left = max(_block_width(lines, font) for lines in y_lines) + 2 * spacing
    line_h = _line_height(font)
    title = line_h + spacing if len(axes) > 2 else 0
    top = title + max(len(lines) for lines in x_lines) * line_h + 2 * spacing
    names = grid_names(sweep, count)
    by_place = {cell.index: record for cell, record in zip(plan.cells, records, strict=True)}
    layout = _layout(sweep, plan, by_place, names, (left, top), (cell_w, cell_h), rank)
    paths = []
    for z, name in enumerate(names):
        grid = Image.new("RGB", (left + columns * cell_w, top + rows * cell_h), "white")
        draw = ImageDraw.Draw(grid)
        if title:
            draw.text((spacing, spacing // 2), z_heads[z], fill="black", font=font)
        for x, lines in enumerate(x_lines):
            _draw_lines(draw, lines, font, left + x * cell_w, title + spacing, cell_w)
        for y, text in enumerate(y_heads):
            lines = _wrap(text, font, left - 2 * spacing)
            below = top + y * cell_h + (cell_h - len(lines) * line_h) // 2
            _draw_lines(draw, lines, font, 0, below, left)
        for y in range(rows):
            for x in range(columns):
                _paste(
                    grid, session_path / by_place[(x, y, z)].file, left, top, x, y, cell_w, cell_h
                )
        first = by_place[(0, 0, z)]
        info = PngImagePlugin.PngInfo()
        info.add_text(PARAMETERS_KEY, grid_parameters(first, plan), zip=False)
        info.add_itxt(LAYOUT_KEY, json.dumps(layout), zip=False)
        path = session_path / name
        _save_png(path, grid, info)
        paths.append(path)
    layout_path = session_path / GRID_FOLDER / f"{sweep}.json"
    data = json.dumps(layout, indent=1).encode()
    write_atomically(layout_path, lambda f: f.write(data))
    return Grids(tuple(paths), layout_path)


def grid_parameters(first: ImageRecord, plan: Plan) -> str:
    """A1111's text of a grid: its first cell's parameters, then X/Y/Z Type and Values."""
    names = infotext_names(first.scheduler)
    hashes = {use.name: use.hash for use in first.loras if use.hash}
    text = a1111_parameters(first, __version__, hashes, names)
    for letter, axis in zip("XYZ", plan.axes, strict=False):
        values = ",".join(value.label for value in axis.values)
        text += f", {letter} Type: {axis.label}, {letter} Values: {json.dumps(values)}"
    return text


def _layout(
    sweep: str,
    plan: Plan,
    by_place: dict[tuple[int, int, int], ImageRecord],
    names: list[str],
    origin: tuple[int, int],
    cell: tuple[int, int],
    rank: str,
) -> dict[str, Any]:
    """Where everything is and which cells are best, for the viewer to mark."""
    columns, rows, _count = plan.shape

    def score(record: ImageRecord) -> float | None:
        return record.clip_score if rank == "clip" else record.scores.get(rank)

    def best(places: list[tuple[int, int, int]]) -> list[int] | None:
        scored = [(s, p) for p in places if (s := score(by_place[p])) is not None]
        return list(max(scored, key=lambda item: item[0])[1][:2]) if scored else None

    grids = []
    for z, name in enumerate(names):
        grids.append(
            {
                "file": name,
                "z": plan.axes[2].values[z].label if len(plan.axes) > 2 else None,
                "best": best([(x, y, z) for y in range(rows) for x in range(columns)]),
                "best_in_row": [best([(x, y, z) for x in range(columns)]) for y in range(rows)],
                "best_in_column": [best([(x, y, z) for y in range(rows)]) for x in range(columns)],
            }
        )
    return {
        "sweep": sweep,
        "rank": rank,
        "axes": [
            {
                "name": axis.name,
                "label": axis.label,
                "spec": axis.spec,
                "values": [value.label for value in axis.values],
            }
            for axis in plan.axes
        ],
        "origin": list(origin),
        "cell": list(cell),
        "grids": grids,
        "cells": [
            {
                "x": cell_.index[0],
                "y": cell_.index[1],
                "z": cell_.index[2],
                "file": by_place[cell_.index].file,
                "axes": cell_.axes,
                "scores": _scores(by_place[cell_.index]),
            }
            for cell_ in plan.cells
        ],
    }


def _save_png(path: Path, grid: Image.Image, info: PngImagePlugin.PngInfo) -> None:
    write_atomically(path, lambda f: grid.save(f, format="PNG", pnginfo=info))


def _scores(record: ImageRecord) -> dict[str, float]:
    scores = dict(record.scores)
    if record.clip_score is not None:
        scores["clip"] = record.clip_score
    return scores


def _font(size: int) -> Any:
    # Pillow's own font (Aileron, with FreeType) at any size: no system font is assumed.
    return ImageFont.load_default(size=size)


def _line_height(font: Any) -> int:
    _left, top, _right, bottom = font.getbbox("Ay")
    return int(bottom - top) + max(2, int(font.size) // 4)


def _block_width(lines: list[str], font: Any) -> int:
    return max(int(font.getlength(line)) for line in lines) if lines else 0


def _wrap(text: str, font: Any, width: int) -> list[str]:
    """Words in lines no wider than `width` (a longer word stays whole, on a line of its own)."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines or [""]


def _draw_lines(draw: Any, lines: list[str], font: Any, left: int, top: int, width: int) -> None:
    """Lines centred in a column `width` wide from (left, top)."""
    line_h = _line_height(font)
    for i, line in enumerate(lines):
        x = left + (width - font.getlength(line)) / 2
        draw.text((x, top + i * line_h), line, fill="black", font=font)


def _paste(
    grid: Image.Image, path: Path, left: int, top: int, x: int, y: int, w: int, h: int
) -> None:
    """The cell image at column x, row y, centred in its place: shrunk to fit if needed, or
    grown a whole number of times (pixels kept) where it is far smaller."""
    with Image.open(path) as image:
        picture = image.convert("RGB")
    if picture.width > w or picture.height > h:
        picture.thumbnail((w, h))
    elif (times := min(w // picture.width, h // picture.height)) > 1:
        size = (picture.width * times, picture.height * times)
        picture = picture.resize(size, Image.Resampling.NEAREST)
    grid.paste(
        picture, (left + x * w + (w - picture.width) // 2, top + y * h + (h - picture.height) // 2)
    )
