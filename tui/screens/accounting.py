"""Accounting: the RADIUS records the engine queued or sent, and its servers' state.

The engine's accounting records are not written yet, so this screen reads them by the
fields it expects (below) and says plainly when there are none. Records with other
field names still show, through `str()`, rather than vanish.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual import on
from textual.widgets import Label, Static

from engine.accounting import AccountingRecord, ServerState
from engine.store import ACCOUNTING, SERVERS, ChangeSet
from tui.screens.base import ConsoleScreen
from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value > 1e9:
        return time.strftime("%H:%M:%S", time.localtime(value))
    return str(getattr(value, "value", value))


def accounting_fields(record: object) -> tuple[str, str, str, str, str]:
    """(record type, session, delivery state, server, time) of an AccountingRecord."""
    if not isinstance(record, AccountingRecord):
        return (str(record), "-", "-", "-", "-")
    session = f"{record.acct_session_id} {record.peer}".strip()
    when = record.acked_at if record.acked_at is not None else record.created_at
    return (record.kind, session, _show(record.state), record.server or "-", _show(when))


def _server_row(record: object) -> Row:
    if not isinstance(record, ServerState):
        return (str(record), "-", "-", "-", "-", "-")
    state = "alive" if record.alive else "dead"
    return (
        record.host,
        str(record.acct_port),
        state,
        str(record.requests),
        str(record.timeouts),
        f"{record.responses} acked, {record.retransmissions} resent",
    )


class AccountingScreen(ConsoleScreen):
    NAME = "accounting"
    TABLES = frozenset({ACCOUNTING, SERVERS})
    DEFAULT_CSS = """
    AccountingScreen .section {
        padding: 0 1;
        text-style: bold;
        color: $accent;
    }
    AccountingScreen #empty, AccountingScreen #no-servers {
        padding: 1 2;
        color: $text-muted;
    }
    AccountingScreen #records {
        height: 2fr;
    }
    AccountingScreen #servers {
        height: 1fr;
    }
    AccountingScreen #detail {
        height: auto;
        max-height: 12;
        padding: 0 1;
        border-top: solid $panel;
        overflow-y: auto;
    }
    """

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.records = KeyedTable(
            [
                ColumnSpec("type", "RECORD TYPE"),
                ColumnSpec("session", "SESSION"),
                ColumnSpec("state", "DELIVERY STATE"),
                ColumnSpec("server", "SERVER"),
                ColumnSpec("time", "TIME"),
            ],
            sort_column=4,
            id="records",
        )
        self.servers = KeyedTable(
            [
                ColumnSpec("server", "SERVER"),
                ColumnSpec("port", "ACCT PORT", right=True),
                ColumnSpec("state", "STATE"),
                ColumnSpec("sent", "SENT", right=True),
                ColumnSpec("failed", "FAILED", right=True),
                ColumnSpec("detail", "DETAIL"),
            ],
            id="servers",
        )

    def compose_body(self) -> Iterable[Any]:
        yield Label("Accounting records", classes="section")
        yield Static(
            Text("no accounting records yet", style="italic"),
            id="empty",
        )
        yield self.records
        yield Static(id="detail")
        yield Label("RADIUS servers", classes="section")
        yield Static(Text("no accounting servers known yet", style="italic"), id="no-servers")
        yield self.servers

    def load_view(self, now: float) -> None:
        self._sync(
            self.records,
            {str(k): accounting_fields(v) for k, v in self.store.table(ACCOUNTING).items()},
            (),
        )
        self._sync(
            self.servers,
            {str(k): _server_row(v) for k, v in self.store.table(SERVERS).items()},
            (),
        )

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        if changes is None:
            return
        for table, name, build in (
            (self.records, ACCOUNTING, accounting_fields),
            (self.servers, SERVERS, _server_row),
        ):
            part = changes.table(name)
            if part:
                upserts = {str(k): build(v) for k, v in {**part.added, **part.changed}.items()}
                self._sync(table, upserts, [str(k) for k in part.removed])

    def _sync(self, table: KeyedTable, upserts: dict[str, Row], removed: Iterable[str]) -> None:
        table.sync(upserts, removed)
        empty = self.query_one("#empty" if table is self.records else "#no-servers", Static)
        empty.display = table.total == 0
        if table is self.records:
            self.show_detail()

    # -- detail pane ----------------------------------------------------------------------

    def selected_record(self) -> object | None:
        """The store's record under the records table's cursor."""
        key = self.records.current_key
        if key is None:
            return None
        for store_key, record in self.store.table(ACCOUNTING).items():
            if str(store_key) == key:
                return record
        return None

    def show_detail(self) -> None:
        detail = self.query_one("#detail", Static)
        record = self.selected_record()
        detail.display = record is not None
        if record is not None:
            detail.update(detail_text(record))

    @on(KeyedTable.RowHighlighted, "#records")
    def _record_highlighted(self, event: KeyedTable.RowHighlighted) -> None:
        self.show_detail()


def detail_text(record: object) -> Text:
    """The selected record's attributes, one `name = value` a line, as last sent."""
    if not isinstance(record, AccountingRecord):
        return Text(str(record))
    text = Text()
    text.append(f"{record.kind}", style="bold")
    text.append(f"  record {record.record_id}  list {record.list_name or '-'}", style="dim")
    text.append(f"  {_show(record.state)}  attempts {record.attempts}", style="dim")
    if record.detail:
        text.append(f"  {record.detail}", style="dim")
    if not record.attributes:
        text.append("\n(no attributes)", style="italic dim")
    width = max((len(name) for name, _ in record.attributes), default=0)
    for name, value in record.attributes:
        text.append("\n")
        text.append(f"{name:<{width}}", style="bold")
        text.append(f" = {value}")
    return text
