"""The layers keep their promises at import time, checked in a fresh interpreter each."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "diffusers", "transformers", "peft", "accelerate")


def modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "module",
    [
        "genai_tui.cli",
        "genai_tui.ui.app",
        "genai_tui.jobs.worker",
        "genai_tui.jobs.specs",
        "genai_tui.jobs.events",
        "genai_tui.engine.params",
        "genai_tui.engine.schedulers",
        "genai_tui.engine.lora.folder",
        "genai_tui.ui.data_scan",
        "genai_tui.engine.safetensors_check",
        "genai_tui.session.store",
    ],
)
def test_light_modules_load_no_ml_library(module: str) -> None:
    loaded = modules_after_import(module)
    assert not [name for name in HEAVY if name in loaded]


@pytest.mark.parametrize(
    "module", ["genai_tui.engine.generate", "genai_tui.jobs.worker", "genai_tui.session.store"]
)
def test_headless_layers_never_load_textual(module: str) -> None:
    assert "textual" not in modules_after_import(module)


def test_the_first_frame_loads_nothing_drawn_after_it() -> None:
    """Making the app (what runs before its first frame) loads no session models (pydantic),
    images (PIL, textual-image), events or queue: each cost the first frame tens of ms."""
    code = (
        "import sys, tempfile\n"
        "from pathlib import Path\n"
        "from genai_tui.ui.app import GenaiApp\n"
        "from genai_tui.ui.workspace import AppOptions\n"
        "GenaiApp(AppOptions(sessions_root=Path(tempfile.mkdtemp()), images='halfcell'))\n"
        "print('\\n'.join(sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(result.stdout.split())
    later = ["pydantic", "PIL", "textual_image", "sqlite3", "genai_tui.jobs.events"]
    assert [name for name in later if name in loaded] == []
