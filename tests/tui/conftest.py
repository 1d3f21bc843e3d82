"""Fixtures for the console tests: a real gateway pair on loopback, and a synthetic target
(a real Store and Control over fabricated sessions) for what one pair cannot show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_target import SyntheticTarget
from netutil import free_port, until
from site_configs import SITE_A, SITE_B

from engine.records import SessionRecord, SessionStatus
from engine.service import VpnService
from engine.store import SESSIONS

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
        # Each gateway its own state (the accounting spool): one spool is one daemon's.
        self.a = VpnService(
            self.path_a, bind="127.0.0.1", ike_port=ike, natt_port=natt, watch=False,
            dataplane=None, state_dir=tmp_path / "state-a",
        )  # fmt: skip
        self.b = VpnService(
            self.path_b, bind="127.0.0.2", ike_port=ike, natt_port=natt, watch=False,
            dataplane=None, state_dir=tmp_path / "state-b",
        )  # fmt: skip
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


@pytest.fixture
def synthetic() -> SyntheticTarget:
    return SyntheticTarget(12)


@pytest.fixture
def synthetic_300() -> SyntheticTarget:
    """More sessions than a screenful."""
    return SyntheticTarget(300)
