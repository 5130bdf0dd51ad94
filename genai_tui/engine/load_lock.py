"""One model load at a time in a process.

diffusers and transformers build a model's modules under accelerate's `init_empty_weights`,
which swaps `torch.nn.Module.register_parameter` for the whole process while it runs. Two loads
in two threads at once (the daemon runs one worker thread per device) then leave modules of the
other load with parameters on the meta device: "Cannot copy out of meta tensor". Loading is
disk-bound and short beside the jobs, so loads take turns; generating and training do not.
"""

from __future__ import annotations

import threading

loading = threading.RLock()
"""Held around every `from_pretrained` / `from_single_file` in genai-tui."""
