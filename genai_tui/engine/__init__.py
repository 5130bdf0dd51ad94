"""The engine: torch, diffusers, transformers and peft. Knows nothing of sessions or the UI.

Modules that only describe work (params, schedulers, errors) import no torch, so the UI can show
names and validate input before the heavy libraries are loaded on the worker thread.
"""

import os

# Library chatter (torchvision fallbacks, deprecations) would print over the TUI and into the
# CLI's output; our own events say what happens. Set before transformers is first imported.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
