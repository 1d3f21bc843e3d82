"""Gateway-wide graphs from the statistics history: throughput, sessions, accounting
delivery, each tunnel interface, CPU and memory, over 1h, 1d or 5d, with the latest up
and down events. Needs `xsm history vdm` (and `edm` for CPU, memory); says so if off."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from engine.records import SessionStatus
from engine.xsm.history_recorder import GATEWAY, SYSTEM, status_metric
from tui.format import human
from tui.screens.base import ConsoleScreen
from tui.widgets.history import REFRESH_S, HistoryGraph, dense, next_range, throughput

HISTORY_RANGES = ("1h", "1d", "5d")
UP_METRICS = tuple(status_metric(s) for s in SessionStatus if s.is_up)
#: events listed under the graphs
EVENT_LINES = 12


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 or value == 0 else f"{value:.2f}"


def _per_s(value: float) -> str:
    return f"{value:.2f}/s" if value else "-"


def _percent(value: float) -> str:
    return f"{value:.1f}%"


def _bytes(value: float) -> str:
    return human(value, "B", 1024) if value else "-"


class DashboardScreen(ConsoleScreen):
    NAME = "dashboard"
    DEFAULT_CSS = """
    DashboardScreen #body {
        padding: 0 1;
    }
    DashboardScreen .section {
        margin-top: 1;
        text-style: bold;
        color: $accent;
    }
    DashboardScreen #tunnels {
        height: auto;
    }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("r", "next_range", "Range"),
    ]

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.range = "1h"
        self.traffic = HistoryGraph("all sessions", ("in", "out"))
        self.sessions = HistoryGraph("sessions", ("up", "all"))
        self.accounting = HistoryGraph("accounting", ("ack", "spool"))
        self.machine = HistoryGraph("gateway process and machine", ("cpu", "host", "rss"))
        self.tunnels: dict[str, HistoryGraph] = {}
        self._read_at = 0.0

    def compose_body(self) -> Iterable[Any]:
        with VerticalScroll(id="body"):
            yield Label(self._title(), id="dash-title", classes="section")
            yield Static(id="dash-note")
            yield self.traffic
            yield self.sessions
            yield self.accounting
            yield self.machine
            yield Label("Tunnel interfaces", classes="section")
            yield Vertical(id="tunnels")
            yield Label("Up and down events", classes="section")
            yield Static(id="events")

    def _title(self) -> str:
        return f"Gateway, last {self.range}   [r: 1h/1d/5d]"

    def load_view(self, now: float) -> None:
        self.render_history(force=True)

    def apply_changes(self, changes: object, now: float) -> None:
        self.render_history()

    def action_next_range(self) -> None:
        self.range = next_range(self.range, HISTORY_RANGES)
        self.query_one("#dash-title", Label).update(self._title())
        self.render_history(force=True)

    def render_history(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._read_at < REFRESH_S:
            return
        self._read_at = now
        note = self.query_one("#dash-note", Static)
        gateway = self.control.history(GATEWAY, self.range)
        if gateway is None:
            note.update(Text("history is off: configure xsm, xsm history vdm and edm", "dim"))
            return
        note.update("")
        throughput(self.traffic, gateway, now)
        lines = [dense(gateway, m, now, rate=False) for m in UP_METRICS]
        up = [sum(values) for values in zip(*lines, strict=True)]
        self.sessions.plot("up", up, _count)
        self.sessions.plot("all", dense(gateway, "sessions_total", now, rate=False), _count)
        self.accounting.plot("ack", dense(gateway, "accounting_acked", now, rate=True), _per_s)
        spool = dense(gateway, "accounting_spool_depth", now, rate=False)
        self.accounting.plot("spool", spool, _count)
        system = self.control.history(SYSTEM, self.range)
        for line, metric, word in (
            ("cpu", "cpu_process_percent", _percent),
            ("host", "cpu_machine_percent", _percent),
            ("rss", "memory_rss", _bytes),
        ):
            self.machine.plot(line, dense(system, metric, now, rate=False), word)
        self.render_tunnels(now)
        self.render_events(now)

    def render_tunnels(self, now: float) -> None:
        names = self.control.history_series("tunnel/")
        if names != list(self.tunnels):
            box = self.query_one("#tunnels", Vertical)
            box.remove_children()
            self.tunnels = {
                name: HistoryGraph(name.removeprefix("tunnel/"), ("in", "out")) for name in names
            }
            box.mount_all(self.tunnels.values())
        for name, graph in self.tunnels.items():
            throughput(graph, self.control.history(name, self.range), now)

    def render_events(self, now: float) -> None:
        events = self.control.history_events(now - 86_400)[-EVENT_LINES:]
        text = Text()
        for event in reversed(events):
            if text:
                text.append("\n")
            style = "green" if event["event"] == "up" else "red"
            text.append(f"{event['t'][:19].replace('T', ' ')}  ")
            text.append(f"{event['event']:<5}", style=style)
            text.append(f" {event['series'].removeprefix('session/')}  {event['detail']}")
        self.query_one("#events", Static).update(text or Text("no events yet", style="dim"))
