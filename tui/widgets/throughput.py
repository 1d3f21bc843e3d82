"""Throughput of one history key (a session or a flow): in and out, as sparklines with
the current rate and the peak beside them."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline

from engine.store import Store
from tui.format import bit_rate

#: Seconds of history a graph covers.
SPARK_POINTS = 60


class ThroughputGraph(Vertical):
    """A title, then one sparkline per direction; `show` redraws it from the store."""

    DEFAULT_CSS = """
    ThroughputGraph {
        height: auto;
    }
    ThroughputGraph .graph-title {
        color: $text-muted;
    }
    ThroughputGraph Horizontal {
        height: 1;
    }
    ThroughputGraph Horizontal Label {
        width: 34;
    }
    ThroughputGraph Sparkline {
        width: 1fr;
        height: 1;
    }
    """

    def __init__(self, title: str, key: Hashable, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key
        self.heading = Label(title, classes="graph-title")
        # Built here, not in compose, so `show` works before the graph is mounted.
        self.rates = {direction: Label(direction) for direction in ("in", "out")}
        self.sparks = {direction: Sparkline([0.0] * SPARK_POINTS) for direction in ("in", "out")}

    def compose(self) -> Iterable[Any]:
        yield self.heading
        for direction in ("in", "out"):
            with Horizontal():
                yield self.rates[direction]
                yield self.sparks[direction]

    def show(self, store: Store) -> None:
        rates = store.rates(self.key)
        for direction, rate in (("in", rates.bytes_in_per_s), ("out", rates.bytes_out_per_s)):
            series = store.series(self.key, f"bytes_{direction}", SPARK_POINTS)
            self.sparks[direction].data = series
            self.rates[direction].update(
                f"{direction:<3} {bit_rate(rate):>11} (peak {bit_rate(max(series))})"
            )
