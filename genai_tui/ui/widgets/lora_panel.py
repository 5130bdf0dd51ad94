"""The LoRA part of the parameter panel: a weight slider per LoRA, and a field to add a file."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label

from genai_tui.engine.errors import BadInput
from genai_tui.engine.params import LoraWeight
from genai_tui.engine.safetensors_check import check_lora_file
from genai_tui.ui.widgets.lora_slider import DEFAULT_WEIGHT, LoraSlider
from genai_tui.ui.widgets.slider import Slider


def is_file_entry(name_or_path: str) -> bool:
    """Whether a weights entry names a .safetensors file rather than a session LoRA."""
    return name_or_path.lower().endswith(".safetensors")


def lora_file_problem(path: Path) -> str | None:
    """Why `path` is not a LoRA file we can load (None when it looks like one); reads its header."""
    try:
        check_lora_file(path)
    except BadInput as error:
        return str(error)
    return None


class LoraPanel(Vertical):
    """The session's LoRAs and added files, each with a weight (0 = not applied)."""

    DEFAULT_CSS = """
    LoraPanel { height: auto; }
    LoraPanel #lora-title { color: $text-muted; }
    LoraPanel #lora-sliders { height: auto; }
    LoraPanel #lora-error { color: $error; height: auto; }
    LoraPanel #lora-error.-empty { display: none; }
    """

    class Changed(Message):
        """A LoRA weight changed, or a LoRA was added."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # The source of truth; sliders mirror it. Entries for LoRAs not shown now (a session
        # not yet listed) are kept, so loading a state before its LoRA list loses nothing.
        self._weights: dict[str, float] = {}
        self._available: list[str] = []

    def compose(self) -> ComposeResult:
        yield Label("", id="lora-title")
        yield Vertical(id="lora-sliders")
        yield Input(
            placeholder="add a LoRA file: path/to/x.safetensors",
            id="lora-path",
            tooltip="A .safetensors LoRA, diffusers or kohya (A1111) format; Enter adds it",
            compact=True,
        )
        yield Label("", id="lora-error", classes="-empty")

    def on_mount(self) -> None:
        self._sync()

    # -- what the app asks ---------------------------------------------------------------------

    @property
    def shown(self) -> list[str]:
        """The entries with a slider: session LoRAs (oldest first), then added files."""
        files = [k for k in self._weights if is_file_entry(k) and k not in self._available]
        return [*self._available, *files]

    def selected(self) -> tuple[LoraWeight, ...]:
        """The LoRAs to apply: those shown with a non-zero weight."""
        return tuple(
            LoraWeight(name, self._weights[name]) for name in self.shown if self._weights.get(name)
        )

    def weights(self) -> dict[str, float]:
        """What the editor state saves: non-zero weights, and every added file (even at 0)."""
        return {
            name: self._weights.get(name, 0.0)
            for name in self.shown
            if self._weights.get(name) or is_file_entry(name)
        }

    def load(self, weights: dict[str, float], available: list[str] | None = None) -> None:
        """Show these weights; `available` replaces the session's LoRA names when given."""
        self._weights = dict(weights)
        if available is not None:
            self._available = list(available)
        self._sync()

    def refresh_loras(self, available: list[str]) -> None:
        """The session's LoRAs changed (a new one landed): add their sliders, keep weights."""
        self._available = list(available)
        self._sync()

    def use(self, name: str, weight: float, instead_of: list[str]) -> None:
        """Apply session LoRA `name` at `weight` and switch `instead_of` off (its siblings)."""
        self._weights.update(dict.fromkeys(instead_of, 0.0))
        self._weights[name] = weight
        self._sync()
        self.post_message(self.Changed())

    def add_file(self, path: Path, weight: float = DEFAULT_WEIGHT) -> str | None:
        """Add a LoRA file with its own slider, switched on; returns the problem, or None."""
        path = path.expanduser()
        problem = lora_file_problem(path)
        if problem is None:
            key = str(path.resolve())
            self._weights[key] = self._weights.get(key) or weight
            self._sync()
            self.post_message(self.Changed())
        self._show_error(problem)
        return problem

    # -- events ----------------------------------------------------------------------------------

    def on_slider_changed(self, event: Slider.Changed) -> None:
        event.stop()
        if isinstance(event.slider, LoraSlider):
            self._weights[event.slider.name_or_path] = event.value
            self.post_message(self.Changed())

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()  # typing a path is not a parameter change
        self._show_error(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() and self.add_file(Path(event.value.strip())) is None:
            event.input.value = ""

    # -- drawing ---------------------------------------------------------------------------------

    def _sync(self) -> None:
        """Make the sliders match `shown`, keeping the ones already there (and their focus)."""
        if not self.is_mounted:
            return
        box = self.query_one("#lora-sliders", Vertical)
        wanted = self.shown
        have = {s.name_or_path: s for s in box.query(LoraSlider)}
        for name, slider in have.items():
            if name not in wanted:
                slider.remove()
            else:
                slider.set_value(self._weights.get(name, 0.0))
        new = [LoraSlider(n, self._weights.get(n, 0.0)) for n in wanted if n not in have]
        if new:
            box.mount_all(new)
        title = "LoRA  (space: on/off)" if wanted else "LoRA: none in this session yet"
        self.query_one("#lora-title", Label).update(title)

    def _show_error(self, problem: str | None) -> None:
        label = self.query_one("#lora-error", Label)
        label.update(problem or "")
        label.set_class(not problem, "-empty")
