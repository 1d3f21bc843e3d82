"""Fixtures for the console tests: a real gateway pair on loopback, and a synthetic target
(a real Store and Control over fabricated sessions) for what one pair cannot show."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from netutil import free_port, until
from site_configs import SITE_A, SITE_B

from engine.control import Control
from engine.events import ChildAlgorithms
from engine.service import VpnService
from engine.sessions import (
    ChildRecord,
    Counters,
    FlowRecord,
    SessionRecord,
    SessionStatus,
)
from engine.store import FLOWS, SESSIONS, Store

#: The console's pilot terminal: wide enough for every sessions column.
SIZE = (220, 50)


class GatewayPair:
    """Site A (127.0.0.1, the gateway the console watches) and its peer B (127.0.0.2)."""

    def __init__(self, tmp_path: Path) -> None:
        self.path_a = tmp_path / "a.conf"
        self.path_b = tmp_path / "b.conf"
        self.path_a.write_text(self.config_a())
        self.path_b.write_text(SITE_B.format(key="shared-key-1"))
        ike, natt = free_port(), free_port()
        self.a = VpnService(
            self.path_a, bind="127.0.0.1", ike_port=ike, natt_port=natt, watch=False, dataplane=None
        )
        self.b = VpnService(
            self.path_b, bind="127.0.0.2", ike_port=ike, natt_port=natt, watch=False, dataplane=None
        )
        self.events_b: list[object] = []
        self.b.gateway.subscribe(self.events_b.append)

    @staticmethod
    def config_a(description: str = "Site B primary") -> str:
        return SITE_A.format(description=description, key="shared-key-1")

    def session(self) -> SessionRecord:
        (record,) = [r for r in self.a.store.table(SESSIONS).values()]
        assert isinstance(record, SessionRecord)
        return record

    def up(self) -> bool:
        records = list(self.a.store.table(SESSIONS).values())
        return len(records) == 1 and records[0].status is SessionStatus.UP_ACTIVE  # type: ignore[attr-defined]


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[GatewayPair]:
    gateways = GatewayPair(tmp_path)
    await gateways.b.start()
    await gateways.a.start()
    try:
        await until(gateways.up)
        yield gateways
    finally:
        await gateways.a.stop()
        await gateways.b.stop()


ALG = ChildAlgorithms("AES_GCM_16_256", "", None, False)


class SyntheticTarget:
    """Shaped like a VpnService for the console: store, control, config path, last reload."""

    def __init__(self, count: int) -> None:
        self.store = Store()
        self.control = Control(self)  # type: ignore[arg-type]
        self.last_reload = None
        self.model = None
        self.compiled = None
        self.gateway = None
        self.config_path = Path("synthetic.conf")
        self.count = count
        self.move_all(0)

    def put(self, index: int, traffic: int, status: SessionStatus | None = None) -> str:
        now = time.time()
        ip = f"10.0.{index // 256}.{index % 256}"
        session_id = f"{ip}:500"
        remote_net = f"10.{100 + index % 100}.{index // 100}.0/24"
        flow_id = f"{session_id} 10.0.0.0/16 {remote_net}"
        counters = Counters(traffic * 1000, traffic, traffic * 500, traffic)
        child = ChildRecord(
            index,
            index,
            0x1000 + index,
            0x2000 + index,
            ALG,
            now,
            now + 3600,
            None,
            False,
            counters,
        )
        flow = FlowRecord(
            flow_id,
            session_id,
            ("10.0.0.0/16",),
            (remote_net,),
            "crypto map",
            (child,),
        )
        self.store.put(FLOWS, flow_id, flow)
        statuses = list(SessionStatus)
        record = SessionRecord(
            session_id=session_id,
            peer_name=f"peer{index}",
            interface="eth0",
            remote_ip=ip,
            remote_port=500,
            local_ip="192.0.2.1",
            local_port=500,
            fvrf="",
            ivrf="blue" if index % 2 else "",
            description=f"branch {index:03d}",
            phase1_id=ip,
            username="",
            status=status or statuses[index % len(statuses)],
            ike_sa_ids=(index,),
            flow_ids=(flow_id,),
            capabilities="D",
            origin="crypto map",
            totals=counters,
            up_since=now - 60,
            changed_at=now,
        )
        self.store.put(SESSIONS, session_id, record)
        return session_id

    def move_all(self, traffic: int) -> None:
        """Every session's and flow's counters move to `traffic`, in one store batch."""
        with self.store.batch():
            for index in range(self.count):
                self.put(index, traffic)


@pytest.fixture
def synthetic() -> SyntheticTarget:
    return SyntheticTarget(12)


@pytest.fixture
def synthetic_300() -> SyntheticTarget:
    """More sessions than a screenful."""
    return SyntheticTarget(300)
