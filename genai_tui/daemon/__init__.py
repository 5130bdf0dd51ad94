"""The daemon: one process that owns the GPU and runs every genai-tui's jobs."""
