"""Check the "Sampler" and "Schedule type" we write against A1111's own tables and readers.

    python bench/a1111_infotext.py --webui PATH [--kdiffusion PATH] [--steps 20 30]

--webui is an AUTOMATIC1111 checkout (its modules/ folder is enough), e.g.
`git --git-dir=<mirror> archive <commit> modules | tar -x -C /tmp/webui`. Nothing of A1111 is
imported (its modules need torch, gradio and more): its tables and functions are read with `ast`
and run on small stand-ins for what they touch.

1. Per sampler of ours, the text genai-tui wrote before and the text it writes now, each read by
   A1111's own parse_generation_parameters and get_sampler_from_infotext /
   get_scheduler_from_infotext (what "paste" sets its UI to), then the schedule A1111 samples with
   (KDiffusionSampler.get_sigmas turns "Automatic" into the sampler's own). OK where that is the
   Sampler entry's `a1111` pair. Also: whether tests/fixtures/a1111_tables.py still equals
   A1111's tables.
2. With --kdiffusion (the k-diffusion checkout A1111 pins, for its DiscreteSchedule and sigma
   functions): the noise levels diffusers gives each of our samplers on SD 1.5's scheduler config
   (or --scheduler-config), against those A1111's get_sigmas gives for every schedule type on
   SD 1.5's noise schedule: the largest relative difference, for the type we write and the
   closest types; for DDIM, UniPC and PNDM, whether the timesteps equal A1111's.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import collections
import dataclasses
import functools
import json
import math
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# stable-diffusion-v1-5's scheduler/scheduler_config.json: no timestep_spacing, so every
# diffusers class uses its own default, as from_single_file with that config does too.
SD15_SCHEDULER = {
    "_class_name": "PNDMScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}


class Stub:
    """Stands for an A1111 module or object that a table or function only names."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Stub:
        return Stub(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Stub:
        return Stub(f"{self._name}()")

    def __repr__(self) -> str:
        return self._name


def _defined(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def run_parts(
    path: Path, wanted: set[str] | None, env: dict[str, Any], method_of: str = ""
) -> dict[str, Any]:
    """Run the top-level definitions `wanted` of a file (all when None), or the methods of class
    `method_of`, in a namespace of `env`; any other name they use becomes a Stub."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body: list[ast.stmt] = tree.body
    if method_of:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == method_of).body
    nodes = [n for n in body if _defined(n) and (wanted is None or _defined(n) & wanted)]
    module = ast.Module(body=nodes, type_ignores=[])
    namespace = dict(env)
    for node in ast.walk(module):
        free = isinstance(node, ast.Name) and node.id not in namespace
        if free and not hasattr(builtins, node.id):
            namespace[node.id] = Stub(node.id)
    exec(compile(module, str(path), "exec"), namespace)
    return namespace


@dataclasses.dataclass
class A1111:
    """What was read from an A1111 checkout."""

    samplers: dict[str, Any]  # sd_samplers' namespace: all_samplers_map, get_sampler_and_...
    schedulers: SimpleNamespace  # sd_schedulers: schedulers, schedulers_map, the functions
    k_names: set[str]  # samplers that take a schedule type (k-diffusion's and LCM)
    parse: Any  # infotext_utils.parse_generation_parameters
    get_sigmas: Any  # KDiffusionSampler.get_sigmas
    get_timesteps: Any  # CompVisSampler.get_timesteps


def read_a1111(webui: Path, kdiffusion: Path | None) -> A1111:
    modules = webui / "modules"
    opts = SimpleNamespace(
        hide_samplers=[],
        infotext_skip_pasting=[],
        infotext_styles="Ignore",
        use_old_hires_fix_width_height=False,
        auto_backcompat=True,
        always_discard_next_to_last_sigma=False,
        use_old_karras_scheduler_sigmas=False,
        sigma_min=0.0,
        sigma_max=0.0,
        rho=0.0,
        beta_dist_alpha=0.6,
        beta_dist_beta=0.6,
    )
    shared = SimpleNamespace(opts=opts, sd_model=SimpleNamespace(is_sdxl=False))
    sampling: Any = Stub("k_diffusion.sampling")
    heavy: dict[str, Any] = {}
    if kdiffusion is not None:
        import numpy as np
        import torch

        heavy = {"torch": torch, "np": np, "math": math}
        try:
            from scipy import stats

            heavy["stats"] = stats
        except ImportError:
            pass  # A1111's Beta schedule then cannot run; the others can
        source = kdiffusion / "k_diffusion" / "sampling.py"
        every = {
            n.name for n in ast.parse(source.read_text()).body if isinstance(n, ast.FunctionDef)
        }
        real = run_parts(
            source,
            {
                "append_zero",
                "get_sigmas_karras",
                "get_sigmas_exponential",
                "get_sigmas_polyexponential",
            },
            heavy,
        )
        sampling = SimpleNamespace(**{name: real.get(name, Stub(name)) for name in every})
    k_diffusion = SimpleNamespace(sampling=sampling)

    sched = run_parts(
        modules / "sd_schedulers.py",
        None,
        {**heavy, "dataclasses": dataclasses, "k_diffusion": k_diffusion, "shared": shared},
    )
    sd_schedulers = SimpleNamespace(**sched)
    common = SimpleNamespace(
        **run_parts(
            modules / "sd_samplers_common.py",
            {"SamplerDataTuple", "SamplerData"},
            {"namedtuple": collections.namedtuple},
        )
    )
    env = {"sd_samplers_common": common, "k_diffusion": k_diffusion}
    kd = run_parts(
        modules / "sd_samplers_kdiffusion.py",
        {"samplers_data_k_diffusion", "samplers_k_diffusion"},
        env,
    )
    ts = run_parts(
        modules / "sd_samplers_timesteps.py", {"samplers_data_timesteps", "samplers_timesteps"}, env
    )
    lcm = run_parts(modules / "sd_samplers_lcm.py", {"samplers_data_lcm", "samplers_lcm"}, env)
    samplers = run_parts(
        modules / "sd_samplers.py",
        {
            "all_samplers",
            "all_samplers_map",
            "samplers",
            "samplers_for_img2img",
            "samplers_map",
            "samplers_hidden",
            "set_samplers",
            "get_sampler_and_scheduler",
            "get_sampler_from_infotext",
            "get_scheduler_from_infotext",
        },
        {
            "functools": functools,
            "shared": shared,
            "sd_schedulers": sd_schedulers,
            "sd_samplers_common": common,
            "sd_samplers_kdiffusion": SimpleNamespace(**kd),
            "sd_samplers_timesteps": SimpleNamespace(**ts),
            "sd_samplers_lcm": SimpleNamespace(**lcm),
        },
    )
    samplers["set_samplers"]()

    from packaging import version

    versions = run_parts(
        modules / "infotext_versions.py", None, {"re": re, "version": version, "shared": shared}
    )
    infotext = run_parts(
        modules / "infotext_utils.py",
        {
            "re_param_code",
            "re_param",
            "re_imagesize",
            "unquote",
            "restore_old_hires_fix_params",
            "parse_generation_parameters",
        },
        {
            "re": re,
            "json": json,
            "shared": shared,
            # Only "Emphasis" depends on it, which a sampler does not.
            "prompt_parser": SimpleNamespace(parse_prompt_attention=lambda text: [[text, 1.0]]),
            "infotext_versions": SimpleNamespace(**versions),
        },
    )
    devices = SimpleNamespace(cpu="cpu", device="cpu")
    method_env = {
        **heavy,
        "opts": opts,
        "shared": shared,
        "devices": devices,
        "sd_schedulers": sd_schedulers,
    }
    k_sampler = run_parts(
        modules / "sd_samplers_kdiffusion.py", {"get_sigmas"}, method_env, "KDiffusionSampler"
    )
    t_sampler = run_parts(
        modules / "sd_samplers_timesteps.py", {"get_timesteps"}, method_env, "CompVisSampler"
    )
    return A1111(
        samplers=samplers,
        schedulers=sd_schedulers,
        # LCMSampler is a KDiffusionSampler: it takes a schedule type too.
        k_names={s.name for s in [*kd["samplers_data_k_diffusion"], *lcm["samplers_data_lcm"]]},
        parse=infotext["parse_generation_parameters"],
        get_sigmas=k_sampler["get_sigmas"],
        get_timesteps=t_sampler["get_timesteps"],
    )


def pasted(a1111: A1111, text: str) -> tuple[str, str, str]:
    """What A1111's paste sets (sampler, schedule type) to, and the schedule it samples with."""
    res = a1111.parse(text, skip_fields=[])
    sampler = a1111.samplers["get_sampler_from_infotext"](res)
    schedule = a1111.samplers["get_scheduler_from_infotext"](res)
    return sampler, schedule, sampled_schedule(a1111, sampler, schedule)


def sampled_schedule(a1111: A1111, sampler: str, schedule: str) -> str:
    # KDiffusionSampler.get_sigmas: "Automatic" becomes the sampler's options["scheduler"]; a
    # schedule without a function (none, or Automatic) is model_wrap.get_sigmas, which is exactly
    # what the Uniform schedule's function returns. Timestep samplers take no schedule type.
    if sampler not in a1111.k_names:
        return "-"
    config = a1111.samplers["all_samplers_map"][sampler]
    name = config.options.get("scheduler") if schedule == "Automatic" else schedule
    found = a1111.schedulers.schedulers_map.get(name)
    return found.label if found is not None and found.function is not None else "Uniform"


def old_text(name: str) -> str:
    # What genai-tui wrote before: only a trailing " Karras" went to "Schedule type".
    if name.endswith(" Karras"):
        return f"Sampler: {name.removesuffix(' Karras')}, Schedule type: Karras"
    return f"Sampler: {name}"


def check_names(a1111: A1111) -> bool:
    from genai_tui.engine.schedulers import SAMPLERS, infotext_names, sampler_from_infotext
    from genai_tui.session.models import ImageRecord
    from genai_tui.session.pngmeta import a1111_parameters, parse_parameters

    known = set()
    for data in a1111.samplers["all_samplers"]:
        known |= {data.name.casefold(), *(alias.casefold() for alias in data.aliases)}
    header = ("ours", "before: A1111 samples with", "now we write", "A1111 samples with")
    print(f"{header[0]:<20} {header[1]:<36} {header[2]:<28} {header[3]:<28} ok")
    all_ok = True
    pairs = []
    for entry in SAMPLERS:
        record = ImageRecord(
            file="a.png",
            prompt="a prompt",
            steps=25,
            cfg_scale=7.0,
            seed=1,
            width=512,
            height=512,
            scheduler=entry.name,
            model="demo",
            created="2025-01-01T00:00:00+00:00",
        )
        names = infotext_names(entry.name)
        text = a1111_parameters(record, "1", sampler_names=names)
        old = f"a prompt\nSteps: 25, {old_text(entry.name)}, CFG scale: 7, Seed: 1"
        before = pasted(a1111, old)
        now = pasted(a1111, text)
        if entry.a1111 is None:
            verdict = "a name A1111 lacks: it takes its default"
            ok = names[0].casefold() not in known
        else:
            wanted = (names[0], names[1] if now[0] in a1111.k_names else "-")
            ok = (now[0], now[2]) == wanted
            verdict = "OK" if ok else f"NO, wanted {' / '.join(wanted)}"
        # Our own reader takes both texts back to our name.
        for written_text in (text, old):
            ours = parse_parameters(written_text)
            back = sampler_from_infotext(ours["Sampler"], ours.get("Schedule type", ""))
            if back != entry.name:
                ok, verdict = False, f"NO, genai-tui reads {back!r} from {ours['Sampler']!r}"
        pairs.append((now[0], now[2]) if entry.a1111 else (names[0], ""))
        all_ok &= ok
        written = ", ".join(n for n in names if n)
        print(
            f"{entry.name:<20} {before[0] + ' / ' + before[2]:<36} {written:<28} "
            f"{now[0] + ' / ' + now[2]:<28} {verdict}"
        )
    distinct = len(set(pairs)) == len(pairs)
    print(f"every sampler of ours reads as a different A1111 sampler and schedule: {distinct}")
    return all_ok and distinct


def check_fixture(a1111: A1111) -> bool:
    from tests.fixtures import a1111_tables

    samplers = [
        (s.name, list(s.aliases), s.options.get("scheduler"), s.name in a1111.k_names)
        for s in a1111.samplers["all_samplers"]
    ]
    schedulers = [
        (s.name, s.label, list(s.aliases or []), s.function is not None)
        for s in a1111.schedulers.schedulers
    ]
    same = samplers == a1111_tables.SAMPLERS and schedulers == a1111_tables.SCHEDULERS
    print(f"tests/fixtures/a1111_tables.py equals this checkout's tables: {same}")
    return same


def unique_levels(values: Any) -> list[float]:
    out: list[float] = []
    for v in (float(x) for x in values):
        if not out or v != out[-1]:
            out.append(v)
    return out


def difference(a: list[float], b: list[float]) -> float:
    """Largest relative difference of two noise-level lists (inf when their lengths differ)."""
    if len(a) != len(b):
        return math.inf
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        if y == 0.0 or x == 0.0:
            worst = max(worst, 0.0 if x == y else math.inf)
        else:
            worst = max(worst, abs(x / y - 1.0))
    return worst


def a1111_levels(a1111: A1111, config: Any, model_wrap: Any, label: str, steps: int) -> Any:
    """The noise levels A1111's KDiffusionSampler.get_sigmas gives a txt2img pass."""
    p = SimpleNamespace(
        hr_scheduler=None,
        is_hr_pass=False,
        scheduler=label,
        sampler_noise_scheduler_override=None,
        extra_generation_params={},
    )
    return a1111.get_sigmas(SimpleNamespace(config=config, model_wrap=model_wrap), p, steps)


def closest(
    a1111: A1111, config: Any, model_wrap: Any, ours: list[float], steps: int
) -> dict[str, float]:
    found = {}
    for scheduler in a1111.schedulers.schedulers:
        if scheduler.function is None:
            continue
        try:
            levels = a1111_levels(a1111, config, model_wrap, scheduler.label, steps)
        except Exception:  # Beta needs scipy: a type that cannot run here is left out
            continue
        found[scheduler.label] = difference(unique_levels(levels), ours)
    return dict(sorted(found.items(), key=lambda item: item[1]))


def check_levels(a1111: A1111, kdiffusion: Path, steps: int, given: dict[str, Any]) -> None:
    import diffusers
    import torch

    from genai_tui.engine.schedulers import SAMPLERS, build_scheduler, infotext_names

    torch.set_num_threads(1)
    sampling = a1111.schedulers.k_diffusion.sampling
    external = run_parts(
        kdiffusion / "k_diffusion" / "external.py",
        {"DiscreteSchedule"},
        {"torch": torch, "nn": torch.nn, "math": math, "sampling": sampling},
    )
    # ldm's "linear" beta schedule with SD 1.5's linear_start/linear_end (v1-inference.yaml);
    # A1111 wraps it in k-diffusion's CompVisDenoiser, quantize off (its default).
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2
    cumprod = torch.cumprod(1.0 - betas, dim=0).float()
    model_wrap = external["DiscreteSchedule"](((1 - cumprod) / cumprod) ** 0.5, False)
    config = diffusers.PNDMScheduler.from_config(given).config
    by_name = a1111.samplers["all_samplers_map"]
    spacing = given.get("timestep_spacing", "each class's default")
    print(f"\n{steps} steps, timestep_spacing {spacing}: largest relative difference of levels")
    for entry in SAMPLERS:
        sampler, schedule = infotext_names(entry.name)
        scheduler = build_scheduler(entry.name, config)
        scheduler.set_timesteps(steps)
        if sampler not in a1111.k_names:
            theirs = sampler if entry.a1111 else "PLMS"  # PLMS: PNDM's nearest relative
            t = a1111.get_timesteps(
                SimpleNamespace(config=by_name[theirs]),
                SimpleNamespace(extra_generation_params={}),
                steps,
            )
            ours_t = sorted({int(x) for x in scheduler.timesteps})
            a_t = sorted(int(x) for x in t)
            print(
                f"{entry.name:<20} timesteps equal A1111 {theirs}'s: {ours_t == a_t} "
                f"(ours {ours_t[0]}, {ours_t[1]} .. {ours_t[-1]}; A1111 {a_t[0]}, {a_t[1]} .. "
                f"{a_t[-1]}; A1111 gives {theirs} no schedule type)"
            )
            continue
        ours = unique_levels(scheduler.sigmas)
        found = closest(a1111, by_name[sampler], model_wrap, ours, steps)
        ranked = ", ".join(f"{k} {v:.1%}" for k, v in list(found.items())[:3])
        line = f"{entry.name:<20} written {schedule}: {found[schedule]:.1%}; closest: {ranked}"
        options = by_name[sampler].options
        if options.get("discard_next_to_last_sigma"):
            # A1111 always drops this sampler's next-to-last level; diffusers' KDPM2 does not.
            kept = by_name[sampler]._replace(
                options={**options, "discard_next_to_last_sigma": False}
            )
            without = closest(a1111, kept, model_wrap, ours, steps)
            line += (
                f" (A1111 drops this sampler's next-to-last level; without that drop: "
                f"{without[schedule]:.1%})"
            )
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webui", type=Path, required=True)
    parser.add_argument("--kdiffusion", type=Path)
    parser.add_argument("--steps", type=int, nargs="+", default=[20])
    parser.add_argument(
        "--scheduler-config",
        type=Path,
        help="a model's scheduler_config.json (default: SD 1.5's, which has no timestep_spacing)",
    )
    args = parser.parse_args()

    a1111 = read_a1111(args.webui, args.kdiffusion)
    ok = check_names(a1111)
    ok = check_fixture(a1111) and ok
    given = SD15_SCHEDULER
    if args.scheduler_config is not None:
        given = json.loads(args.scheduler_config.read_text())
    if args.kdiffusion is not None:
        for steps in args.steps:
            check_levels(a1111, args.kdiffusion, steps, given)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
