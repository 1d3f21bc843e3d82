"""Graphs over the statistics history (`xsm history vdm|edm`): a series' points over
1h, 1d or 5d as dense sparkline data, one value per bucket, zero where none was kept."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline

from tui.format import bit_rate

#: what the range key steps through; "live" is the store's own last minute at 1 Hz
RANGES = ("live", "1h", "1d", "5d")
SPANS = {"1h": 3600, "1d": 86_400, "5d": 5 * 86_400}
#: history is read again after this many seconds (its finest step)
REFRESH_S = 10.0


def next_range(current: str, ranges: Iterable[str] = RANGES) -> str:
    order = list(ranges)
    return order[(order.index(current) + 1) % len(order)] if current in order else order[0]


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def dense(row: Mapping[str, Any] | None, metric: str, now: float, *, rate: bool) -> list[float]:
    """One value per step from the range's start to now: a counter's growth as a
    per-second rate (``rate``) or a gauge as kept; zero where the history has no point."""
    if row is None:
        return []
    step = int(row["step"])
    span = SPANS[row["range"]]
    last = int(now // step) * step
    first = last - span + step
    out = [0.0] * (span // step)
    for point in row["points"]:
        value = point.get(metric)
        if value is None:
            continue
        index = (int(_epoch(point["t"])) - first) // step
        if 0 <= index < len(out):
            out[index] = value / step if rate else float(value)
    return out


class HistoryGraph(Vertical):
    """A title, then one sparkline per line (label, data, how to word a value)."""

    DEFAULT_CSS = """
    HistoryGraph {
        height: auto;
    }
    HistoryGraph .graph-title {
        color: $text-muted;
    }
    HistoryGraph Horizontal {
        height: 1;
    }
    HistoryGraph Horizontal Label {
        width: 34;
    }
    HistoryGraph Sparkline {
        width: 1fr;
        height: 1;
    }
    """

    def __init__(self, title: str, lines: Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heading = Label(title, classes="graph-title")
        self.labels = {line: Label(line) for line in lines}
        self.sparks = {line: Sparkline([0.0]) for line in self.labels}

    def compose(self) -> Iterable[Any]:
        yield self.heading
        for line in self.labels:
            with Horizontal():
                yield self.labels[line]
                yield self.sparks[line]

    def plot(self, line: str, data: list[float], word: Callable[[float], str]) -> None:
        """Newest value and peak beside the line; the sparkline keeps its last data when
        there is none (history off) so the screen does not flicker."""
        if data:
            self.sparks[line].data = data
        newest = data[-1] if data else 0.0
        peak = max(data) if data else 0.0
        self.labels[line].update(f"{line:<4}{word(newest):>11} (peak {word(peak)})")


def throughput(graph: HistoryGraph, row: Mapping[str, Any] | None, now: float) -> None:
    """The in/out lines of a session, flow, tunnel or the gateway, in bits per second."""
    for direction in ("in", "out"):
        graph.plot(direction, dense(row, f"bytes_{direction}", now, rate=True), bit_rate)
