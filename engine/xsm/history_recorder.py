"""Every 10 s, what the history keeps: the growth of each session's, flow's and tunnel
interface's counters, the sessions by status, accounting delivery, and (edm) CPU, memory
and every interface's counters; plus each session's up and down events as they happen.

Counters are read from a store snapshot (copy-on-write: later writes never show through
it), so the pass over 10k sessions and flows runs on a worker thread with the kernel
reads and the database write: neither a slow disk nor a big table stalls the event loop
(it would for ~150 ms at 10k sessions). A counter that falls (a new SA after rekey, a
restart) counts its new value as growth, so a series never goes negative and loses at
most one sample's worth. Per-session and per-flow series are kept for the ``max_series``
busiest of each sample (the gateway totals always count everything), so 100k idle
sessions cost no disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from engine.accounting.accountant import AccountingRecord, DeliveryState
from engine.accounting.transport import ServerState
from engine.events import Counters
from engine.records import FlowRecord, SessionRecord, SessionStatus
from engine.store import ACCOUNTING, FLOWS, SERVERS, SESSIONS, ChangeSet, Store, StoreSnapshot
from engine.xsm.history_db import TIERS, Event, HistoryDatabase, HistoryError, Point
from engine.xsm.samplers import InterfaceSampler, SystemSampler

log = logging.getLogger(__name__)

#: seconds between samples: the finest tier's step
SAMPLE_INTERVAL = float(TIERS[0].step)
#: seconds between roll-ups and prunes
MAINTAIN_INTERVAL = 60.0
#: the busiest sessions and flows given their own series in each sample
DEFAULT_MAX_SERIES = 2000

#: interfaces whose sessions add up to a tunnel interface's series (route-based VPN:
#: static tunnels and the virtual-access interfaces of virtual templates); counted from
#: the sessions, so a tunnel without a kernel device (the lab's) has its history too
TUNNEL_PREFIXES = ("Tunnel", "Virtual-Access")
COUNTER_METRICS = ("bytes_in", "bytes_out", "packets_in", "packets_out")
GATEWAY = "gateway"
SYSTEM = "system"


def session_series(session_id: str) -> str:
    return f"session/{session_id}"


def flow_series(flow_id: str) -> str:
    return f"flow/{flow_id}"


def tunnel_series(ios_name: str) -> str:
    return f"tunnel/{ios_name}"


def interface_series(name: str) -> str:
    return f"interface/{name}"


def status_metric(status: SessionStatus) -> str:
    return "sessions_" + status.value.lower().replace("-", "_")


class _Growth:
    """Previous readings of monotone counters, to turn readings into growth."""

    def __init__(self) -> None:
        self._last: dict[Hashable, tuple[int, ...]] = {}

    def step(self, key: Hashable, reading: tuple[int, ...]) -> tuple[int, ...]:
        last = self._last.get(key)
        self._last[key] = reading
        if last is None:
            return tuple(0 for _ in reading)
        pairs = zip(reading, last, strict=True)
        return tuple(now - then if now >= then else now for now, then in pairs)

    def keep_only(self, keys: set[Hashable]) -> None:
        for key in [k for k in self._last if k not in keys]:
            del self._last[key]


def _reading(counters: Counters) -> tuple[int, int, int, int]:
    return (counters.bytes_in, counters.bytes_out, counters.packets_in, counters.packets_out)


def _counter_points(series: str, growth: tuple[int, ...]) -> list[Point]:
    pairs = zip(COUNTER_METRICS, growth, strict=True)
    return [Point(series, name, value, True) for name, value in pairs]


class _Tunnels:
    """A fixed list of tunnel interfaces, read on the loop, for the worker thread."""

    def __init__(self, ports: list[Any]) -> None:
        self._ports = ports

    def tunnel_interfaces(self) -> list[Any]:
        return self._ports


class HistoryRecorder:
    def __init__(
        self,
        store: Store,
        db: HistoryDatabase,
        *,
        vdm: bool,
        edm: bool,
        tunnels: Callable[[], Iterable[Any]] = list,
        system: SystemSampler | None = None,
        interfaces: InterfaceSampler | None = None,
        clock: Callable[[], float] = time.time,
        max_series: int = DEFAULT_MAX_SERIES,
    ) -> None:
        self.store = store
        self.db = db
        self.vdm = vdm
        self.edm = edm
        self.tunnels = tunnels
        self.system = system or SystemSampler()
        self.interfaces = interfaces or InterfaceSampler()
        self.clock = clock
        self.max_series = max_series
        self._growth = _Growth()
        self._link_growth = _Growth()
        self._events: list[Event] = []
        self._status: dict[str, SessionStatus] = {}
        self._listener = store.listen(self._changed, tables=[SESSIONS])
        self._task: asyncio.Task[None] | None = None
        self._last_maintain = 0.0
        #: samples written, and samples that could not be (the reason is logged once)
        self.samples = 0
        self.failures = 0
        self.last_error = ""
        for key, record in store.table(SESSIONS).items():
            if isinstance(record, SessionRecord):
                self._status[str(key)] = record.status

    # -- events -------------------------------------------------------------------------

    def _changed(self, changes: ChangeSet) -> None:
        if not self.vdm:
            return
        table = changes.table(SESSIONS)
        now = self.clock()
        for section in (table.added, table.changed):
            for key, record in section.items():
                if not isinstance(record, SessionRecord):
                    continue
                was = self._status.get(str(key))
                self._status[str(key)] = record.status
                if was is None or was.is_up != record.status.is_up:
                    self._session_event(now, record, "up" if record.status.is_up else "down")
        for key in table.removed:
            was = self._status.pop(str(key), None)
            if was is not None and was.is_up:
                self._events.append(Event(now, session_series(str(key)), "down", "removed"))

    def _session_event(self, now: float, record: SessionRecord, event: str) -> None:
        # the series names the peer's address already: say who, and why it went down
        who = record.username or record.peer_name or record.phase1_id
        reason = record.down_reason if event == "down" and record.down_reason else ""
        detail = " ".join(part for part in (who, record.status.value, reason) if part)
        self._events.append(Event(now, session_series(record.session_id), event, detail))

    # -- sampling -----------------------------------------------------------------------

    def store_points(self, tables: StoreSnapshot) -> list[Point]:
        """The vdm points of a store snapshot (any thread: a snapshot never changes)."""
        points: list[Point] = []
        totals = [0, 0, 0, 0]
        by_status: Counter[SessionStatus] = Counter()
        busy: list[tuple[int, str, tuple[int, ...]]] = []
        keys: set[Hashable] = set()
        tunnels: dict[str, list[int]] = {}
        for record in tables.table(SESSIONS).values():
            if not isinstance(record, SessionRecord):
                continue
            by_status[record.status] += 1
            key = ("session", record.session_id)
            keys.add(key)
            growth = self._growth.step(key, _reading(record.totals))
            for index, value in enumerate(growth):
                totals[index] += value
            if record.interface.startswith(TUNNEL_PREFIXES):
                tunnel = tunnels.setdefault(record.interface, [0, 0, 0, 0])
                for index, value in enumerate(growth):
                    tunnel[index] += value
            if any(growth):
                busy.append((growth[0] + growth[1], session_series(record.session_id), growth))
        for record in tables.table(FLOWS).values():
            if not isinstance(record, FlowRecord):
                continue
            key = ("flow", record.flow_id)
            keys.add(key)
            growth = self._growth.step(key, _reading(record.totals))
            if any(growth):
                busy.append((growth[0] + growth[1], flow_series(record.flow_id), growth))
        busy.sort(key=lambda item: item[0], reverse=True)
        for _size, series, growth in busy[: self.max_series]:
            points.extend(_counter_points(series, growth))
        points.extend(_counter_points(GATEWAY, tuple(totals)))
        for name, growth in tunnels.items():
            points.extend(_counter_points(tunnel_series(name), tuple(growth)))
        for status in SessionStatus:
            points.append(Point(GATEWAY, status_metric(status), by_status[status], False))
        points.append(Point(GATEWAY, "sessions_total", sum(by_status.values()), False))
        points.extend(self._accounting_points(tables.table(ACCOUNTING), tables.table(SERVERS)))
        keys.add("accounting")
        self._growth.keep_only(keys)
        return points

    def _accounting_points(self, records: Any, servers: Any) -> list[Point]:
        states = Counter(r.state for r in records.values() if isinstance(r, AccountingRecord))
        server_states = [s for s in servers.values() if isinstance(s, ServerState)]
        reading = (
            sum(s.responses for s in server_states),
            sum(s.timeouts for s in server_states),
            sum(s.retransmissions for s in server_states),
        )
        acked, timeouts, retransmissions = self._growth.step("accounting", reading)
        return [
            Point(GATEWAY, "accounting_acked", acked, True),
            Point(GATEWAY, "accounting_timeouts", timeouts, True),
            Point(GATEWAY, "accounting_retransmissions", retransmissions, True),
            Point(
                GATEWAY,
                "accounting_spool_depth",
                states[DeliveryState.SPOOLED] + states[DeliveryState.FAILED],
                False,
            ),
        ]

    def kernel_points(self, tunnels: _Tunnels) -> list[Point]:
        """For edm: CPU, memory and every kernel interface's counters (/proc, /sys and
        netlink, so run on a worker thread)."""
        points: list[Point] = []
        if not self.edm:
            return points
        system = self.system.sample()
        for metric in ("cpu_process_percent", "cpu_machine_percent"):
            value = system.get(metric)
            if isinstance(value, int | float):
                points.append(Point(SYSTEM, metric, value, False))
        for metric in ("memory_rss", "memory_total", "memory_available"):
            value = system.get(metric)
            if isinstance(value, int):
                points.append(Point(SYSTEM, metric, value, False))
        rows = self.interfaces.rows(tunnels)
        self._link_growth.keep_only(set(rows))
        for name, row in rows.items():
            # a tunnel's kernel device receives what the tunnel decrypted (in) and sends
            # into the tunnel what is to be encrypted (out)
            reading = (row["rx_bytes"], row["tx_bytes"], row["rx_packets"], row["tx_packets"])
            growth = self._link_growth.step(name, reading)
            points.extend(_counter_points(interface_series(name), growth))
        return points

    async def sample_once(self) -> None:
        """One sample: store points on the loop, kernel points and the write on a worker."""
        now = self.clock()
        snapshot = self.store.snapshot() if self.vdm else None
        events, self._events = self._events, []
        tunnels = _Tunnels(list(self.tunnels()))

        def work() -> None:
            points = self.store_points(snapshot) if snapshot is not None else []
            kernel = self.kernel_points(tunnels)
            self.db.write(now, [*points, *kernel], events)
            if now - self._last_maintain >= MAINTAIN_INTERVAL:
                self.db.maintain(now)
                self._last_maintain = now

        try:
            await asyncio.to_thread(work)
        except (HistoryError, OSError) as exc:
            self.failures += 1
            if str(exc) != self.last_error:
                log.warning("statistics history: %s", exc)
            self.last_error = str(exc)
            return
        self.samples += 1

    # -- running ------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="xsm-history")

    async def _run(self) -> None:
        while True:
            now = self.clock()
            # sample on the bucket boundaries, so each sample fills one bucket
            await asyncio.sleep(SAMPLE_INTERVAL - now % SAMPLE_INTERVAL + 0.05)
            await self.sample_once()

    async def stop(self) -> None:
        self._listener.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
