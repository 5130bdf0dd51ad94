"""Sweep axes as AUTOMATIC1111's X/Y/Z plot reads them, each value checked by its knob; plans."""

from __future__ import annotations

import pytest

from genai_tui.engine.errors import BadInput
from genai_tui.engine.params import GenerateParams, LoraWeight
from genai_tui.jobs.sweep_axes import parse_axis, plan_sweep

BASE = GenerateParams("a red cat", seed=7)


def labels(spec: str, base: GenerateParams = BASE) -> list[str]:
    return [value.label for value in parse_axis(spec, base).values]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("seed=1-5", ["1", "2", "3", "4", "5"]),
        ("seed=1-10 (+2)", ["1", "3", "5", "7", "9"]),
        ("steps=10-1 (-3)", ["10", "7", "4", "1"]),
        ("steps=1-10 [5]", ["1", "3", "6", "8", "10"]),
        ("cfg=2-8 (+1.5)", ["2", "3.5", "5", "6.5", "8"]),
        ("cfg=1-2 [3]", ["1", "1.5", "2"]),
        ("cfg=5, 7.5,9", ["5", "7.5", "9"]),
        ("steps=5,5,6", ["5", "6"]),
        ("clip-skip=1,2", ["1", "2"]),
        ("size=512x768, 256", ["512x768", "256x256"]),
        ("size=64-128 (+32)", ["64x64", "96x96", "128x128"]),
        ("sampler=euler a,DDIM", ["Euler a", "DDIM"]),
        ("lora:style=0-1 [3]", ["0", "0.5", "1"]),
        ('prompt=red,"green, bright"', ["red", "green, bright"]),
    ],
)
def test_values_and_ranges(spec: str, expected: list[str]) -> None:
    assert labels(spec) == expected


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("colour=red", "unknown sweep axis"),
        ("cfg=", "has no values"),
        ("cfg=31", "at most 30"),
        ("steps=0", "at least 1"),
        ("steps=2.5", "not a whole number"),
        ("steps=5-1", "makes no values"),
        ("steps=1-5 [0]", "makes no values"),
        ("cfg=1-5 (+0)", "step of 0"),
        ("seed=0-99999", "over 10,000"),
        ("size=100", "multiples of 8"),
        ("size=4096", "at most 2048"),
        ("sampler=Euler z", "unknown scheduler"),
        ("lora:style=3", "at most 2"),
        ("lora:=1", "names no LoRA"),
        ("prompt=blue,green", "not in the prompt"),
        ("cfg=5,,6", "empty value"),
        ("matrix", "no | parts"),
    ],
)
def test_bad_values_are_refused_in_one_line(spec: str, said: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_axis(spec, BASE)
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_sampler_lists_the_known_ones() -> None:
    with pytest.raises(BadInput) as caught:
        parse_axis("sampler=Euler z", BASE)
    assert "Euler a" in caught.value.hint and "DPM++ 2M Karras" in caught.value.hint


def test_the_plan_is_the_product_with_x_fastest_and_full_parameters() -> None:
    plan = plan_sweep(BASE, ["cfg=5,7", "seed=1,2", "steps=10,20"])
    assert plan.shape == (2, 2, 2) and len(plan.cells) == 8
    assert [cell.index for cell in plan.cells[:3]] == [(0, 0, 0), (1, 0, 0), (0, 1, 0)]
    last = plan.cells[-1]
    assert (last.params.cfg_scale, last.params.seed, last.params.steps) == (7, 2, 20)
    assert last.axes == {"CFG scale": "7", "Seed": "2", "Steps": "20"}
    assert last.params.prompt == "a red cat" and last.params.batch_size == 1


def test_prompt_search_replace_starts_with_the_prompt_itself() -> None:
    base = GenerateParams("a red cat", negative_prompt="red ink", seed=1)
    plan = plan_sweep(base, ["prompt=red,blue"])
    assert [c.params.prompt for c in plan.cells] == ["a red cat", "a blue cat"]
    assert plan.cells[1].params.negative_prompt == "blue ink"  # A1111 replaces in both


def test_a_prompt_matrix_has_the_first_part_and_each_subset_of_the_others() -> None:
    plan = plan_sweep(GenerateParams("a cat|in a hat|at night", seed=1), ["matrix"])
    assert [c.params.prompt for c in plan.cells] == [
        "a cat",
        "a cat, in a hat",
        "a cat, at night",
        "a cat, in a hat, at night",
    ]
    assert [c.axes["Prompt matrix"] for c in plan.cells] == [
        "(none)",
        "in a hat",
        "at night",
        "in a hat + at night",
    ]
    by_values = plan_sweep(GenerateParams("a cat", seed=1), ["matrix=in a hat"])
    assert [c.params.prompt for c in by_values.cells] == ["a cat", "a cat, in a hat"]


def test_a_lora_axis_sets_its_weight_and_keeps_the_other_loras() -> None:
    base = GenerateParams("a cat", seed=1, loras=(LoraWeight("ink", 0.5), LoraWeight("style")))
    plan = plan_sweep(base, ["lora:style=0,0.8"])
    assert plan.cells[1].params.loras == (LoraWeight("ink", 0.5), LoraWeight("style", 0.8))


def test_a_size_axis_sets_width_and_height() -> None:
    (cell,) = plan_sweep(BASE, ["size=512x768"]).cells
    assert (cell.params.width, cell.params.height) == (512, 768)


@pytest.mark.parametrize(
    ("specs", "said"),
    [
        ([], "at least one axis"),
        (["cfg=1", "seed=1", "steps=1", "clip-skip=1"], "at most 3 axes"),
        (["cfg=1,2", "cfg=3"], "given twice"),
        (["seed=1-100", "cfg=1-11"], "1,100 cells"),
    ],
)
def test_bad_plans_are_refused(specs: list[str], said: str) -> None:
    with pytest.raises(BadInput, match=said):
        plan_sweep(BASE, specs)


def test_more_than_a_thousand_cells_need_yes() -> None:
    assert len(plan_sweep(BASE, ["seed=1-100", "cfg=1-11"], yes=True).cells) == 1100
