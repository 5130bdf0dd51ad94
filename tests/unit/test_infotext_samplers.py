"""Each sampler's PNG text, read the way AUTOMATIC1111 1.9+ reads it, and read back by us.

`a1111_reads` and `a1111_samples_with` redo A1111's own lookup (modules/sd_samplers.py
get_sampler_and_scheduler, modules/sd_samplers_kdiffusion.py KDiffusionSampler.get_sigmas, at
the commit named in tests/fixtures/a1111_tables.py) over its tables recorded there;
bench/a1111_infotext.py runs A1111's code itself on a checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from genai_tui.engine.schedulers import SAMPLERS, infotext_names, sampler_from_infotext
from genai_tui.session.pngmeta import a1111_parameters, parse_parameters, read_parameters, save_png
from tests.fixtures.a1111_tables import SAMPLERS as A1111_SAMPLERS
from tests.fixtures.a1111_tables import SCHEDULERS as A1111_SCHEDULERS
from tests.unit.test_pngmeta import make_record

# schedulers_map: each schedule type by its name and by its label (aliases only count below).
_SCHEDULE_BY_KEY = {row[0]: row for row in A1111_SCHEDULERS} | {
    row[1]: row for row in A1111_SCHEDULERS
}
_SAMPLER_BY_NAME = {row[0]: row for row in A1111_SAMPLERS}


def a1111_reads(text: str) -> tuple[str, str]:
    """The sampler and schedule type A1111's "paste" sets for the text's settings line."""
    parsed = parse_parameters(text)  # A1111's own "key: value" pattern
    # parse_generation_parameters: a missing schedule type is "Automatic".
    schedule = _SCHEDULE_BY_KEY.get(parsed.get("Schedule type", "Automatic"), A1111_SCHEDULERS[0])
    name = parsed.get("Sampler") or A1111_SAMPLERS[0][0]
    for row in A1111_SCHEDULERS:
        # A schedule type ending the sampler's name wins over any "Schedule type" (exact case).
        for option in (row[1], row[0], *row[2]):
            if name.endswith(" " + option):
                schedule, name = row, name[: -(len(option) + 1)]
                break
    # Only exact names count, not aliases; an unknown one is the first sampler, A1111's default.
    sampler = _SAMPLER_BY_NAME.get(name, A1111_SAMPLERS[0])
    if sampler[2] == schedule[0]:
        schedule = A1111_SCHEDULERS[0]  # the sampler's own schedule is shown as Automatic
    return sampler[0], schedule[1]


def a1111_samples_with(sampler: str, schedule: str) -> str:
    """The schedule A1111 then samples with; "-" for samplers that take no schedule type."""
    _, _, automatic, takes_schedule = _SAMPLER_BY_NAME[sampler]
    if not takes_schedule:
        return "-"
    row = _SCHEDULE_BY_KEY.get(automatic if schedule == "Automatic" else schedule)
    # No schedule function (none, or Automatic) means the model's own levels: Uniform's.
    return row[1] if row is not None and row[3] else "Uniform"


def a1111_result(text: str) -> tuple[str, str]:
    sampler, schedule = a1111_reads(text)
    return sampler, a1111_samples_with(sampler, schedule)


def written(name: str) -> str:
    return a1111_parameters(make_record(scheduler=name), "1", sampler_names=infotext_names(name))


def intended(name: str) -> tuple[str, str]:
    sampler = next(s for s in SAMPLERS if s.name == name)
    assert sampler.a1111 is not None
    a1111_sampler, schedule = sampler.a1111
    takes_schedule = _SAMPLER_BY_NAME[a1111_sampler][3]
    return a1111_sampler, schedule if takes_schedule else "-"


A1111_ONES = [s.name for s in SAMPLERS if s.a1111 is not None]


@pytest.mark.parametrize("name", A1111_ONES)
def test_a1111_samples_as_we_did(name: str) -> None:
    assert a1111_result(written(name)) == intended(name)


def test_text_without_a_schedule_type_got_a1111s_automatic_one() -> None:
    # What genai-tui wrote before for the plain ones: A1111 gave each its automatic schedule.
    def old(name: str) -> tuple[str, str]:
        return a1111_result(f"a cat\nSteps: 20, Sampler: {name}, CFG scale: 7, Seed: 1")

    assert old("DPM++ 2M") == ("DPM++ 2M", "Karras")
    assert old("DPM++ 2M SDE") == ("DPM++ 2M SDE", "Exponential")
    assert old("DPM2") == ("DPM2", "Karras") and old("DPM2 a") == ("DPM2 a", "Karras")
    assert old("PNDM") == ("DPM++ 2M", "Karras")
    for name in ("DPM++ 2M", "DPM++ 2M SDE", "DPM2", "DPM2 a"):
        assert a1111_result(written(name)) != old(name)


def test_no_two_samplers_read_alike() -> None:
    texts = {name: written(name) for name in (s.name for s in SAMPLERS)}
    assert len({a1111_result(text) for name, text in texts.items() if name in A1111_ONES}) == len(
        A1111_ONES
    )
    pairs = [
        tuple(parse_parameters(t).get(k) for k in ("Sampler", "Schedule type"))
        for t in texts.values()
    ]
    assert len(set(pairs)) == len(SAMPLERS)


def test_pndm_has_a_name_a1111_does_not_know() -> None:
    text = written("PNDM")
    parsed = parse_parameters(text)
    assert parsed["Sampler"] == "PNDMScheduler" and "Schedule type" not in parsed
    a1111_names = {n.casefold() for row in A1111_SAMPLERS for n in (row[0], *row[1])}
    assert parsed["Sampler"].casefold() not in a1111_names
    assert not any(parsed["Sampler"].endswith(" " + row[1]) for row in A1111_SCHEDULERS)


@pytest.mark.parametrize("name", [s.name for s in SAMPLERS])
def test_a_saved_png_reads_back_as_its_sampler(name: str, tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    record = make_record(scheduler=name)
    save_png(Image.new("RGB", (8, 8)), path, record, "1", sampler_names=infotext_names(name))
    text = read_parameters(path)
    assert text is not None
    parsed = parse_parameters(text)
    assert sampler_from_infotext(parsed["Sampler"], parsed.get("Schedule type", "")) == name


@pytest.mark.parametrize(
    ("sampler", "schedule", "ours"),
    [
        # genai-tui's text before, and A1111's before 1.9: the schedule in the name, or none
        ("DPM++ 2M Karras", "", "DPM++ 2M Karras"),
        ("DPM++ 2M", "", "DPM++ 2M"),
        ("DPM++ 2M SDE", "", "DPM++ 2M SDE"),
        ("DPM2 a", "", "DPM2 a"),
        ("PNDM", "", "PNDM"),
        # A1111 1.9+: what it writes itself
        ("DPM++ 2M", "Karras", "DPM++ 2M Karras"),
        ("DPM++ 2M SDE", "Karras", "DPM++ 2M SDE Karras"),
        ("Euler a", "Automatic", "Euler a"),
        ("DDIM", "Automatic", "DDIM"),
        ("dpm++ 2m", "karras", "DPM++ 2M Karras"),
        # none of ours samples like these
        ("DPM++ 2M SDE", "Exponential", None),
        ("Euler", "Karras", None),
        ("LMS", "", None),
    ],
)
def test_older_and_a1111_texts_read_as_our_sampler(
    sampler: str, schedule: str, ours: str | None
) -> None:
    assert sampler_from_infotext(sampler, schedule) == ours


def test_karras_is_written_exactly_for_the_karras_ones() -> None:
    for sampler in SAMPLERS:
        karras = bool(sampler.options.get("use_karras_sigmas"))
        assert (infotext_names(sampler.name)[1] == "Karras") == karras, sampler.name
