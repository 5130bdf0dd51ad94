"""Small dialogs: a yes/no question and a name to type."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 64; height: auto; border: thick $accent; background: $surface;
                     padding: 1 2; }}
{name} Horizontal {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} Button {{ margin-left: 1; }}
{name} .error {{ color: $error; }}
"""


class ConfirmDialog(ModalScreen[bool]):
    """Asks a question; y/enter confirms, n/escape declines."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self._question = question
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._question)
            with Horizontal():
                yield Button("No", id="no")
                yield Button(self._yes, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class NameDialog(ModalScreen[str | None]):
    """Asks for a name; `check` returns an error message for a bad one, or None."""

    DEFAULT_CSS = DIALOG_CSS.format(name="NameDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="name.cancel")]

    def __init__(self, title: str, check: object = None, value: str = "") -> None:
        super().__init__()
        self._title = title
        self._check = check
        self._value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title)
            yield Input(self._value, id="name")
            yield Label("", id="name-error", classes="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        problem = self._check(name) if callable(self._check) else None
        if problem:
            self.query_one("#name-error", Label).update(str(problem))
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
