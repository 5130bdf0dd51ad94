"""The daemon's wire: every job and event arrives as it was sent, and bad lines get one clear
message instead of taking the daemon down."""

from __future__ import annotations

import ast
import dataclasses
import math
import typing
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from genai_tui.daemon import codec
from genai_tui.daemon.codec import (
    PREVIEW_SIDE,
    decode,
    encode,
    event_from_wire,
    event_to_wire,
    job_from_wire,
    job_to_wire,
)
from genai_tui.engine.lora.params import TrainParams
from genai_tui.engine.params import GenerateParams, LoadOptions, LoraWeight
from genai_tui.jobs import events
from genai_tui.jobs.events import Event, LossCurve, Progress, TrainStep, ValidationImages
from genai_tui.jobs.specs import (
    ExportCheckpointJob,
    GenerateJob,
    Job,
    LoadModelJob,
    ScoreJob,
    SweepJob,
    TrainJob,
)
from genai_tui.session.models import LoraRecord, LoraUse
from genai_tui.session.store import SessionStore
from tests.test_import_hygiene import HEAVY, modules_after_import
from tests.unit.test_session_store import make_record

# --- samples: every field away from its default, so each one is seen to travel ---------------

PARAMS = GenerateParams(
    prompt="a lighthouse at dusk, <lora:style:0.8>",
    negative_prompt="blurry",
    steps=30,
    cfg_scale=6.5,
    scheduler="Euler a",
    clip_skip=2,
    seed=1234,
    width=512,
    height=768,
    batch_size=3,
    loras=(LoraWeight("style", 0.8), LoraWeight("/data/loras/ink.safetensors", -0.25)),
)
LOAD = LoadOptions(
    device="cuda",
    dtype="fp16",
    attention_slicing=True,
    vae_tiling=True,
    cpu_offload=True,
    single_file_config="/models/sd15-config",
    taesd="/models/taesd",
)
TRAIN = TrainParams(
    rank=16,
    alpha=8.0,
    lora_layers="transformer",
    learning_rate=5e-5,
    lr_schedule="cosine",
    warmup_steps=10,
    steps=300,
    batch_size=2,
    gradient_accumulation=2,
    resolution=512,
    center_crop=False,
    random_flip=True,
    repeats=3,
    instance_prompt="a photo of sks dog",
    mixed_precision="bf16",
    gradient_checkpointing=True,
    snr_gamma=5.0,
    noise_offset=0.05,
    max_grad_norm=0.5,
    weight_decay=0.0,
    seed=7,
    validation_prompts=("sks dog on a beach", "sks dog in snow"),
    validation_seeds=(3, 4, 5),
    validation_every=50,
    validation_steps=12,
    checkpoint_every=100,
)


def sample_jobs(store: SessionStore) -> list[Job]:
    return [
        GenerateJob(
            PARAMS,
            "runwayml/stable-diffusion-v1-5",
            store,
            LOAD,
            "gen1",
            False,
            "clip-b32",
            8,
            2,
            "vae",
            "pickscore",
            "/models/pickscore",
            "/models/clip-h-processor",
        ),
        LoadModelJob("/models/sd15.safetensors", LOAD, "load1"),
        ScoreJob(
            store,
            "a red circle",
            "clip-l14",
            ("images/0001-1.png",),
            4,
            "score1",
            "pickscore",
            "/models/pickscore",
            "/models/clip-h-processor",
        ),
        TrainJob(TRAIN, "/data/dogs", "dog", store, "sd15", "runs/dog-1/checkpoint-100", LOAD),
        SweepJob(
            PARAMS,
            ("cfg=5-9 (+2)", "seed=1,2", "sampler=Euler a,DDIM"),
            "sd15",
            store,
            "sweep-1",
            LOAD,
            "pickscore",
            "clip-l14",
            8,
            True,
            "taesd",
            "sweep1",
            "/models/pickscore",
            "/models/clip-h-processor",
        ),
        ExportCheckpointJob("dog-20260101-120000", 200, store, "dog-best", LOAD, "export1"),
    ]


def preview(colour: str, size: tuple[int, int] = (64, 64)) -> Image.Image:
    return Image.new("RGB", size, colour)


RECORD = make_record(
    file="images/0001-42.png",
    clip_score=27.5,
    clip_model="clip-b32",
    loras=[LoraUse(name="style", weight=0.8, hash="abc123def456")],
    versions={"diffusers": "0.42.0"},
)
OTHER = make_record(file="images/0002-43.png", seed=43, hidden=True)
LORA = LoraRecord(
    name="dog",
    folder="loras/dog",
    webui_file="loras/dog/dog.safetensors",
    diffusers_file="loras/dog/pytorch_lora_weights.safetensors",
    base_model="sd15",
    rank=16,
    alpha=8.0,
    steps=300,
    final_loss=0.0812,
)

EVENTS: list[Event] = [
    Event(""),
    events.JobStarted("j1", "generate 3 images: a lighthouse"),
    events.ModelLoading("j1", "loading unet", 3, 7),
    events.ModelLoaded("j1", "sd15", "Stable Diffusion 1.5", "cuda", "float16", 4.25),
    Progress("j1", 12, 150, 3.5, (preview("red"), preview("blue"))),
    events.ImageReady("j1", RECORD, Path("/srv/sessions/work/images/0001-42.png")),
    events.JobWarning("j1", "the prompt was cut at 77 tokens"),
    events.JobFinished("j1", 12.5),
    events.JobCancelled("j1"),
    events.JobFailed("j1", "out_of_memory", "CUDA ran out", "try --vae-tiling", "Traceback\n  x"),
    events.ClipLoaded("j2", "clip-b32", "CLIP ViT-B/32", "cuda", "float16", 1.5),
    events.ImagesScored(
        "j2", (RECORD, OTHER), "a red circle", {"a.png": 31.5, "b.png": 22.0}, "c", "pickscore"
    ),
    events.BestOfPicked("j1", (RECORD,), (OTHER,)),
    events.FilesSkipped("j3", "2 files are not images", ("notes.md", "broken.jpg")),
    events.TrainingStarted("j3", "dog-1", "dog", 797184, 860000000, 0, 300, 12, 512, "cuda", 2),
    TrainStep("j3", "dog-1", 10, 300, 0.1234, 5e-5, 2.5, 116.0, 1),
    LossCurve("j3", "dog-1", (1, 2, 3), (0.5, 0.25, 0.125), 300),
    ValidationImages("j3", "dog-1", 50, (RECORD, OTHER), (Path("/s/a.png"), Path("/s/b.png"))),
    events.CheckpointSaved("j3", "dog-1", 100, Path("/s/runs/dog-1/checkpoint-100")),
    events.LoraReady("j3", LORA, Path("/s/loras/dog")),
    events.SweepCell("j4", "sweep-1", 3, 12, RECORD, Path("/s/images/0001-42.png"), True),
    events.GridReady(
        "j4",
        "sweep-1",
        (Path("/s/grids/a-1.png"), Path("/s/grids/a-2.png")),
        Path("/s/grids/a.json"),
    ),
]


def event_classes() -> set[type[Event]]:
    found, waiting = set(), [Event]
    while waiting:
        cls = waiting.pop()
        if cls.__module__.startswith("genai_tui."):
            found.add(cls)
        waiting.extend(cls.__subclasses__())
    return found


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore.open(tmp_path / "sessions", "work")


def open_store(root: Path, name: str) -> SessionStore:
    return SessionStore.open(root, name)


def job_over_wire(job: Job) -> Job:
    return job_from_wire(decode(encode(job_to_wire(job))), open_store)


def event_over_wire(event: Event) -> Event:
    return event_from_wire(decode(encode(event_to_wire(event))))


def same_value(sent: Any, got: Any) -> bool:
    if isinstance(sent, tuple):
        return len(sent) == len(got) and all(map(same_value, sent, got))
    if isinstance(sent, Image.Image):
        return (sent.mode, sent.size, sent.tobytes()) == (got.mode, got.size, got.tobytes())
    if isinstance(sent, float) and math.isnan(sent):
        return math.isnan(got)
    return bool(sent == got) and type(sent) is type(got)


def assert_same_event(sent: Event, got: Event) -> None:
    assert type(got) is type(sent)
    for item in dataclasses.fields(sent):  # all of them: previews and detail are compare=False
        assert same_value(getattr(sent, item.name), getattr(got, item.name)), item.name


# --- jobs --------------------------------------------------------------------------------------


def test_the_samples_cover_every_job_kind_and_set_every_field(store: SessionStore) -> None:
    assert {type(job) for job in sample_jobs(store)} == set(typing.get_args(Job))
    for sample in (PARAMS, LOAD, TRAIN):
        unchanged = [
            f.name for f in dataclasses.fields(sample) if getattr(sample, f.name) == f.default
        ]
        assert unchanged == [], f"set these in the {type(sample).__name__} sample"


@pytest.mark.parametrize("index", range(6))
def test_every_job_kind_arrives_as_sent(store: SessionStore, index: int) -> None:
    job = sample_jobs(store)[index]
    got = job_over_wire(job)
    assert type(got) is type(job)
    assert got == job  # every field but the session
    assert got.id == job.id
    if isinstance(got, GenerateJob | ScoreJob | TrainJob | SweepJob | ExportCheckpointJob):
        assert got.session.path == store.path


def test_a_session_travels_as_its_root_and_name(store: SessionStore) -> None:
    opened: list[tuple[Path, str]] = []

    def recording(root: Path, name: str) -> SessionStore:
        opened.append((root, name))
        return store

    wire = job_to_wire(ScoreJob(store))
    assert wire["session"] == {"root": str(store.path.parent), "name": "work"}
    got = job_from_wire(decode(encode(wire)), recording)
    assert isinstance(got, ScoreJob)
    assert got.session is store
    assert opened == [(store.path.parent, "work")]


def test_a_session_opened_by_a_relative_root_is_sent_by_its_whole_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    wire = job_to_wire(ScoreJob(SessionStore.open(Path("sessions"), "work")))
    assert wire["session"]["root"] == str(tmp_path / "sessions")


def test_training_knobs_travel_in_the_form_checkpoints_keep(store: SessionStore) -> None:
    assert job_to_wire(sample_jobs(store)[3])["params"] == TRAIN.to_json()


def test_a_job_from_an_older_genai_tui_takes_defaults_for_what_it_did_not_know(
    store: SessionStore,
) -> None:
    wire = job_to_wire(GenerateJob(PARAMS, None, store, keep=3))
    del wire["keep"], wire["params"]["clip_skip"]
    got = job_over_wire_from(wire)
    assert isinstance(got, GenerateJob)
    assert (got.keep, got.params.clip_skip, got.params.steps) == (1, 1, 30)


def job_over_wire_from(wire: dict[str, Any]) -> Job:
    return job_from_wire(decode(encode(wire)), open_store)


def test_the_tags_never_collide_with_a_field(store: SessionStore) -> None:
    for job in sample_jobs(store):
        assert "kind" not in {f.name for f in dataclasses.fields(job)}
    for cls in event_classes():
        assert "type" not in {f.name for f in dataclasses.fields(cls)}


# --- events ------------------------------------------------------------------------------------


def test_the_samples_cover_every_event_type() -> None:
    assert {type(event) for event in EVENTS} == event_classes()


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: type(event).__name__)
def test_every_event_arrives_as_sent(event: Event) -> None:
    assert_same_event(event, event_over_wire(event))


def test_an_event_type_made_later_needs_no_registering() -> None:
    @dataclasses.dataclass(frozen=True)
    class KettleBoiled(Event):
        litres: float
        where: Path

    sent = KettleBoiled("j", 1.5, Path("/kitchen"))
    assert_same_event(sent, event_over_wire(sent))


def test_a_diverged_loss_arrives_as_nan_not_as_an_unsendable_line() -> None:
    step = TrainStep("j3", "dog-1", 10, 300, math.nan, 5e-5, 0.0, math.inf, 1)
    assert_same_event(step, event_over_wire(step))


def test_a_file_name_that_is_not_utf8_arrives_unchanged() -> None:
    name = b"caf\xe9.png".decode("utf-8", "surrogateescape")  # as os.listdir gives it
    sent = ValidationImages("j", "r", 1, (RECORD,), (Path("/s") / name,))
    assert_same_event(sent, event_over_wire(sent))


def test_a_large_preview_arrives_shrunk_to_fit_the_preview_square() -> None:
    got = event_over_wire(Progress("j", 1, 2, 0.5, (preview("orange", (512, 384)),)))
    assert isinstance(got, Progress)
    (image,) = got.previews
    assert image.size == (PREVIEW_SIDE, PREVIEW_SIDE * 3 // 4)
    assert image.convert("RGB").getcolors() == [(image.width * image.height, (255, 165, 0))]


# --- what the package never does ---------------------------------------------------------------

UNSAFE = {"pickle", "_pickle", "cPickle", "cloudpickle", "dill", "marshal", "shelve", "copyreg"}


def test_the_daemon_never_unpickles() -> None:
    """No pickle, marshal or shelve in any module of the daemon package: imported, or named
    for importlib."""
    folder = Path(codec.__file__).parent
    for source in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            named: set[str] = set()
            if isinstance(node, ast.Import):
                named = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                named = {(node.module or "").split(".")[0]}
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                named = {node.value}
            assert not named & UNSAFE, f"{source.name}:{getattr(node, 'lineno', '?')}"


def test_the_codec_loads_no_ml_library_and_no_textual() -> None:
    loaded = modules_after_import("genai_tui.daemon.codec")
    assert [name for name in (*HEAVY, "textual") if name in loaded] == []
