"""The console: a k9s-like Textual app over a running gateway, in the gateway's process.

It reads the store and acts only through `engine.control.Control`, the API the CLI uses
over the control socket, so the console and the CLI can never disagree. Screens refresh
from store change sets at most `refresh_interval` apart (0.5 s, i.e. <= 2 Hz), one batch
per tick, by editing only the rows and cells that changed.

Entry point for the command line: ``await run_console(service, theme="green")``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen

from engine.events import ConfigReloaded, ConfigReloadFailed
from tui import actions, commands
from tui.commands import AppCommand, Clear, ClearXsm, CommandError, GoTo, Show
from tui.screens.accounting import AccountingScreen
from tui.screens.base import ConsoleScreen
from tui.screens.config import ConfigScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialogs import CommandPrompt, HelpScreen, TextScreen
from tui.screens.drops import DropsScreen
from tui.screens.flows import FlowsScreen
from tui.screens.peers import PeersScreen
from tui.screens.sessions import SessionsScreen
from tui.screens.syslog import SyslogScreen
from tui.screens.xsm import XsmScreen
from tui.target import ConsoleTarget, resolve_target
from tui.themes import THEMES, VARIABLE_DEFAULTS, resolve, stylesheets

#: Seconds between refreshes: change sets arriving in between are folded into one.
REFRESH_INTERVAL = 0.5
#: Once the heap is frozen, a full collection is considered after this many collections
#: of the middle generation (Python's default is 10): see `ConsoleApp.freeze_heap`.
OLDEST_EVERY = 10_000

SCREENS: dict[str, type[ConsoleScreen]] = {
    "sessions": SessionsScreen,
    "flows": FlowsScreen,
    "peers": PeersScreen,
    "drops": DropsScreen,
    "syslog": SyslogScreen,
    "accounting": AccountingScreen,
    "config": ConfigScreen,
    "xsm": XsmScreen,
    "dashboard": DashboardScreen,
}

HELP_NOTES = " ".join(
    (
        "Sorting: s moves the sort to the next column, S flips the order; clicking a header",
        "sorts by it. Filter: / then type; rows whose text contains it (any column, any case)",
        "stay; Enter keeps the filter, Esc drops it. Rates and uptime refresh for the rows on",
        "screen.\nCommands (:): sessions, flows, peers, drops, syslog, accounting, config, xsm,",
        "dashboard (history graphs; r steps 1h/1d/5d, as in describe),",
        "quit,",
        "pause, show crypto session [detail] [remote IP], show crypto isakmp peer, show crypto",
        "ikev2 stats, show crypto engine drops, show running-config, show logging,",
        "clear crypto session [remote IP [port N]] [local IP [port N]] [fvrf X]",
        "[ivrf Y], show xsm status, show xsm xrd-list, clear xsm [session N]; IOS",
        "abbreviations work (sh cry sess det).\nThemes: ctrl+p, then 'theme'.",
        "Ctrl+q quits the console, and with it the gateway running in this process.",
    )
)

#: Bindings Textual adds everywhere that say nothing about the console.
HIDDEN_ACTIONS = ("focus_next", "focus_previous", "copy_text", "copy")

APP_CSS = """
.summary {
    height: 1;
    padding: 0 1;
    background: $panel;
}
KeyedTable {
    height: 1fr;
}
#filter {
    display: none;
}
#filter.-active {
    display: block;
}
"""


class ConsoleApp(App[None]):
    """The console over one target (a started `VpnService` or anything shaped like it)."""

    TITLE = "ipsec-console"
    CSS = APP_CSS
    CSS_PATH: ClassVar[list[str]] = [str(path) for path in stylesheets()]  # type: ignore[misc]
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("colon", "command_prompt", "Command"),
        Binding("question_mark", "help", "Help"),
        Binding("p", "toggle_pause", "Pause"),
    ]

    #: The target's last reload event, mirrored here so every screen's banner can watch it.
    reload_event: var[ConfigReloaded | ConfigReloadFailed | None] = var(None)
    paused: var[bool] = var(False)

    def __init__(
        self,
        target: object,
        *,
        theme: str | None = None,
        refresh_interval: float = REFRESH_INTERVAL,
    ) -> None:
        super().__init__()
        self.target: ConsoleTarget = resolve_target(target)
        self.refresh_interval = refresh_interval
        for definition in THEMES.values():
            self.register_theme(definition)
        self.theme = resolve(theme, self.available_themes)
        for name, screen in SCREENS.items():
            self.add_mode(name, partial(screen, self.target))
        self.heap_frozen = False
        self._thresholds = gc.get_threshold()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    def on_mount(self) -> None:
        model = getattr(self.target, "model", None)
        hostname = getattr(model, "hostname", None)
        self.title = f"ipsec-console {hostname}" if hostname else "ipsec-console"
        self.reload_event = getattr(self.target, "last_reload", None)
        self.switch_mode("sessions")
        self.set_interval(self.refresh_interval, self.refresh_now)

    # -- refresh ------------------------------------------------------------------------

    @property
    def live_screen(self) -> ConsoleScreen | None:
        """The console screen in view (under any dialog): the only one refreshed."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ConsoleScreen):
                return screen
        return None

    def refresh_now(self) -> None:
        """One refresh tick; the timer calls it, tests may too."""
        event = getattr(self.target, "last_reload", None)
        if event is not self.reload_event:
            self.reload_event = event
        if self.paused:
            return
        screen = self.live_screen
        if screen is not None and screen.is_mounted:
            screen.tick(time.time())
            if not self.heap_frozen and not getattr(getattr(screen, "table", None), "pending", 0):
                self.freeze_heap()

    def freeze_heap(self) -> None:
        """Once the first screen is loaded, exempt everything alive from the cyclic
        garbage collector (`gc.freeze`): at 10k sessions its full collections walked the
        interpreter, Textual and every loaded row, ~140 ms every few seconds, more than
        the refreshes themselves. What is allocated later is collected as usual; the price
        is that a reference cycle among the frozen objects is never collected, and what
        is alive at startup (the gateway, the loaded rows) mostly lives for the whole run.

        The oldest generation is also examined less often (`OLDEST_EVERY`): at 100k
        sessions the engine replaces 500k tracked records a second, so Python's default
        (a full collection once a quarter of the heap is new) walked the whole heap several
        times a second, 100-450 ms each. Records die by reference counting; what the full
        collections find is rare cyclic garbage, which can wait: one is considered every
        700 * 10 * OLDEST_EVERY net container allocations (about a minute at 100k
        sessions), still a pause of several hundred ms then, and garbage in cycles stays
        that long.
        Undone when the console exits."""
        gc.freeze()
        self._thresholds = gc.get_threshold()
        young, middle, oldest = self._thresholds
        gc.set_threshold(young, middle, max(oldest, OLDEST_EVERY))
        self.heap_frozen = True

    def on_unmount(self) -> None:
        if self.heap_frozen:
            gc.unfreeze()
            gc.set_threshold(*self._thresholds)
            self.heap_frozen = False

    def watch_paused(self, paused: bool) -> None:
        self.sub_title = "PAUSED (p resumes)" if paused else ""

    # -- actions ------------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.refresh_now()

    def action_go(self, name: str) -> None:
        if name not in SCREENS:
            self.notify(f"no screen {name!r}", severity="error")
            return
        if self.current_mode != name:
            self.switch_mode(name)
            return
        # Already there: back to the screen's own list (e.g. out of a describe page).
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_command_prompt(self) -> None:
        def done(line: str | None) -> None:
            if line:
                self.execute(line)

        self.push_screen(CommandPrompt(commands.SUGGESTIONS), done)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_rows(), HELP_NOTES))

    def help_rows(self) -> list[tuple[str, str, str]]:
        """(key, what it does, where) for each binding in force, from the live bindings."""
        rows: dict[tuple[str, str], tuple[int, str, str, str]] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            action = binding.action.split("(")[0].rsplit(".", 1)[-1]
            if not binding.description or action in HIDDEN_ACTIONS:
                continue
            node = active.node
            if node is self:
                rank, where = 2, "everywhere"
            elif isinstance(node, Screen):
                rank, where = 0, f"{getattr(node, 'NAME', '') or type(node).__name__} screen"
            else:
                rank, where = 1, f"{type(node).__name__} (focused)"
            key = binding.key_display or self.get_key_display(binding)
            rows.setdefault((key, binding.description), (rank, key, binding.description, where))
        return [row[1:] for row in sorted(rows.values())]

    def execute(self, line: str) -> None:
        """Run a `:` line: go to a screen, or an exec command through Control."""
        try:
            command = commands.parse(line)
        except CommandError as err:
            self.notify(str(err), title=f":{line}", severity="error")
            return
        control = self.target.control
        if isinstance(command, GoTo):
            self.action_go(command.screen)
        elif isinstance(command, AppCommand):
            if command.name == "quit":
                self.exit()
            elif command.name == "help":
                self.action_help()
            else:
                self.action_toggle_pause()
        elif isinstance(command, Show):
            text = commands.render(command, control, self.target.store, time.time())
            self.push_screen(TextScreen(command.title, text))
        elif isinstance(command, Clear):
            actions.confirm_typed_clear(self, control, self.target.store, command.filter)
        elif isinstance(command, ClearXsm):
            try:
                cleared = control.clear_xsm(command.session)
            except ValueError as err:
                self.notify(str(err), severity="warning")
            else:
                count = len(cleared)
                self.notify(f"cleared {count} XSM session{'s' * (count != 1)}")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name in SCREENS:
            yield SystemCommand(
                f"Go to {name}", f"Show the {name} screen", partial(self.action_go, name)
            )
        for name in THEMES:
            yield SystemCommand(
                f"Theme {name}",
                f"Switch to the {name} theme",
                partial(setattr, self, "theme", name),
            )
        for line in (
            "show crypto session detail",
            "show crypto isakmp peer",
            "show crypto engine drops",
            "show running-config",
        ):
            yield SystemCommand(line, "IOS exec command", partial(self.execute, line))
        control, store = self.target.control, self.target.store
        yield SystemCommand(
            "Clear crypto sessions by filter",
            "Remote/local address and port, fvrf, ivrf; shows the matches first",
            partial(actions.clear_by_filter, self, control, store),
        )
        yield SystemCommand(
            "Pause / resume refresh", "Freeze the screens (p)", self.action_toggle_pause
        )


async def run_console(
    target: object,
    *,
    theme: str | None = None,
    refresh_interval: float = REFRESH_INTERVAL,
) -> None:
    """Run the console until the operator quits, over an already started target.

    `target` is a `VpnService` (or the lab, whose `.service` is used). The caller starts
    it before and stops it after: the console neither starts nor stops the gateway.
    `theme` is `dark` (default), `light`, `green`, or any registered Textual theme name.
    """
    app = ConsoleApp(target, theme=theme, refresh_interval=refresh_interval)
    await app.run_async()
