"""The history data sets: `history-vdm` (throughput, sessions by status, accounting
delivery, up/down events) and `history-edm` (CPU, memory, every interface's counters).

A row is one series over one range::

    "gateway/1d": {"series": "gateway", "range": "1d", "step": 60,
                   "points": [{"t": "2026-12-03T05:00:00.000Z", "bytes_in": 123456,
                               "sessions_up_active": 12.0, ...}, ...]}

A counter metric (bytes_*, packets_*, accounting_acked ...) is its growth within the
point's ``step`` seconds (divide by ``step`` for a rate); a gauge (sessions_*, cpu_*,
memory_*, accounting_spool_depth) is the average over it. The snapshot shows the
gateway-wide series (and each tunnel or interface) over 1h, 1d and 5d, the last hour's
events and the names of the per-session and per-flow series; one session's or flow's
history is a query: ``/xsm/xrd/history-vdm?series=session/7,flow/7-1&range=1d``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping

from engine.xsm.datasets import DataSet, Row, iso_time
from engine.xsm.history_db import RANGES, TIERS, HistoryDatabase, bucket_of
from engine.xsm.history_recorder import GATEWAY, SYSTEM

#: the series a query may name: kind/name, as the recorder spells them (a session id
#: holds spaces and `=`: "10.0.0.2:500 fvrf=WAN ivrf=CORP"; a comma separates series)
SERIES_NAME = re.compile(
    r"^(gateway|system|(session|flow|tunnel|interface)/[^,\x00-\x1f\x7f]{1,200})$"
)
MAX_QUERY_SERIES = 32
#: events in the snapshot (the last hour's newest)
SNAPSHOT_EVENTS = 200


def _number(value: float) -> float | int:
    return int(value) if value == int(value) else round(value, 3)


class HistoryRows:
    """Builds the rows from the database (when history is on: ``database()`` is None
    otherwise, and every set is empty); the coarse ranges are re-read only when their
    newest bucket moves, so a 10 s re-sample reads one hour of points per series."""

    def __init__(
        self,
        database: Callable[[], HistoryDatabase | None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[int, Row]] = {}

    @property
    def db(self) -> HistoryDatabase:
        db = self.database()
        if db is None:
            raise ValueError("statistics history is off (xsm history vdm|edm)")
        return db

    @property
    def enabled(self) -> bool:
        return self.database() is not None

    def series_row(self, series: str, range_: str, now: float, *, cached: bool = True) -> Row:
        step = TIERS[RANGES[range_]].step
        bucket = bucket_of(now, step)
        hit = self._cache.get((series, range_)) if cached and range_ != "1h" else None
        if hit is not None and hit[0] == bucket:
            return hit[1]
        points = self.db.points(series, range_, now)  # type: ignore[arg-type]
        row: Row = {
            "series": series,
            "range": range_,
            "step": step,
            "points": [
                {"t": iso_time(t), **{k: _number(v) for k, v in sorted(values.items())}}
                for t, values in points
            ],
        }
        if cached:
            self._cache[(series, range_)] = (bucket, row)
        return row

    def events_row(self, since: float, series: str | None = None) -> Row:
        return {
            "events": [
                {"t": iso_time(e.t), "series": e.series, "event": e.event, "detail": e.detail}
                for e in self.db.events(since, series, SNAPSHOT_EVENTS)
            ]
        }

    def _all_ranges(self, series: Iterable[str], now: float) -> dict[str, Row]:
        rows = {}
        for name in series:
            for range_ in RANGES:
                rows[f"{name}/{range_}"] = self.series_row(name, range_, now)
        live = {name for name in series}
        for key in [k for k in self._cache if k[0] not in live]:
            del self._cache[key]
        return rows

    def vdm(self) -> dict[str, Row]:
        if not self.enabled:
            return {}
        now = self.clock()
        hour = now - TIERS[0].span
        tunnels = self.db.series("tunnel/", hour)
        rows = self._all_ranges([GATEWAY, *tunnels], now)
        rows["events"] = self.events_row(hour)
        rows["series"] = {
            "sessions": self.db.series("session/", hour),
            "flows": self.db.series("flow/", hour),
            "tunnels": tunnels,
        }
        return rows

    def edm(self) -> dict[str, Row]:
        if not self.enabled:
            return {}
        now = self.clock()
        interfaces = self.db.series("interface/", now - TIERS[0].span)
        return self._all_ranges([SYSTEM, *interfaces], now)

    def query(self, params: Mapping[str, str]) -> dict[str, Row]:
        """`?series=A,B&range=1h|1d|5d` (every range when none is named)."""
        unknown = set(params) - {"series", "range"}
        if unknown:
            raise ValueError(f"unknown parameter {sorted(unknown)[0][:32]!r}; series, range")
        names = [n.strip() for n in params.get("series", "").split(",") if n.strip()]
        if not names:
            raise ValueError("name the series: ?series=session/ID,flow/ID,tunnel/NAME,gateway")
        if len(names) > MAX_QUERY_SERIES:
            raise ValueError(f"at most {MAX_QUERY_SERIES} series per request")
        for name in names:
            if not SERIES_NAME.match(name):
                raise ValueError(f"not a series name: {name[:64]!r}")
        wanted = params.get("range")
        if wanted is not None and wanted not in RANGES:
            raise ValueError(f"range is one of {', '.join(RANGES)}")
        ranges = [wanted] if wanted else list(RANGES)
        now = self.clock()
        rows: dict[str, Row] = {}
        for name in names:
            for range_ in ranges:
                rows[f"{name}/{range_}"] = self.series_row(name, range_, now, cached=False)
        span = max(TIERS[RANGES[r]].span for r in ranges)
        events = [e for name in names for e in self.events_row(now - span, name)["events"]]
        rows["events"] = {"events": sorted(events, key=lambda e: e["t"])}
        return rows


def history_datasets(rows: HistoryRows) -> list[DataSet]:
    return [
        DataSet(
            name="history-vdm",
            adapter="vdm",
            level="monitor",
            description="throughput, sessions by status, accounting and events: 1h/1d/5d",
            sample=lambda _source: rows.vdm(),
            sample_interval=float(TIERS[0].step),
            history=True,
            query=rows.query,
        ),
        DataSet(
            name="history-edm",
            adapter="edm",
            level="monitor",
            description="CPU, memory and interface counters: 1h/1d/5d",
            sample=lambda _source: rows.edm(),
            sample_interval=float(TIERS[0].step),
            history=True,
            query=rows.query,
        ),
    ]
