"""The live loss curve of a training run, drawn in braille dots: raw loss dim, smoothed bright.

Steps can arrive many times a second; adding a point only marks the plot dirty and a timer
redraws it at most REDRAW_INTERVAL apart, through `offer` (ui/pacing: while the user types, with
a key). Drawing bins the points into pixel columns first, so
its cost follows the plot's width, not the length of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from rich.text import Text
from textual.widget import Widget

REDRAW_INTERVAL = 0.2
"""Seconds between redraws while points arrive (5 a second)."""

SMOOTHING = 0.9
"""EMA factor of the smoothed curve, as TensorBoard's slider: 0 none, 0.99 very smooth."""

RAW_STYLE = "grey50"
SMOOTH_STYLE = "bold bright_cyan"
LABEL_WIDTH = 9

# Braille dot bits by (column, row) inside one 2x4 cell.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


def smooth(values: list[float], factor: float = SMOOTHING) -> list[float]:
    """The debiased exponential moving average of `values` (the first value starts the curve)."""
    out: list[float] = []
    average = 0.0
    for count, value in enumerate(values, start=1):
        average = factor * average + (1 - factor) * value
        out.append(average / (1 - factor**count) if factor < 1 else value)
    return out


class BrailleCanvas:
    """A width x height grid of cells, each 2x4 dots; dots carry a layer (0 raw, 1 smooth)."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self._bits = [[0] * width for _ in range(height)]
        self._smooth = [[False] * width for _ in range(height)]

    def dot(self, x: int, y: int, smooth_layer: bool = False) -> None:
        """Set the dot at pixel (x, y), origin top left; outside the canvas is ignored."""
        if 0 <= x < self.width * 2 and 0 <= y < self.height * 4:
            row, col = y // 4, x // 2
            self._bits[row][col] |= _DOTS[x % 2][y % 4]
            if smooth_layer:
                self._smooth[row][col] = True

    def line(self, x0: int, y0: int, x1: int, y1: int, smooth_layer: bool = True) -> None:
        """A straight run of dots from (x0, y0) to (x1, y1)."""
        count = max(abs(x1 - x0), abs(y1 - y0))
        for i in range(count + 1):
            t = i / count if count else 0.0
            self.dot(round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t), smooth_layer)

    def row(self, index: int) -> Text:
        """One line of cells; a cell holding any smooth dot is drawn in the smooth style."""
        text = Text()
        for bits, is_smooth in zip(self._bits[index], self._smooth[index], strict=True):
            text.append(chr(0x2800 + bits), SMOOTH_STYLE if is_smooth else RAW_STYLE)
        return text


def draw_loss(
    steps: list[int],
    losses: list[float],
    smoothed: list[float],
    first_step: int,
    last_step: int,
    width: int,
    height: int,
) -> Text:
    """The plot as text: a header line, `height - 2` plot rows with min/max labels, a step axis."""
    lines = Text()
    if not steps:
        lines.append("loss: waiting for the first step…", style="dim")
        return lines
    plot_width = max(4, width - LABEL_WIDTH - 1)
    plot_height = max(1, height - 2)
    lines.append(f"loss {losses[-1]:.4f}", style="bold")
    lines.append(f"  smoothed {smoothed[-1]:.4f}", style=SMOOTH_STYLE)
    lines.append(f"  step {steps[-1]}/{last_step}\n", style="dim")
    low, high = min(losses), max(losses)
    if high - low < 1e-12:
        low, high = low - 0.5 * (abs(low) or 1), high + 0.5 * (abs(high) or 1)
    x_span = max(1, last_step - first_step)
    pixels_x, pixels_y = plot_width * 2, plot_height * 4

    def to_x(step: int) -> int:
        return round((step - first_step) / x_span * (pixels_x - 1))

    def to_y(value: float) -> int:
        return round((high - value) / (high - low) * (pixels_y - 1))

    canvas = BrailleCanvas(plot_width, plot_height)
    # Bin by pixel column: every distinct raw dot, and the last smoothed value of the column.
    raw: dict[int, set[int]] = {}
    curve: dict[int, int] = {}
    for step, loss, average in zip(steps, losses, smoothed, strict=True):
        x = to_x(step)
        raw.setdefault(x, set()).add(to_y(loss))
        curve[x] = to_y(average)
    for x, ys in raw.items():
        for y in ys:
            canvas.dot(x, y)
    points = sorted(curve.items())
    if len(points) == 1:
        canvas.dot(*points[0], smooth_layer=True)
    for (xa, ya), (xb, yb) in pairwise(points):
        canvas.line(xa, ya, xb, yb)
    for index in range(plot_height):
        if index == 0:
            label = f"{high:.4g}"
        elif index == plot_height - 1:
            label = f"{low:.4g}"
        else:
            label = ""
        lines.append(f"{label:>{LABEL_WIDTH}}┤" if label else " " * LABEL_WIDTH + "│", "dim")
        lines.append_text(canvas.row(index))
        lines.append("\n")
    left, right = f"step {first_step}", f"{last_step}"
    gap = max(1, plot_width - len(left) - len(right))
    lines.append(" " * (LABEL_WIDTH + 1) + left + " " * gap + right, style="dim")
    return lines


class LossPlot(Widget):
    """The loss of every step so far and its smoothed curve, against the run's step range."""

    DEFAULT_CSS = """
    LossPlot { height: 1fr; min-height: 6; }
    """

    def __init__(
        self, *, id: str | None = None, offer: Callable[[Callable[[], None]], None] | None = None
    ) -> None:
        super().__init__(id=id)
        self._offer = offer or (lambda draw: draw())
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self._average = 0.0
        self._first = 0
        self._total = 1
        self._dirty = False

    def on_mount(self) -> None:
        self.set_interval(REDRAW_INTERVAL, self._redraw_if_dirty)

    def reset(self, first_step: int, total_steps: int) -> None:
        """Start a new curve over steps first_step..total_steps (a resumed run starts later)."""
        self.steps.clear()
        self.losses.clear()
        self.smoothed.clear()
        self._average = 0.0
        self._first = first_step
        self._total = max(total_steps, first_step + 1)
        self.refresh()

    def add(self, step: int, loss: float) -> None:
        """One step's loss; the plot redraws on its next tick."""
        self.steps.append(step)
        self.losses.append(loss)
        self._average = SMOOTHING * self._average + (1 - SMOOTHING) * loss
        self.smoothed.append(self._average / (1 - SMOOTHING ** len(self.losses)))
        self._total = max(self._total, step)
        self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if self._dirty:
            self._offer(self._redraw)

    def _redraw(self) -> None:
        self._dirty = False
        self.refresh()

    def render(self) -> Text:
        return draw_loss(
            self.steps,
            self.losses,
            self.smoothed,
            self._first,
            self._total,
            self.size.width,
            self.size.height,
        )
