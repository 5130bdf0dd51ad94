"""The command palette's own commands: every keyed action of the screen and the app, searchable,
and the few actions that have no key. Each runs an action; nothing reaches into a widget."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.screen import Screen

EXTRA_ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Rescore all", "Score every image against its own prompt again (CLIP)", "rescore"),
    ("Sort gallery", "By score / by time", "toggle_order"),
    (
        "Gallery scorer",
        "Sort by CLIP score (text agreement) / PickScore (preference)",
        "cycle_scorer",
    ),
    ("Show hidden images", "Show or hide what best-of set aside", "toggle_hidden"),
)
"""(title, help, screen action) for what the palette offers without a key."""


@dataclass(frozen=True)
class PaletteAction:
    """One command: its title and help, and the action it runs on `node`."""

    title: str
    help: str
    action: str
    node: DOMNode


def palette_actions(screen: Screen[object]) -> list[PaletteAction]:
    """The screen's and the app's bindings with a description (not quit), then the extras."""
    found: list[PaletteAction] = []
    for node in (screen, screen.app):
        for binding in node.BINDINGS:
            if isinstance(binding, Binding) and binding.description and binding.id != "quit":
                help_text = binding.tooltip or binding.description
                found.append(PaletteAction(binding.description, help_text, binding.action, node))
    for title, help_text, action in EXTRA_ACTIONS:
        if hasattr(screen, f"action_{action}"):
            found.append(PaletteAction(title, help_text, action, screen))
    return found


class MainCommands(Provider):
    """Every action of the screen the palette was opened on."""

    def _commands(self) -> list[PaletteAction]:
        return palette_actions(self.screen)

    async def _run(self, command: PaletteAction) -> None:
        await self.app.run_action(command.action, command.node)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, partial(self._run, command), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    partial(self._run, command),
                    help=command.help,
                )
