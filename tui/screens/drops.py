"""What the gateway refused and why: IKE and ESP drops by reason, the transport's errors
and the kernel's receive-queue drops, with their rate, from the engine's once-a-second
snapshot (`show crypto engine drops` as a live table)."""

from __future__ import annotations

from rich.text import Text

from engine.statistics import EngineStatistics
from engine.store import STATS, ChangeSet
from tui.format import plural
from tui.screens.base import TableScreen
from tui.widgets.cells import ColumnSpec, Row
from tui.widgets.keyed_table import KeyedTable


def counts_by_area(stats: EngineStatistics) -> dict[str, tuple[str, str, int]]:
    """key -> (area, reason, count): every non-zero counter an operator should see."""
    rows: dict[str, tuple[str, str, int]] = {}
    for area, counts in (
        ("IKE", stats.ike_drops),
        ("IKE", stats.ike_events),
        ("ESP", stats.esp_drops),
        ("transport", {k: v for k, v in stats.transport.items() if "datagrams" not in k}),
    ):
        for reason, count in counts.items():
            rows[f"{area} {reason}"] = (area, reason, count)
    for sock in stats.sockets:
        if sock.kernel_drops is not None:
            rows[f"kernel {sock.name}"] = (
                "kernel",
                f"{sock.name} receive queue full",
                sock.kernel_drops,
            )
    return rows


class DropsScreen(TableScreen):
    NAME = "drops"
    TABLES = frozenset({STATS})

    def __init__(self, target: object) -> None:
        super().__init__(target)  # type: ignore[arg-type]
        self.table = KeyedTable(
            [
                ColumnSpec("area", "AREA", str),
                ColumnSpec("reason", "REASON", str),
                ColumnSpec("count", "COUNT", lambda n: f"{n:,}", right=True),
                ColumnSpec(
                    "rate", "PER SECOND", lambda r: "-" if r is None else f"{r:,.1f}", right=True
                ),
            ],
            id="drops",
        )
        self._previous: EngineStatistics | None = None
        self._latest: EngineStatistics | None = None

    def load_view(self, now: float) -> None:
        self._show()

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        if changes is not None:
            part = changes.table(STATS)
            if part.added or part.changed:
                self._show()

    def _show(self) -> None:
        stats = self.store.get(STATS, "engine")
        if not isinstance(stats, EngineStatistics):
            self.update_summary()
            return
        self._previous, self._latest = self._latest, stats
        before = counts_by_area(self._previous) if self._previous is not None else {}
        elapsed = stats.at - self._previous.at if self._previous is not None else 0.0
        rows: dict[str, Row] = {}
        for key, (area, reason, count) in counts_by_area(stats).items():
            rate = None
            if elapsed > 0:
                rate = max(0, count - before.get(key, (area, reason, 0))[2]) / elapsed
            rows[key] = (area, reason, count, rate)
        gone = [key for key in self.table.model_keys() if key not in rows]
        self.table.sync(rows, gone)
        self.update_summary()

    def summary(self) -> Text:
        stats = self._latest
        if stats is None:
            return Text("no statistics yet", style="dim")
        text = Text(plural(stats.ike_sas, "IKE SA"), style="bold")
        text.append(f"  half-open {stats.half_open}  ")
        text.append(f"dropped: IKE {stats.ike_dropped:,}  ESP {stats.esp_dropped:,}  ")
        text.append(f"kernel {stats.kernel_dropped:,}")
        return text
