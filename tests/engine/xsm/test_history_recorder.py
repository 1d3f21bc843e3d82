"""The history recorder: growth per sample from the store's totals (resets included),
sessions by status, up/down events, tunnel and interface counters, the busiest cap."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from session_records import session_record

from engine.events import Counters
from engine.records import FlowRecord, SessionRecord, SessionStatus
from engine.store import FLOWS, SESSIONS, Store
from engine.xsm.history_db import HistoryDatabase
from engine.xsm.history_recorder import HistoryRecorder
from engine.xsm.samplers import InterfaceSampler, Link

T0 = 1_800_000_000.0 - 1_800_000_000.0 % 86_400


def session(session_id: str, status: SessionStatus, bytes_in: int = 0) -> SessionRecord:
    totals = Counters(bytes_in=bytes_in, packets_in=bytes_in // 100)
    return session_record(
        session_id,
        status,
        totals,
        at=T0,
        peer_name=f"peer {session_id}",
        ivrf="",
        flow_ids=(f"{session_id}-1",),
    )


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Port:
    name: str
    linux_name: str
    up: bool = True


class Links:
    def __init__(self) -> None:
        self.rx = {"eth0": 0, "tun7": 0}

    def __call__(self) -> list[Link]:
        return [
            Link(name, i, "up", True, 1500, "", (), rx_bytes=rx, rx_packets=rx // 100)
            for i, (name, rx) in enumerate(self.rx.items())
        ]


@pytest.fixture
async def rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store()
    db = HistoryDatabase(tmp_path / "history.sqlite")
    clock = Clock()
    links = Links()
    recorder = HistoryRecorder(
        store,
        db,
        vdm=True,
        edm=True,
        tunnels=lambda: [Port("Tunnel7", "tun7")],
        interfaces=InterfaceSampler(links),
        clock=clock,
        max_series=2,
    )
    yield store, db, clock, links, recorder
    await recorder.stop()
    db.close()


async def step(recorder: HistoryRecorder, clock: Clock) -> None:
    await recorder.sample_once()
    clock.now += 10


async def test_growth_per_sample_and_a_counter_reset_loses_nothing(rig) -> None:  # type: ignore[no-untyped-def]
    store, db, clock, _links, recorder = rig
    for total in (1000, 3000, 500, 1500):  # a new SA after the second sample: a reset
        store.put(SESSIONS, "7", session("7", SessionStatus.UP_ACTIVE, total))
        store.flush()
        await step(recorder, clock)
    points = db.points("session/7", "1h", clock.now)
    # the first reading is the baseline; then +2000, the reset's 500, +1000
    assert [p["bytes_in"] for _, p in points] == [2000, 500, 1000]
    gateway = db.points("gateway", "1h", clock.now)
    assert [p["bytes_in"] for _, p in gateway] == [0, 2000, 500, 1000]
    assert {p["sessions_up_active"] for _, p in gateway} == {1}


async def test_sessions_by_status_and_up_down_events(rig) -> None:  # type: ignore[no-untyped-def]
    store, db, clock, _links, recorder = rig
    store.put(SESSIONS, "1", session("1", SessionStatus.DOWN_NEGOTIATING))
    store.put(SESSIONS, "2", session("2", SessionStatus.UP_ACTIVE))
    store.flush()
    await step(recorder, clock)
    store.put(SESSIONS, "1", session("1", SessionStatus.UP_ACTIVE))
    store.put(SESSIONS, "2", replace(session("2", SessionStatus.DOWN), down_reason="cleared"))
    store.flush()
    store.remove(SESSIONS, "1")
    store.flush()
    await step(recorder, clock)
    gateway = db.points("gateway", "1h", clock.now)
    first, second = (p for _, p in gateway)
    assert (first["sessions_down_negotiating"], first["sessions_up_active"]) == (1, 1)
    assert (second["sessions_down"], second["sessions_total"]) == (1, 1)
    events = [(e.series, e.event) for e in db.events(0)]
    assert events == [
        ("session/1", "down"),
        ("session/2", "up"),
        ("session/1", "up"),
        ("session/2", "down"),
        ("session/1", "down"),
    ]
    assert "cleared" in db.events(0, "session/2")[-1].detail


async def test_flows_tunnels_and_interfaces(rig) -> None:  # type: ignore[no-untyped-def]
    store, db, clock, links, recorder = rig
    flow = FlowRecord("7-1", "7", ("10.1.0.0/24",), ("10.2.0.0/24",), "crypto map")
    store.put(FLOWS, "7-1", flow)
    for key in ("7", "8"):  # two sessions on Tunnel7 add up to its series
        record = replace(session(key, SessionStatus.UP_ACTIVE), interface="Tunnel7")
        store.put(SESSIONS, key, record)
    store.flush()
    await step(recorder, clock)
    store.put(FLOWS, "7-1", replace(flow, retired=Counters(bytes_out=640, packets_out=5)))
    for key, grown in (("7", 300), ("8", 500)):
        record = replace(session(key, SessionStatus.UP_ACTIVE, grown), interface="Tunnel7")
        store.put(SESSIONS, key, record)
    store.flush()
    links.rx = {"eth0": 5000, "tun7": 800}
    await step(recorder, clock)
    ((_, flow_point),) = db.points("flow/7-1", "1h", clock.now)
    assert (flow_point["bytes_out"], flow_point["packets_out"]) == (640, 5)
    tunnel = db.points("tunnel/Tunnel7", "1h", clock.now)
    assert [p["bytes_in"] for _, p in tunnel] == [0, 800]
    assert [p["bytes_in"] for _, p in db.points("interface/eth0", "1h", clock.now)] == [0, 5000]
    assert [p["bytes_in"] for _, p in db.points("interface/tun7", "1h", clock.now)] == [0, 800]


async def test_only_the_busiest_sessions_get_their_own_series(rig) -> None:  # type: ignore[no-untyped-def]
    store, db, clock, _links, recorder = rig
    for i in range(5):
        store.put(SESSIONS, str(i), session(str(i), SessionStatus.UP_ACTIVE, 0))
    store.flush()
    await step(recorder, clock)
    for i in range(5):
        store.put(SESSIONS, str(i), session(str(i), SessionStatus.UP_ACTIVE, 100 * (i + 1)))
    store.flush()
    await step(recorder, clock)
    assert db.series("session/") == ["session/3", "session/4"]
    # the gateway still counts all five
    assert db.points("gateway", "1h", clock.now)[-1][1]["bytes_in"] == 1500


async def test_vdm_off_records_no_sessions_and_edm_off_no_system(rig) -> None:  # type: ignore[no-untyped-def]
    store, db, clock, _links, recorder = rig
    recorder.vdm = False
    store.put(SESSIONS, "1", session("1", SessionStatus.UP_ACTIVE, 10))
    store.flush()
    await step(recorder, clock)
    assert db.series() == ["interface/eth0", "interface/tun7", "system"]
    assert db.events(0) == []
    recorder.vdm, recorder.edm = True, False
    await step(recorder, clock)
    assert db.series(since=clock.now - 10) == ["gateway"]
