"""The accountant against a real FreeRADIUS: what its detail file records is what an IOS
head-end's accounting would have given it, outages and a wrong key included.

FreeRADIUS runs from a temp copy of /etc/freeradius/3.0 (tests/interop/freeradius.py) on
free loopback ports, and is stopped by PID at the end of each test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from interop.conftest import free_udp_port, require
from interop.freeradius import SYSTEM_CONFIG, FreeRadius, binary

from engine.accounting.accountant import Accountant, AccountingRecord, DeliveryState
from engine.accounting.transport import ServerState, Timers
from engine.config.compile import CompiledConfig, compile_config
from engine.config.model import Config
from engine.config.parser import parse_text
from engine.config.validate import validate
from engine.events import DownReason
from engine.logbook import Logbook
from engine.sessions import ZERO, Counters, SessionRecord, SessionStatus, SessionTransition
from engine.store import ACCOUNTING, SERVERS, SESSIONS, Store

SECRET = "interop-radius-secret"
TIMERS = Timers(irt=0.2, mrt=0.4, mrc=3, mrd=1.2, spool_retry=0.3)
S = SessionStatus
Entry = dict[str, list[str]]


def config(port: int, key: str) -> tuple[Config, CompiledConfig]:
    text = f"""\
hostname interop-gw
aaa new-model
aaa accounting network ACCT start-stop group radius
aaa accounting update periodic 1
aaa session-id common
radius-server host 127.0.0.1 auth-port 1812 acct-port {port} key {key}
radius-server vsa send accounting
ip vrf CORP
crypto ikev2 keyring KEYS
 peer B
  address 10.0.0.2
  pre-shared-key peer-key
crypto ikev2 profile PROF
 match identity remote address 10.0.0.2 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KEYS
 ivrf CORP
 aaa accounting psk ACCT
crypto ipsec transform-set TS esp-gcm 256
ip access-list extended TO-B
 permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255
crypto map WAN 10 ipsec-isakmp
 set peer 10.0.0.2
 set transform-set TS
 set ikev2-profile PROF
 match address TO-B
interface GigabitEthernet1
 ip address 10.0.0.1 255.255.255.0
 crypto map WAN
"""
    model = validate(parse_text(text, "interop.conf"))
    assert model.errors == [], [str(d) for d in model.errors]
    return model, compile_config(model)


def record(session_id: str, status: SessionStatus, totals: Counters = ZERO) -> SessionRecord:
    now = time.time()
    return SessionRecord(
        session_id=session_id,
        peer_name="WAN 10",
        interface="GigabitEthernet1",
        remote_ip="10.0.0.2",
        remote_port=500,
        local_ip="10.0.0.1",
        local_port=500,
        fvrf="",
        ivrf="CORP",
        description="",
        phase1_id="branch.example.net",
        username="",
        status=status,
        ike_sa_ids=(1,),
        flow_ids=("f",),
        capabilities="D",
        origin="crypto map",
        totals=totals,
        up_since=now,
        changed_at=now,
    )


def up(session_id: str) -> SessionTransition:
    return SessionTransition(record(session_id, S.UP_ACTIVE), S.UP_IDLE, S.UP_ACTIVE, time.time())


def down(session_id: str, totals: Counters, reason: DownReason) -> SessionTransition:
    return SessionTransition(
        record(session_id, S.DOWN, totals), S.UP_ACTIVE, S.DOWN, time.time(), reason
    )


def entries_for(radius: FreeRadius, acct_id: str) -> list[Entry]:
    return [e for e in radius.records() if e.get("Acct-Session-Id") == [acct_id]]


def status_of(entries: list[Entry]) -> list[str]:
    return [e["Acct-Status-Type"][0] for e in entries]


def rows(store: Store) -> list[AccountingRecord]:
    found = [r for r in store.table(ACCOUNTING).values() if isinstance(r, AccountingRecord)]
    return sorted(found, key=lambda r: r.record_id)


async def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)
        await asyncio.sleep(0.02)


@pytest.fixture
def freeradius(tmp_path: Path) -> Iterator[FreeRadius]:
    require(binary(), "freeradius not installed (apt-get install freeradius freeradius-utils)")
    require(SYSTEM_CONFIG.is_dir(), f"{SYSTEM_CONFIG} missing (apt-get install freeradius)")
    radius = FreeRadius(
        tmp_path / "freeradius",
        auth_port=free_udp_port(),
        acct_port=free_udp_port(),
        secret=SECRET,
    )
    radius.workdir.mkdir()
    radius.configure()
    radius.start()
    try:
        yield radius
    finally:
        code = radius.stop()
        print("".join(radius.output) + radius.log())
        assert code in (0, None)


def accountant_for(tmp_path: Path, radius: FreeRadius, key: str) -> tuple[Accountant, Store]:
    store = Store()
    accountant = Accountant(
        store,
        Logbook(store),
        spool_path=tmp_path / "spool.sqlite",
        timers=TIMERS,
        nas_ip="10.0.0.1",
        drain_timeout=2.0,
    )
    accountant.apply_config(*config(radius.acct_port, key))
    return accountant, store


async def test_start_interim_stop_and_an_outage(tmp_path: Path, freeradius: FreeRadius) -> None:
    accountant, store = accountant_for(tmp_path, freeradius, SECRET)
    await accountant.start()
    try:
        accountant.on_transition(up("s1"))
        assert await accountant.wait_idle(10)
        [on] = [e for e in freeradius.records() if e["Acct-Status-Type"] == ["Accounting-On"]]
        assert on["NAS-Identifier"] == ["interop-gw"]
        assert on["NAS-IP-Address"] == ["10.0.0.1"]
        acct_id = accountant.open_sessions()["s1"]

        mid = Counters(bytes_in=152608, packets_in=1004, bytes_out=70000, packets_out=500)
        store.put(SESSIONS, "s1", replace(record("s1", S.UP_ACTIVE), totals=mid))
        await asyncio.sleep(1.1)
        assert accountant.interim("s1")
        big = Counters(bytes_in=3 * 2**32 + 1234, packets_in=5000, bytes_out=999, packets_out=9)
        accountant.on_transition(down("s1", big, DownReason.CLEARED))
        assert await accountant.wait_idle(10)

        start, interim, stop = entries_for(freeradius, acct_id)
        assert status_of([start, interim, stop]) == ["Start", "Interim-Update", "Stop"]
        assert start["NAS-IP-Address"] == ["10.0.0.1"]
        assert start["NAS-Port"] == ["0"]
        assert start["Cisco-NAS-Port"] == ["GigabitEthernet1"]
        assert start["Acct-Delay-Time"] == ["0"]
        assert start["Cisco-AVPair"] == [
            "isakmp-group-id=PROF",
            "vrf-id=CORP",
            "isakmp-initator-ip=10.0.0.2",
            "isakmp-phase1-id=branch.example.net",
            "connect-progress=No Progress",
        ]
        assert "Acct-Input-Octets" not in start
        assert interim["Acct-Input-Octets"] == ["152608"]
        assert interim["Acct-Output-Octets"] == ["70000"]
        assert interim["Acct-Input-Packets"] == ["1004"]
        assert interim["Acct-Output-Packets"] == ["500"]
        assert int(interim["Acct-Session-Time"][0]) >= 1
        assert stop["Acct-Input-Octets"] == ["1234"]
        assert stop["Acct-Input-Gigawords"] == ["3"]
        assert stop["Acct-Output-Octets"] == ["999"]
        assert stop["Acct-Output-Gigawords"] == ["0"]
        assert stop["Acct-Terminate-Cause"] == ["Admin-Reset"]
        assert "disc-cause-ext=Local Admin Disconnect" in stop["Cisco-AVPair"]
        # FreeRADIUS's acct_unique ties the three together
        assert len({e["Acct-Unique-Session-Id"][0] for e in (start, interim, stop)}) == 1

        # The server goes away: the next session's records wait in the spool.
        assert freeradius.stop() == 0
        accountant.on_transition(up("s2"))
        outage = time.time()
        accountant.on_transition(
            down("s2", Counters(bytes_in=10, packets_in=1), DownReason.PEER_DELETE)
        )
        acct_id2 = next(r.acct_session_id for r in rows(store) if r.session_id == "s2")
        await wait_for(
            lambda: any(
                r.session_id == "s2" and r.state is DeliveryState.SPOOLED for r in rows(store)
            ),
            10,
            "the Start of s2 to be spooled",
        )
        pending = {(r.kind, r.state) for r in rows(store) if r.session_id == "s2"}
        assert ("Stop", DeliveryState.PENDING) in pending  # behind its Start
        assert len(accountant.spool) == 2
        await asyncio.sleep(max(0.0, 1.2 - (time.time() - outage)))
        freeradius.start()
        assert await accountant.wait_idle(10)
        start2, stop2 = entries_for(freeradius, acct_id2)
        assert status_of([start2, stop2]) == ["Start", "Stop"]
        assert int(start2["Acct-Delay-Time"][0]) > 0
        assert int(stop2["Acct-Delay-Time"][0]) > 0
        assert stop2["Acct-Terminate-Cause"] == ["User-Request"]
        assert len(accountant.spool) == 0
    finally:
        await accountant.stop()
    offs = [e for e in freeradius.records() if e["Acct-Status-Type"] == ["Accounting-Off"]]
    assert len(offs) == 1
    assert SECRET not in freeradius.detail.read_text()


async def test_wrong_secret_gets_no_answer(tmp_path: Path, freeradius: FreeRadius) -> None:
    accountant, store = accountant_for(tmp_path, freeradius, "not-the-secret")
    await accountant.start()
    try:
        accountant.on_transition(up("s9"))
        await wait_for(
            lambda: any(
                r.kind == "Start" and r.state is DeliveryState.SPOOLED for r in rows(store)
            ),
            10,
            "the Start to be spooled",
        )
        assert not any(r.state is DeliveryState.ACKED for r in rows(store))
        assert len(accountant.spool) == 2  # Accounting-On and Start
        assert freeradius.records() == []
        state = store.get(SERVERS, f"127.0.0.1:{freeradius.acct_port}")
        assert isinstance(state, ServerState)
        assert state.timeouts >= 1 and state.responses == 0
    finally:
        accountant.drain_timeout = 0.2
        await accountant.stop()
    assert freeradius.records() == []
