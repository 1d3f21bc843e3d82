"""What every console screen shares: the frame (header, reload banner, footer) and the
refresh contract with the app.

Each screen owns a store subscription for the tables it shows. The app ticks only the
screen in view (at most twice a second); the others' subscriptions keep folding changes
into one pending set, so a screen brought back catches up in one step, however long it
was away, and a screen nobody looks at costs nothing but that merge.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Header, Input, Static

from engine.store import ChangeSet, Subscription
from tui.format import STATUS_VARIABLES
from tui.target import ConsoleTarget
from tui.themes import VARIABLE_DEFAULTS
from tui.widgets.banner import ReloadBanner
from tui.widgets.keyed_table import KeyedTable

T = TypeVar("T")


def typed(items: Iterable[tuple[object, object]], kind: type[T]) -> dict[str, T]:
    """The string-keyed records of one type (store tables hold opaque values)."""
    return {key: value for key, value in items if isinstance(key, str) and isinstance(value, kind)}


class ConsoleScreen(Screen[None]):
    """A screen over the store; subclasses fill `compose_body`, `load_view`, `apply_changes`."""

    #: Tables whose changes this screen follows.
    TABLES: ClassVar[frozenset[str]] = frozenset()
    #: The name `:NAME` goes to, shown in the header.
    NAME: ClassVar[str] = ""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, target: ConsoleTarget) -> None:
        super().__init__()
        self.target = target
        self.store = target.store
        self.control = target.control
        self.subscription: Subscription | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield ReloadBanner()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> Iterable[Any]:
        return ()

    def on_mount(self) -> None:
        # The screen names itself in the title; the sub-title stays the app's ("PAUSED").
        self.title = f"{self.app.title} · {self.NAME}"
        if self.TABLES:
            # Subscribe before reading: what changes in between arrives twice, and the
            # updates are idempotent, whereas the other order could lose a change.
            self.subscription = self.store.subscribe(self.TABLES)
        self.app.theme_changed_signal.subscribe(self, self._on_theme)
        self.load_view(time.time())

    def on_screen_resume(self) -> None:
        # Coming back into view: catch up now rather than at the next tick.
        if not getattr(self.app, "paused", False):
            self.tick(time.time())

    def on_unmount(self) -> None:
        if self.subscription is not None:
            self.subscription.close()

    def tick(self, now: float) -> None:
        """One refresh: everything since the last one, folded into one change set."""
        changes = self.subscription.get_nowait() if self.subscription is not None else None
        self.apply_changes(changes, now)

    # -- for subclasses -----------------------------------------------------------------

    def load_view(self, now: float) -> None:
        """Fill the screen from the store's current tables."""

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        """Apply a change set (None: nothing changed, but time-derived values may have)."""

    def theme_changed(self) -> None:
        """Re-create anything coloured from theme variables."""

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        elif self.NAME != "sessions":
            self.app.switch_mode("sessions")

    # -- helpers ------------------------------------------------------------------------

    def _on_theme(self, theme: Theme) -> None:
        self.theme_changed()

    def status_style(self, status: str) -> str:
        """Rich style for a session status word, from the current theme's variables."""
        variable = STATUS_VARIABLES.get(status, "status-down")
        colour = self.app.theme_variables.get(variable) or VARIABLE_DEFAULTS[variable]
        return f"bold {colour}"


class TableScreen(ConsoleScreen):
    """A screen around one KeyedTable: a summary line, sorting and the `/` filter."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort_next", "Sort column"),
        Binding("S", "sort_reverse", "Sort order"),
        Binding("escape", "back", "Back", show=False),
    ]

    table: KeyedTable

    def compose_body(self) -> Iterable[Any]:
        yield Static(id="summary", classes="summary")
        yield self.table
        yield Input(
            placeholder="filter: text in any column (Enter keeps it, Esc clears)", id="filter"
        )

    def summary(self) -> Text:
        """The line above the table; subclasses prepend their counts."""
        return Text()

    def update_summary(self) -> None:
        # A refresh can reach a screen Textual is tearing down (its timer still runs
        # while the children go): there is no summary line to write then.
        summary = self.query("#summary")
        if not summary:
            return
        table = self.table
        text = self.summary()
        spec = table.specs[table.sort_index]
        text.append(
            f"  │ sort {spec.label.lower()} {'▼' if table.sort_reverse else '▲'}", style="dim"
        )
        if table.filter_text:
            more = "+" if table.searching else ""
            text.append(
                f"  │ filter '{table.filter_text}': {table.shown}{more} shown", style="bold"
            )
        if table.searching:
            text.append(f"  │ searching {table.searching}…", style="dim")
        elif table.pending:
            text.append(f"  │ loading {table.pending}…", style="dim")
        # One line high (`.summary` in the app's CSS) whatever it says: no layout, which
        # would recompose the whole screen each tick.
        summary.first(Static).update(text, layout=False)

    def on_keyed_table_loaded(self, event: KeyedTable.Loaded) -> None:
        # Posted from the table's drain: it may land while the screen is being torn down.
        if event.table is self.table and self.query("#summary"):
            self.update_summary()

    def on_cell_table_header_selected(self, event: KeyedTable.HeaderSelected) -> None:
        if event.table is self.table:
            same = event.column_index == self.table.sort_index
            self.table.set_sort(event.column_index, not self.table.sort_reverse if same else False)
            self.update_summary()

    def action_sort_next(self) -> None:
        self.table.set_sort((self.table.sort_index + 1) % len(self.table.specs))
        self.update_summary()

    def action_sort_reverse(self) -> None:
        self.table.set_sort(self.table.sort_index, not self.table.sort_reverse)
        self.update_summary()

    def action_filter(self) -> None:
        prompt = self.query_one("#filter", Input)
        prompt.add_class("-active")
        prompt.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.table.set_filter(event.value)
            self.update_summary()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value.strip():
                event.input.remove_class("-active")
            self.table.focus()

    def action_back(self) -> None:
        """Esc: first drop the filter, then go back."""
        prompt = self.query_one("#filter", Input)
        if prompt.has_class("-active") or prompt.value:
            prompt.value = ""
            prompt.remove_class("-active")
            self.table.set_filter("")
            self.update_summary()
            self.table.focus()
            return
        super().action_back()
