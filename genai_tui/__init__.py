"""genai-tui: personalized image generation from a terminal."""

__version__ = "0.1.0"
