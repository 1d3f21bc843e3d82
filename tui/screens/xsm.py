"""XSM clients: `show xsm status` as a table, one row per connected client, with a key
to disconnect one (`clear xsm session N`)."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding

from engine.store import ChangeSet
from tui.format import plural, uptime
from tui.screens.base import TableScreen
from tui.screens.dialogs import ConfirmScreen
from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable


class XsmScreen(TableScreen):
    NAME = "xsm"
    # XSM clients live in the service, not the store: each tick reads them (a few
    # hundred at most, cheaper than a table of their own)

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("ctrl+d", "clear_selected", "Disconnect"),
    ]

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.table = KeyedTable(
            [
                ColumnSpec("session", "SESSION", str, right=True),
                ColumnSpec("user", "USER"),
                ColumnSpec("privilege", "PRIV", str, right=True),
                ColumnSpec("address", "ADDRESS"),
                ColumnSpec("transport", "VIA"),
                ColumnSpec("connected", "CONNECTED", uptime, right=True),
                ColumnSpec("sent", "SENT", str, right=True),
                ColumnSpec("dropped", "DROPPED", str, right=True),
                ColumnSpec("subscriptions", "SUBSCRIPTIONS", lambda v: v or "-"),
            ],
            id="xsm",
        )

    def rows(self, now: float) -> dict[str, Row]:
        return {
            str(client.session): (
                client.session,
                client.user,
                client.privilege,
                client.address,
                client.transport,
                max(0.0, now - client.since),
                client.events_sent,
                client.events_dropped,
                ",".join(client.subscriptions),
            )
            for client in self.control.xsm_clients()
        }

    def load_view(self, now: float) -> None:
        self._refresh(now)

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        self._refresh(now)

    def _refresh(self, now: float) -> None:
        rows = self.rows(now)
        gone = [key for key in self.table.model_keys() if key not in rows]
        self.table.sync(rows, gone)
        self.update_summary()

    def summary(self) -> Text:
        status = self.control.xsm_status()
        if status is None or not status.enabled:
            return Text("XSM is disabled (configure `xsm` and `ip http server`)", style="bold")
        ports = ", ".join(
            f"{listener.kind} {listener.bound}" for listener in status.listeners if listener.bound
        )
        return Text(
            f"{plural(self.table.total, 'XSM client')} · {ports or 'not listening'} · "
            f"{status.counters.logins_failed} failed logins",
            style="bold",
        )

    def action_clear_selected(self) -> None:
        key = self.table.current_key
        if key is None:
            self.notify("no XSM client selected", severity="warning")
            return
        session = int(key)

        def done(confirmed: bool | None) -> None:
            if not confirmed:
                return
            try:
                cleared = self.control.clear_xsm(session)
            except ValueError as err:
                self.notify(str(err), severity="warning")
                return
            self.notify(f"disconnected XSM session {', '.join(map(str, cleared))}")
            self._refresh(time.time())

        self.app.push_screen(ConfirmScreen(f"Disconnect XSM session {session}?"), done)
