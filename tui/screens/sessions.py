"""Home: one row per crypto session, as `show crypto session` would list them, live.

Rows are keyed by session id. A session whose record (or one of its flows) changed is
handed to the table, which makes its row when it is needed: at once for the rows on
screen, the filter or an order by a moving column, else when the row scrolls into view.
Rates and uptime move with the clock, so the rows on screen are remade every tick.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any, ClassVar, cast

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
from tui.screens.base import TableScreen
from tui.screens.describe import DescribeScreen
from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable

PEER = 1
STATUS = 3
#: Columns whose values move with the clock, not only with the record.
LIVE = (11, 12, 13)
#: A change set touching more sessions than this is applied in bulk: the table marks the
#: rows changed at C speed and remakes only those it draws, and the summary is summed
#: afresh (attrgetter over the records, ~5 ms per column at 100k) instead of per record.
BULK = 2000
_TOTALS = attrgetter("totals")
#: The totals the summary shows (drops are not: summing them too was a third more of a
#: bulk recount, which is memory-bound at 100k records).
_COUNTERS = tuple(
    attrgetter(name) for name in ("bytes_in", "packets_in", "bytes_out", "packets_out")
)
_STATUS = attrgetter("status")


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
        #: The store's published sessions (a read-only view, refreshed each tick).
        #: bytes in, packets in, bytes out, packets out (as Counters), for the summary.
        self.status_counts: Counter[str] = Counter()
        #: bytes in, packets in, bytes out, packets out, drops in, drops out (as Counters).
        self._totals = [0] * len(_COUNTERS)
        #: Each session's PEER value, by its key (a session is keyed by its peer).
        self._peers: dict[str, tuple[tuple[int, int], int, str]] = {}
        #: The tick's clock, for rows the table makes later (when they come into view).
        self._now = 0.0
        self.table = KeyedTable(
            self._columns(),
            sort_column=PEER,
            tiebreak=PEER,
            row_of=self._row_of,
            static_of=self._static_of,
            id="sessions",
        )

    def _columns(self) -> list[ColumnSpec]:
        return [
            ColumnSpec("interface", "INTERFACE", _text),
            # A session is keyed by its peer's address: the PEER value never changes.
            ColumnSpec("peer", "PEER", _peer, fixed=True),
            ColumnSpec("description", "DESCRIPTION", _text),
            ColumnSpec("status", "STATUS", str, style=self.status_style),
            ColumnSpec("ike", "IKE", _count, right=True, volatile=True),
            ColumnSpec("sas", "SAS", _count, right=True, volatile=True),
            ColumnSpec("flows", "FLOWS", _count, right=True, volatile=True),
            ColumnSpec("pkts_in", "PKTS IN", _count, right=True, volatile=True),
            ColumnSpec("pkts_out", "PKTS OUT", _count, right=True, volatile=True),
            ColumnSpec("bytes_in", "BYTES IN", _bytes, right=True, volatile=True),
            ColumnSpec("bytes_out", "BYTES OUT", _bytes, right=True, volatile=True),
            ColumnSpec("rate_in", "RATE IN", bit_rate, right=True, volatile=True),
            ColumnSpec("rate_out", "RATE OUT", bit_rate, right=True, volatile=True),
            ColumnSpec("uptime", "UPTIME", uptime, right=True, volatile=True),
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
            self._peer_value(record),
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

    def _static_of(self, key: str) -> Row:
        """The text columns' values (INTERFACE PEER DESCRIPTION STATUS FVRF IVRF
        USERNAME), as `row` has them, without the counters, rates and lookups."""
        record = self.records[key]
        peer = self._peers.get(key)
        return (
            record.interface,
            self._peer_value(record) if peer is None else peer,
            record.description,
            record.status,  # reads as its value (a StrEnum), without enum's descriptor
            record.fvrf,
            record.ivrf,
            record.username,
        )

    @property
    def totals(self) -> Counters:
        """Every session's traffic summed, as the summary shows it (drops left at 0)."""
        return Counters(*self._totals)

    def _peer_value(self, record: SessionRecord) -> tuple[tuple[int, int], int, str]:
        """The PEER column's raw value, cached by session: parsing 10k addresses is a
        third of a tick in which every session's counters move."""
        key = record.session_id
        value = self._peers.get(key)
        if value is None:
            if len(self._peers) > 2 * len(self.records) + 1024:
                self._peers.clear()
            ip, port = record.remote_ip, record.remote_port
            value = self._peers[key] = (address_key(ip), port, peer_text(ip, port))
        return value

    def _published(self) -> Mapping[str, SessionRecord]:
        # copy-on-write: this view never changes under us, and costs no copy
        return cast(Mapping[str, SessionRecord], self.store.snapshot().table(SESSIONS))

    def load_view(self, now: float) -> None:
        self._now = now
        self.records = self._published()
        self._recount()
        self.table.touch([key for key in self.records if isinstance(key, str)])
        self.update_summary()

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        self._now = now
        old = self.records
        self.records = records = self._published()
        if changes is None:
            self.table.touch([k for k in self.table.visible_keys() if k in records])
            self.update_summary()
            return
        sessions = changes.table(SESSIONS)
        flows = changes.table(FLOWS)
        removed = [key for key in sessions.removed if isinstance(key, str)]
        moved = len(sessions.changed) + len(sessions.added) + len(removed)
        if moved > BULK:
            self._recount()
        else:
            for key in removed:
                self._tally(old.get(key), -1)
            for section in (sessions.added, sessions.changed):
                for key, record in section.items():
                    if isinstance(record, SessionRecord):
                        self._tally(old.get(key), -1)  # type: ignore[arg-type]
                        self._tally(record, 1)
        touched: set[str] = {key for key in sessions.added if isinstance(key, str)}
        changed: Iterable[str] = sessions.changed.keys()  # type: ignore[assignment]
        if len(flows.added) + len(flows.changed) > BULK:
            changed = records.keys()  # a flow's SAs show in its session's row
        else:
            for section in (flows.added, flows.changed):
                for flow in section.values():
                    if isinstance(flow, FlowRecord) and flow.session_id in records:
                        touched.add(flow.session_id)
        if not self.table.mark_changed(changed):
            touched.update(changed)
        touched.update(self.table.visible_keys())
        touched.difference_update(removed)
        self.table.touch([key for key in touched if key in records], removed)
        self.update_summary()

    def _recount(self) -> None:
        """The summary's tallies afresh from every record."""
        values = self.records.values()
        self.status_counts = Counter(
            {status.value: n for status, n in Counter(map(_STATUS, values)).items()}
        )
        totals = list(map(_TOTALS, values))
        self._totals = [sum(map(counter, totals)) for counter in _COUNTERS]

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
