"""Home: one row per crypto session, as `show crypto session` would list them, live.

Rows are keyed by session id. A session whose record (or one of its flows) changed is
handed to the table, which makes its row when it is needed: at once for the rows on
screen, the filter or an order by a moving column, else when the row scrolls into view.
Rates and uptime move with the clock, so the rows on screen are remade every tick.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding

from engine.control import ClearFilter
from engine.events import Counters
from engine.records import FlowRecord, SessionRecord
from engine.store import FLOWS, SESSIONS, ChangeSet
from tui import actions
from tui.format import (
    STATUS_ORDER,
    active_sas,
    address_key,
    bit_rate,
    human,
    peer_text,
    plural,
    uptime,
)
from tui.screens.base import TableScreen, typed
from tui.screens.describe import DescribeScreen
from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable

PEER = 1
STATUS = 3
#: Columns whose values move with the clock, not only with the record.
LIVE = (11, 12, 13)


def _peer(raw: tuple[Any, ...]) -> str:
    return str(raw[2])


def _count(value: int) -> str:
    return str(value)


def _bytes(value: int) -> str:
    return human(value)


def _text(value: str) -> str:
    return value or "-"


class SessionsScreen(TableScreen):
    """The crypto sessions table, its summary line and the filter prompt."""

    NAME = "sessions"
    TABLES = frozenset({SESSIONS, FLOWS})

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("d", "describe", "Describe"),
        Binding("ctrl+d", "clear_selected", "Clear"),
        Binding("c", "clear_filter", "Clear by filter"),
        Binding("C", "clear_all", "Clear all"),
    ]

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.records: dict[str, SessionRecord] = {}
        self.status_counts: Counter[str] = Counter()
        #: bytes in, packets in, bytes out, packets out, drops in, drops out (as Counters).
        self._totals = [0] * 6
        self._peers: dict[tuple[str, int], tuple[tuple[int, int], int, str]] = {}
        #: The tick's clock, for rows the table makes later (when they come into view).
        self._now = 0.0
        self.table = KeyedTable(
            self._columns(), sort_column=PEER, tiebreak=PEER, row_of=self._row_of, id="sessions"
        )

    def _columns(self) -> list[ColumnSpec]:
        return [
            ColumnSpec("interface", "INTERFACE", _text),
            # A session is keyed by its peer's address: the PEER value never changes.
            ColumnSpec("peer", "PEER", _peer, fixed=True),
            ColumnSpec("description", "DESCRIPTION", _text),
            ColumnSpec("status", "STATUS", str, style=self.status_style),
            ColumnSpec("ike", "IKE", _count, right=True),
            ColumnSpec("sas", "SAS", _count, right=True),
            ColumnSpec("flows", "FLOWS", _count, right=True),
            ColumnSpec("pkts_in", "PKTS IN", _count, right=True),
            ColumnSpec("pkts_out", "PKTS OUT", _count, right=True),
            ColumnSpec("bytes_in", "BYTES IN", _bytes, right=True),
            ColumnSpec("bytes_out", "BYTES OUT", _bytes, right=True),
            ColumnSpec("rate_in", "RATE IN", bit_rate, right=True),
            ColumnSpec("rate_out", "RATE OUT", bit_rate, right=True),
            ColumnSpec("uptime", "UPTIME", uptime, right=True),
            ColumnSpec("fvrf", "FVRF", _text),
            ColumnSpec("ivrf", "IVRF", _text),
            ColumnSpec("username", "USERNAME", _text),
        ]

    # -- data -----------------------------------------------------------------------------

    def row(self, record: SessionRecord, now: float) -> Row:
        rates = self.store.rates(record.session_id)
        totals = record.totals
        up = int(now - record.up_since) if record.up_since and record.status.is_up else -1
        return (
            record.interface,
            self._peer_value(record.remote_ip, record.remote_port),
            record.description,
            record.status.value,
            len(record.ike_sa_ids),
            active_sas(self.store, record.flow_ids),
            len(record.flow_ids),
            totals.packets_in,
            totals.packets_out,
            totals.bytes_in,
            totals.bytes_out,
            int(rates.bytes_in_per_s),
            int(rates.bytes_out_per_s),
            up,
            record.fvrf,
            record.ivrf,
            record.username,
        )

    def _row_of(self, key: str) -> Row:
        return self.row(self.records[key], self._now)

    @property
    def totals(self) -> Counters:
        return Counters(*self._totals)

    def _peer_value(self, ip: str, port: int) -> tuple[tuple[int, int], int, str]:
        """The PEER column's raw value, cached: parsing 10k addresses is a third of a
        tick in which every session's counters move."""
        value = self._peers.get((ip, port))
        if value is None:
            if len(self._peers) > 2 * len(self.records) + 1024:
                self._peers.clear()
            value = self._peers[(ip, port)] = (address_key(ip), port, peer_text(ip, port))
        return value

    def load_view(self, now: float) -> None:
        self._apply(typed(self.store.table(SESSIONS).items(), SessionRecord), (), set(), now)

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        upserts: dict[str, SessionRecord] = {}
        removed: list[str] = []
        touched: set[str] = set()
        if changes is not None:
            sessions = changes.table(SESSIONS)
            for source in (sessions.added, sessions.changed):
                upserts.update(typed(source.items(), SessionRecord))
            removed = [key for key in sessions.removed if isinstance(key, str)]
            flows = changes.table(FLOWS)
            for source in (flows.added, flows.changed):
                for flow in source.values():
                    if isinstance(flow, FlowRecord) and flow.session_id in self.records:
                        touched.add(flow.session_id)
        self._apply(upserts, removed, touched, now)

    def _apply(
        self,
        records: dict[str, SessionRecord],
        removed: Iterable[str],
        touched: set[str],
        now: float,
    ) -> None:
        """New records in, removed ones out, tallies kept; the table is told which rows
        may have changed (these, the sessions of changed flows, and the rows on screen,
        whose rates and uptime move with the clock)."""
        self._now = now
        gone = [key for key in removed if key not in records]
        for key in gone:
            self._tally(self.records.pop(key, None), -1)
        for key, record in records.items():
            old = self.records.get(key)
            if old is not record:
                self._tally(old, -1)
                self._tally(record, 1)
                self.records[key] = record
        touched.update(records)
        touched.update(self.table.visible_keys())
        touched.difference_update(gone)
        self.table.touch([key for key in touched if key in self.records], gone)
        self.update_summary()

    def _tally(self, record: SessionRecord | None, sign: int) -> None:
        if record is None:
            return
        self.status_counts[record.status.value] += sign
        t = record.totals
        totals = self._totals
        totals[0] += sign * t.bytes_in
        totals[1] += sign * t.packets_in
        totals[2] += sign * t.bytes_out
        totals[3] += sign * t.packets_out
        totals[4] += sign * t.drops_in
        totals[5] += sign * t.drops_out

    def summary(self) -> Text:
        text = Text()
        text.append(plural(len(self.records), "crypto session"), style="bold")
        for status in STATUS_ORDER:
            text.append("  ")
            text.append(status, style=self.status_style(status))
            text.append(f" {self.status_counts.get(status, 0)}")
        t = self.totals
        text.append(
            f"  │ in {human(t.bytes_in)} {t.packets_in} pkts"
            f"  out {human(t.bytes_out)} {t.packets_out} pkts"
        )
        return text

    def theme_changed(self) -> None:
        self.table.restyle()
        self.update_summary()

    # -- actions --------------------------------------------------------------------------

    def selected(self) -> SessionRecord | None:
        key = self.table.current_key
        return self.records.get(key) if key is not None else None

    def action_describe(self) -> None:
        record = self.selected()
        if record is not None:
            self.app.push_screen(DescribeScreen(self.target, record.session_id))

    @on(KeyedTable.RowSelected, "#sessions")
    def _row_selected(self, event: KeyedTable.RowSelected) -> None:
        if event.key in self.records:
            self.app.push_screen(DescribeScreen(self.target, event.key))

    def action_clear_selected(self) -> None:
        record = self.selected()
        if record is None:
            self.notify("no session selected", severity="warning")
            return
        actions.confirm_clear(
            self.app,
            self.control,
            ClearFilter(remote_ip=record.remote_ip, remote_port=record.remote_port),
            f"Clear crypto session {peer_text(*_peer_of(record))}"
            f"{' (' + record.description + ')' if record.description else ''}?",
        )

    def action_clear_filter(self) -> None:
        actions.clear_by_filter(self.app, self.control, self.store)

    def action_clear_all(self) -> None:
        actions.clear_all(self.app, self.control, self.store)


def _peer_of(record: SessionRecord) -> tuple[str, int]:
    return record.remote_ip, record.remote_port
