"""IPsec flows across all sessions: the per-flow counters of `show crypto session detail`
(packets enc'ed/dec'ed, drops, life KB/sec), each flow's current rates, and the SPIs of
its newest child SA."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding

from engine.records import FlowRecord, SessionRecord
from engine.show import flow_line
from engine.store import FLOWS, SESSIONS, ChangeSet, history_key
from tui.format import address_key, bit_rate, human, peer_text, plural, spi
from tui.screens.base import TableScreen, typed
from tui.screens.describe import DescribeScreen
from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable


def _life(raw: tuple[int, int]) -> str:
    kb, seconds = raw
    return f"{'0' if kb < 0 else kb}/{max(0, seconds)}"


def _spi(raw: int) -> str:
    return spi(None if raw < 0 else raw)


class FlowsScreen(TableScreen):
    NAME = "flows"
    TABLES = frozenset({FLOWS})
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("d", "describe", "Describe session"),
    ]

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.flows: dict[str, FlowRecord] = {}
        #: The tick's clock, for rows the table makes later (when they come into view).
        self._now = 0.0
        self.table = KeyedTable(
            [
                # A flow belongs to one session for life, a session to one peer address.
                ColumnSpec("peer", "PEER", lambda raw: str(raw[2]), fixed=True),
                ColumnSpec("flow", "IPSEC FLOW"),
                ColumnSpec("sas", "SAS", str, right=True),
                ColumnSpec("dec", "PKTS DEC'ED", str, right=True),
                ColumnSpec("enc", "PKTS ENC'ED", str, right=True),
                ColumnSpec("drop_in", "DROP IN", str, right=True),
                ColumnSpec("drop_out", "DROP OUT", str, right=True),
                ColumnSpec("bytes_in", "BYTES IN", human, right=True),
                ColumnSpec("bytes_out", "BYTES OUT", human, right=True),
                ColumnSpec("rate_in", "RATE IN", bit_rate, right=True),
                ColumnSpec("rate_out", "RATE OUT", bit_rate, right=True),
                ColumnSpec("spi_in", "SPI IN", _spi),
                ColumnSpec("spi_out", "SPI OUT", _spi),
                ColumnSpec("life", "LIFE (KB/SEC)", _life, right=True),
                ColumnSpec("origin", "ORIGIN"),
            ],
            row_of=self._row_of,
            id="flows",
        )

    def _row_of(self, key: str) -> Row:
        return self.row(self.flows[key], self._now)

    def row(self, flow: FlowRecord, now: float) -> Row:
        session = self.store.get(SESSIONS, flow.session_id)
        if isinstance(session, SessionRecord):
            peer = (
                address_key(session.remote_ip),
                session.remote_port,
                peer_text(session.remote_ip, session.remote_port),
            )
        else:
            peer = ((9, 0), 0, flow.session_id)
        t = flow.totals
        rates = self.store.rates(history_key(FLOWS, flow.flow_id))
        child = flow.newest
        if child is None:
            spi_in = spi_out = -1
            life = (-1, 0)
        else:
            spi_in, spi_out = child.spi_in, child.spi_out
            used_kb = (child.counters.bytes_in + child.counters.bytes_out) // 1024
            kb = -1 if child.lifetime_kb is None else max(0, child.lifetime_kb - used_kb)
            life = (kb, int(child.expires_at - now))
        return (
            peer,
            flow_line(flow),
            flow.active_sas,
            t.packets_in,
            t.packets_out,
            t.drops_in,
            t.drops_out,
            t.bytes_in,
            t.bytes_out,
            int(rates.bytes_in_per_s),
            int(rates.bytes_out_per_s),
            spi_in,
            spi_out,
            life,
            flow.origin,
        )

    def load_view(self, now: float) -> None:
        self._apply(typed(self.store.table(FLOWS).items(), FlowRecord), (), now)

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        upserts: dict[str, FlowRecord] = {}
        removed: list[str] = []
        if changes is not None:
            part = changes.table(FLOWS)
            for source in (part.added, part.changed):
                upserts.update(typed(source.items(), FlowRecord))
            removed = [k for k in part.removed if isinstance(k, str)]
        self._apply(upserts, removed, now)

    def _apply(self, flows: dict[str, FlowRecord], removed: Iterable[str], now: float) -> None:
        """As the sessions screen: changed flows and the rows on screen (rates and
        lifetimes move with the clock) are handed to the table, which makes their rows
        when they are needed."""
        self._now = now
        gone = [k for k in removed if k not in flows]
        for key in gone:
            self.flows.pop(key, None)
        self.flows.update(flows)
        touched = set(flows).union(self.table.visible_keys()).difference(gone)
        self.table.touch([key for key in touched if key in self.flows], gone)
        self.update_summary()

    def summary(self) -> Text:
        return Text(plural(len(self.flows), "IPsec flow"), style="bold")

    def action_describe(self) -> None:
        key = self.table.current_key
        flow = self.flows.get(key) if key else None
        if flow is not None:
            self.app.push_screen(DescribeScreen(self.target, flow.session_id))

    @on(KeyedTable.RowSelected, "#flows")
    def _selected(self) -> None:
        self.action_describe()
