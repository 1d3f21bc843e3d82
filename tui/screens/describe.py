"""Describe one crypto session: everything the engine knows about it, on one page.

`show crypto session detail` first (the engine's own text, as the CLI prints it), then
what that output leaves out: IKE SA algorithms, SPIs, identities and NAT, the child SAs
of each flow with their countdowns, throughput sparklines for the session and for each
flow, the peer's log lines and its accounting records. One session is small, so the page
is redrawn from the store each tick rather than patched.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from engine.accounting import AccountingRecord
from engine.control import ClearFilter, SessionDetail
from engine.records import FlowRecord, IkeSaRecord, SessionRecord
from engine.show import flow_line, hms, show_crypto_session
from engine.store import ACCOUNTING, FLOWS, SESSIONS, ChangeSet, history_key
from tui import actions
from tui.format import human, peer_text, spi
from tui.screens.accounting import accounting_fields
from tui.screens.base import ConsoleScreen
from tui.target import ConsoleTarget
from tui.widgets.history import REFRESH_S, HistoryGraph, next_range, throughput
from tui.widgets.throughput import SPARK_POINTS, ThroughputGraph


def _countdown(at: float | None, now: float) -> str:
    if at is None:
        return "-"
    left = at - now
    return hms(left) if left > 0 else "expired"


def _line(text: Text, label: str, value: str, *, first: bool = False, weak: bool = False) -> None:
    text.append("" if first else "  ")
    text.append(f"{label} ", style="dim")
    text.append(value)
    if weak:
        text.append(" (weak)", style="bold yellow")


def ike_text(ike_sas: Iterable[IkeSaRecord], now: float) -> Text:
    """Each IKE SA as a short block: what `show crypto session detail` leaves out."""
    text = Text()
    for ike in ike_sas:
        if text:
            text.append("\n\n")
        text.append(f"connid {ike.ike_sa_id}", style="bold")
        text.append(f"  {ike.state}  {'initiator' if ike.initiator else 'responder'}")
        if ike.rekeyed_from is not None:
            text.append(f"  (rekey of connid {ike.rekeyed_from})")
        text.append("\n  ")
        _line(text, "local", peer_text(*ike.local), first=True)
        _line(text, "remote", peer_text(*ike.remote))
        _line(text, "NAT", "detected, UDP 4500 (NAT-T)" if ike.nat else "none")
        text.append("\n  ")
        _line(text, "SPI i", ike.spi_i or "-", first=True)
        _line(text, "SPI r", ike.spi_r or "-")
        alg = ike.algorithms
        if alg is not None:
            text.append("\n  ")
            weak = alg.weak
            _line(text, "encryption", alg.encryption, first=True, weak="encryption" in weak)
            _line(text, "prf", alg.prf, weak="prf" in weak)
            _line(text, "integrity", alg.integrity or "(AEAD)", weak="integrity" in weak)
            _line(text, "DH group", str(alg.dh_group), weak="dh_group" in weak)
        text.append("\n  ")
        _line(text, "local id", ike.local_id or "-", first=True)
        _line(text, "remote id", ike.remote_id or "-")
        text.append("\n  ")
        up = hms(now - ike.established_at) if ike.established_at else "-"
        lifetime = (
            hms(ike.expires_at - ike.established_at)
            if ike.expires_at and ike.established_at
            else "-"
        )
        _line(text, "up for", up, first=True)
        _line(text, "lifetime", lifetime)
        _line(text, "rekey/expiry in", _countdown(ike.expires_at, now))
    return text


def flows_text(flows: Iterable[FlowRecord], now: float) -> Text:
    """Each flow's totals, then each child SA carrying it (two during a rekey)."""
    text = Text()
    for flow in flows:
        if text:
            text.append("\n\n")
        t = flow.totals
        text.append(flow_line(flow), style="bold")
        text.append(f"  active SAs {flow.active_sas}, origin {flow.origin}")
        text.append("\n  ")
        _line(text, "pkts dec'ed", str(t.packets_in), first=True)
        _line(text, "enc'ed", str(t.packets_out))
        _line(text, "drops in/out", f"{t.drops_in}/{t.drops_out}")
        _line(text, "bytes in", human(t.bytes_in))
        _line(text, "out", human(t.bytes_out))
        newest = flow.newest
        for child in sorted(flow.children, key=lambda c: c.created_at):
            c, alg = child.counters, child.algorithms
            text.append("\n  ")
            text.append(
                f"child SA {child.child_sa_id}{' (newest)' if child is newest else ''}",
                style="bold",
            )
            _line(text, "SPI in", spi(child.spi_in))
            _line(text, "out", spi(child.spi_out))
            _line(text, "UDP-encap", "yes" if child.udp_encapsulation else "no")
            text.append("\n    ")
            weak = alg.weak
            _line(
                text,
                "transform",
                f"{alg.encryption}/{alg.integrity or '(AEAD)'}",
                first=True,
                weak="encryption" in weak or "integrity" in weak,
            )
            _line(
                text,
                "PFS",
                f"group {alg.dh_group}" if alg.dh_group else "no",
                weak="dh_group" in weak,
            )
            _line(text, "ESN", "yes" if alg.esn else "no")
            _line(text, "mode", alg.mode + (f" ({alg.mode_note})" if alg.mode_note else ""))
            text.append("\n    ")
            _line(text, "pkts in/out", f"{c.packets_in}/{c.packets_out}", first=True)
            _line(text, "bytes in/out", f"{human(c.bytes_in)}/{human(c.bytes_out)}")
            _line(text, "drops", f"{c.drops_in}/{c.drops_out}")
            text.append("\n    ")
            if child.lifetime_kb is not None:
                used_kb = (c.bytes_in + c.bytes_out) // 1024
                _line(text, "KB left", str(max(0, child.lifetime_kb - used_kb)), first=True)
                _line(text, "rekey/expiry in", _countdown(child.expires_at, now))
            else:
                _line(text, "rekey/expiry in", _countdown(child.expires_at, now), first=True)
        r = flow.retired
        if r.packets_in or r.packets_out:
            text.append("\n  ")
            _line(
                text,
                "retired child SAs",
                f"pkts {r.packets_in}/{r.packets_out}, bytes {human(r.bytes_in)}/"
                f"{human(r.bytes_out)}",
                first=True,
            )
    return text


class DescribeScreen(ConsoleScreen):
    """One session in full; Esc goes back to where it was opened from."""

    NAME = "describe"
    DEFAULT_CSS = """
    DescribeScreen #body {
        padding: 0 1;
    }
    DescribeScreen .section {
        margin-top: 1;
        text-style: bold;
        color: $accent;
    }
    DescribeScreen #flow-graphs, DescribeScreen #flow-history,
    DescribeScreen #live-graphs, DescribeScreen #history-graphs {
        height: auto;
    }
    DescribeScreen #history-graphs {
        display: none;
    }
    DescribeScreen #gone {
        display: none;
        background: $warning;
        color: $background;
        padding: 0 1;
    }
    DescribeScreen #gone.-gone {
        display: block;
    }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,q", "back", "Back"),
        Binding("ctrl+d", "clear_session", "Clear"),
        Binding("r", "next_range", "Range"),
    ]

    def __init__(self, target: ConsoleTarget, session_id: str) -> None:
        super().__init__(target)
        self.session_id = session_id
        self.detail: SessionDetail | None = None
        self.session_graph = ThroughputGraph("whole session", session_id)
        #: One graph per flow, rebuilt when the session's flows change.
        self.flow_graphs: dict[str, ThroughputGraph] = {}
        #: "live" (the last minute at 1 Hz), or a history range: 1h, 1d, 5d
        self.range = "live"
        self.session_history = HistoryGraph("whole session", ("in", "out"))
        self.flow_history: dict[str, HistoryGraph] = {}
        self._history_read_at = 0.0

    def compose_body(self) -> Iterable[Any]:
        with VerticalScroll(id="body"):
            yield Static(id="gone")
            yield Static(id="detail")
            yield Label("IKE SAs", classes="section")
            yield Static(id="ike")
            yield Label("IPsec flows and their child SAs", classes="section")
            yield Static(id="flows")
            yield Label(self._throughput_title(), id="throughput-title", classes="section")
            with Vertical(id="live-graphs"):
                yield self.session_graph
                yield Vertical(id="flow-graphs")
            with Vertical(id="history-graphs"):
                yield self.session_history
                yield Vertical(id="flow-history")
            yield Label("Log (this peer)", classes="section")
            yield Static(id="log")
            yield Label("Accounting records", classes="section")
            yield Static(id="accounting")

    def on_mount(self) -> None:
        super().on_mount()
        self.title = f"{self.app.title} · describe {self.session_id}"

    def load_view(self, now: float) -> None:
        self.render_detail(now)

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        self.render_detail(now)

    def render_detail(self, now: float) -> None:
        if not self.query("#gone"):
            # a refresh can reach a screen Textual is tearing down: nothing to write to
            return
        detail = self.control.describe(self.session_id)
        gone = self.query_one("#gone", Static)
        if detail is None:
            gone.update(f"session {self.session_id} is gone (cleared or down); last known state:")
            gone.add_class("-gone")
            if self.detail is None:
                self.query_one("#detail", Static).update(f"no session {self.session_id}")
            return
        gone.remove_class("-gone")
        self.detail = detail
        view = detail.view
        self.query_one("#detail", Static).update(
            Text(show_crypto_session([view], detail=True, now=now))
        )
        self.query_one("#ike", Static).update(
            ike_text(view.ike_sas, now) if view.ike_sas else Text("no IKE SA", style="dim")
        )
        self.query_one("#flows", Static).update(
            flows_text(view.flows, now) if view.flows else Text("no IPsec flow", style="dim")
        )
        self.render_throughput(view.flows)
        log = Text()
        for entry in detail.log:
            if log:
                log.append("\n")
            log.append(entry.display())
        self.query_one("#log", Static).update(log or Text("no log lines", style="dim"))
        self.render_accounting()

    def _throughput_title(self, note: str = "") -> str:
        if self.range == "live":
            title = f"Throughput, last {SPARK_POINTS} s"
        else:
            title = f"Throughput, last {self.range} (history)"
        return f"{title}   [r: live/1h/1d/5d]{note}"

    def action_next_range(self) -> None:
        self.range = next_range(self.range)
        self._history_read_at = 0.0
        live = self.range == "live"
        self.query_one("#live-graphs").display = live
        self.query_one("#history-graphs").display = not live
        self.query_one("#throughput-title", Label).update(self._throughput_title())
        if self.detail is not None:
            self.render_throughput(self.detail.view.flows)

    def render_throughput(self, flows: Iterable[FlowRecord]) -> None:
        if self.range != "live":
            self.render_history(list(flows))
            return
        self.session_graph.show(self.store)
        flows = list(flows)
        if [flow.flow_id for flow in flows] != list(self.flow_graphs):
            box = self.query_one("#flow-graphs", Vertical)
            box.remove_children()
            self.flow_graphs = {
                flow.flow_id: ThroughputGraph(
                    f"flow {flow_line(flow)}", history_key(FLOWS, flow.flow_id)
                )
                for flow in flows
            }
            box.mount_all(self.flow_graphs.values())
        for graph in self.flow_graphs.values():
            graph.show(self.store)

    def render_history(self, flows: list[FlowRecord]) -> None:
        """Read the history again at its own pace (every 10 s), not at every tick."""
        now = time.time()
        if now - self._history_read_at < REFRESH_S:
            return
        self._history_read_at = now
        if [flow.flow_id for flow in flows] != list(self.flow_history):
            box = self.query_one("#flow-history", Vertical)
            box.remove_children()
            self.flow_history = {
                flow.flow_id: HistoryGraph(f"flow {flow_line(flow)}", ("in", "out"))
                for flow in flows
            }
            box.mount_all(self.flow_history.values())
        row = self.control.history(f"session/{self.session_id}", self.range)
        note = "  history is off: configure xsm history vdm" if row is None else ""
        self.query_one("#throughput-title", Label).update(self._throughput_title(note))
        if row is None:
            return
        throughput(self.session_history, row, now)
        for flow_id, graph in self.flow_history.items():
            throughput(graph, self.control.history(f"flow/{flow_id}", self.range), now)

    def render_accounting(self) -> None:
        rows = [
            accounting_fields(record)
            for record in self.store.table(ACCOUNTING).values()
            if isinstance(record, AccountingRecord) and record.session_id == self.session_id
        ]
        widget = self.query_one("#accounting", Static)
        if not rows:
            widget.update(Text("no accounting records for this session yet", style="dim"))
            return
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("RECORD", "SESSION", "DELIVERY", "SERVER", "TIME"):
            table.add_column(column, no_wrap=True)
        for row in rows:
            table.add_row(*row)
        widget.update(table)

    def action_clear_session(self) -> None:
        record = self.store.get(SESSIONS, self.session_id)
        if not isinstance(record, SessionRecord):
            self.notify("the session is already gone", severity="warning")
            return
        actions.confirm_clear(
            self.app,
            self.control,
            ClearFilter(remote_ip=record.remote_ip, remote_port=record.remote_port),
            f"Clear crypto session {peer_text(record.remote_ip, record.remote_port)}?",
        )
