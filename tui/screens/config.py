"""The running configuration (`show running-config`, secrets masked by the engine) and
what the last reload did: applied with a summary of changes, or refused with errors."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from engine.events import ConfigReloaded, ConfigReloadFailed
from engine.store import ChangeSet
from tui.screens.base import ConsoleScreen


def reload_text(event: ConfigReloaded | ConfigReloadFailed | None, path: object) -> Text:
    if event is None:
        return Text(f"Loaded at start from {path or '(no file)'}; no reload since.")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.at))
    if isinstance(event, ConfigReloadFailed):
        text = Text(f"Reload of {event.file} REFUSED at {when}", style="bold red")
        text.append("; the running configuration below is the previous one.\n")
        for error in event.errors:
            text.append(f"  {error}\n", style="red")
        return text
    text = Text(f"Reloaded {event.file} at {when}", style="bold green")
    text.append("\n")
    for line in event.summary or ("no changes",):
        text.append(f"  {line}\n")
    for warning in event.warnings:
        text.append(f"  warning: {warning}\n", style="yellow")
    return text


class ConfigScreen(ConsoleScreen):
    NAME = "config"
    DEFAULT_CSS = """
    ConfigScreen #reload {
        height: auto;
        padding: 0 1;
        border-bottom: solid $primary;
    }
    ConfigScreen .section {
        padding: 0 1;
        text-style: bold;
        color: $accent;
    }
    ConfigScreen #running-box {
        height: 1fr;
        padding: 0 1;
    }
    """

    def compose_body(self) -> Iterable[Any]:
        yield Label("Last reload", classes="section")
        yield Static(id="reload")
        yield Label("Running configuration (secrets masked)", classes="section")
        with VerticalScroll(id="running-box"):
            yield Static(id="running")

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.app, "reload_event", self.show_reload, init=False)

    def load_view(self, now: float) -> None:
        self.show_reload(getattr(self.target, "last_reload", None))

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        """Nothing in the store: the config changes only by reload (watched above)."""

    def show_reload(self, event: ConfigReloaded | ConfigReloadFailed | None) -> None:
        path = getattr(self.target, "config_path", None)
        self.query_one("#reload", Static).update(reload_text(event, path))
        self.query_one("#running", Static).update(Text(self.control.running_config()))
