"""The reload-failure banner every console screen carries.

A file that fails validation leaves the old configuration running, which is easy to
miss: the operator saved, nothing broke, nothing changed. So the failure stays in view,
on every screen, until a later reload succeeds.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from engine.events import ConfigReloaded, ConfigReloadFailed


def banner_text(event: ConfigReloadFailed) -> Text:
    when = time.strftime("%H:%M:%S", time.localtime(event.at))
    text = Text(f"Config reload FAILED at {when}: {event.file}", style="bold")
    text.append(" - the running configuration is unchanged")
    for error in event.errors:
        text.append(f"\n  {error}")
    return text


class ReloadBanner(Static):
    """Shows the app's `reload_event` while it is a `ConfigReloadFailed`."""

    DEFAULT_CSS = """
    ReloadBanner {
        display: none;
        height: auto;
        padding: 0 1;
        background: $error;
        color: $text;
    }
    ReloadBanner.-failed {
        display: block;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "reload_event", self.show_event, init=True)

    def show_event(self, event: ConfigReloaded | ConfigReloadFailed | None) -> None:
        failed = isinstance(event, ConfigReloadFailed)
        self.set_class(failed, "-failed")
        self.update(banner_text(event) if isinstance(event, ConfigReloadFailed) else "")
