"""A picture drawn at its own aspect ratio, as large as its box allows, centred in it.

textual-image draws a picture over its widget's whole box, whatever the picture's shape: a square
image in a tall pane came out tall. Picture holds the textual-image widget and gives it the
box of whole cells that has the picture's shape (ui/images.fit_cells), again whenever its own
size or the picture changes. The same for Kitty, Sixel, half-cell and Unicode drawing.
"""

from __future__ import annotations

from PIL import Image
from textual.app import ComposeResult
from textual.containers import Container
from textual.css.query import NoMatches
from textual.css.scalar import Scalar
from textual.geometry import Region
from textual.widget import Widget

from genai_tui.ui.images import ImageDrawing, cell_pixels, fit_cells


class Picture(Container):
    """An image at its own aspect ratio, centred; set `image` to show another (None: nothing)."""

    DEFAULT_CSS = """
    Picture { align: center middle; }
    """

    def __init__(
        self, drawing: ImageDrawing, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._drawing = drawing
        self._picture: Image.Image | None = None

    def compose(self) -> ComposeResult:
        if self._drawing.widget_class is not None:
            yield self._drawing.widget_class(None, classes="picture-view")

    def drawing_loaded(self) -> None:
        """textual-image was loaded after this picture was made: draw it now."""
        if self._view() is None and self._drawing.widget_class is not None:
            self.mount(self._drawing.widget_class(None, classes="picture-view"))
            self.call_after_refresh(self.__setattr__, "image", self._picture)

    @property
    def image(self) -> Image.Image | None:
        """The picture shown."""
        return self._picture

    @image.setter
    def image(self, picture: Image.Image | None) -> None:
        self._picture = picture
        view = self._view()
        if view is not None:
            self._fit(view)
            _set_image_without_layout(view, picture)

    @property
    def drawn_cells(self) -> tuple[int, int]:
        """(columns, rows) the picture is drawn over; (0, 0) with none."""
        view = self._view()
        return (view.size.width, view.size.height) if view and self._picture else (0, 0)

    def on_mount(self) -> None:
        self.image = self._picture

    def on_resize(self) -> None:
        view = self._view()
        if view is not None:
            self._fit(view)

    def _view(self) -> Widget | None:
        try:
            return self.query_one(".picture-view")
        except NoMatches:
            return None  # not composed yet: on_mount shows the picture

    def _fit(self, view: Widget) -> None:
        box = (self.content_size.width, self.content_size.height)
        size = self._picture.size if self._picture is not None else (0, 0)
        columns, rows = fit_cells(size, box, cell_pixels())
        if (view.styles.width, view.styles.height) != (
            Scalar.from_number(columns),
            Scalar.from_number(rows),
        ):
            # Setting a size, even the same one, lays the whole screen out again: per
            # preview frame that was what a typist felt while generating.
            view.styles.width = columns
            view.styles.height = rows


def _set_image_without_layout(view: Widget, picture: Image.Image | None) -> None:
    """Give textual-image's widget another picture, repainting it only.

    Its setter lays the whole screen out again, for a widget whose size _fit fixed in cells:
    once per preview frame that was the longest wait a typist had while generating (tens of ms,
    bench/daemon_bench.py keys). Its own refresh is shadowed for the call, not its internals.
    """
    refresh = view.refresh

    def repaint(*regions: Region, layout: bool = False, **options: bool) -> Widget:
        return refresh(*regions, **options)

    view.refresh = repaint  # type: ignore[method-assign]
    try:
        view.image = picture  # type: ignore[attr-defined]
    finally:
        del view.refresh
