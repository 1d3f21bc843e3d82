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
from interop.freeradius import SYSTEM_CONFIG, FreeRadius, binary, gateway_config, launch
from netutil import free_port, until
from session_records import session_record
from site_configs import SITE_A, SITE_B

from engine.accounting.accountant import Accountant, AccountingRecord, DeliveryState
from engine.accounting.spool import Spool
from engine.accounting.transport import ServerState, Timers
from engine.config.compile import CompiledConfig, compile_config
from engine.config.model import Config
from engine.config.parser import parse_text
from engine.config.validate import validate
from engine.control import ClearFilter
from engine.dataplane.lab import EchoSource
from engine.events import ZERO, ChildSaInstalled, Counters, DownReason, SessionTransition
from engine.gateway import Gateway
from engine.logbook import Logbook
from engine.records import SessionRecord, SessionStatus
from engine.service import VpnService
from engine.store import ACCOUNTING, SERVERS, SESSIONS, Store

SECRET = "interop-radius-secret"
TIMERS = Timers(irt=0.2, mrt=0.4, mrc=3, mrd=1.2, spool_retry=0.3)
S = SessionStatus
Entry = dict[str, list[str]]


def config(port: int, key: str, more: str = "") -> tuple[Config, CompiledConfig]:
    """`more`: lines after the first radius-server host (more hosts for the group)."""
    text = gateway_config(port, key, hostname="interop-gw", interim_minutes=1, more=more)
    model = validate(parse_text(text, "interop.conf"))
    assert model.errors == [], [str(d) for d in model.errors]
    return model, compile_config(model)


def record(session_id: str, status: SessionStatus, totals: Counters = ZERO) -> SessionRecord:
    return session_record(
        session_id, status, totals, at=time.time(), phase1_id="branch.example.net", flow_ids=("f",)
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
        # each record was retried (new Ids) before it went to the spool
        assert state.retransmissions >= 2
        start = next(r for r in rows(store) if r.kind == "Start")
        assert start.attempts >= TIMERS.mrc
        assert "Shared secret is incorrect" in freeradius.log()
    finally:
        accountant.drain_timeout = 0.2
        await accountant.stop()
    assert freeradius.records() == []


@pytest.fixture
def second_radius(tmp_path: Path, freeradius: FreeRadius) -> Iterator[FreeRadius]:
    """Another private FreeRADIUS with the same secret, on its own ports."""
    radius = launch(tmp_path / "freeradius-2", SECRET)
    try:
        yield radius
    finally:
        code = radius.stop()
        print("".join(radius.output) + radius.log())
        assert code in (0, None)


async def test_primary_down_the_secondary_gets_the_records(
    tmp_path: Path, freeradius: FreeRadius, second_radius: FreeRadius
) -> None:
    store = Store()
    accountant = Accountant(
        store,
        Logbook(store),
        spool_path=tmp_path / "spool.sqlite",
        timers=TIMERS,
        nas_ip="10.0.0.1",
    )
    more = (
        f"radius-server host 127.0.0.1 auth-port 1812 acct-port {second_radius.acct_port} "
        f"key {SECRET}\n"
    )
    accountant.apply_config(*config(freeradius.acct_port, SECRET, more))
    primary, secondary = (f"127.0.0.1:{r.acct_port}" for r in (freeradius, second_radius))
    await accountant.start()
    try:
        accountant.on_transition(up("s1"))
        assert await accountant.wait_idle(10)
        acct_id1 = accountant.open_sessions()["s1"]
        assert status_of(entries_for(freeradius, acct_id1)) == ["Start"]
        assert second_radius.records() == []  # failover, not broadcast

        assert freeradius.stop() == 0
        accountant.on_transition(up("s2"))
        acct_id2 = accountant.open_sessions()["s2"]
        accountant.on_transition(down("s2", Counters(bytes_in=7, packets_in=1), DownReason.CLEARED))
        assert await accountant.wait_idle(10)
        assert status_of(entries_for(second_radius, acct_id2)) == ["Start", "Stop"]
        acked = [r for r in rows(store) if r.session_id == "s2"]
        assert {(r.kind, r.state, r.server) for r in acked} == {
            ("Start", DeliveryState.ACKED, secondary),
            ("Stop", DeliveryState.ACKED, secondary),
        }
        first, second = store.get(SERVERS, primary), store.get(SERVERS, secondary)
        assert isinstance(first, ServerState) and isinstance(second, ServerState)
        assert first.timeouts == 2 and first.responses == 2  # Accounting-On, s1 Start
        assert second.responses == 2 and second.timeouts == 0
        assert len(accountant.spool) == 0
    finally:
        accountant.drain_timeout = 3.0
        await accountant.stop()
    # s1 is stopped by the shutdown (NAS-Reboot), also on the secondary
    [stop1] = entries_for(second_radius, acct_id1)
    assert stop1["Acct-Terminate-Cause"] == ["NAS-Reboot"]


async def test_spooled_records_are_delivered_after_a_restart(
    tmp_path: Path, freeradius: FreeRadius
) -> None:
    assert freeradius.stop() == 0
    first, store = accountant_for(tmp_path, freeradius, SECRET)
    await first.start()
    first.on_transition(up("s3"))
    acct_id = first.open_sessions()["s3"]
    first.on_transition(down("s3", Counters(bytes_out=99, packets_out=3), DownReason.CLEARED))
    await wait_for(
        lambda: any(r.state is DeliveryState.SPOOLED for r in rows(store)), 10, "a spooled record"
    )
    first.drain_timeout = 0.2
    await first.stop()
    spool = Spool(tmp_path / "spool.sqlite")
    try:
        kinds = [r.status.label for r in spool.pending()]
    finally:
        spool.close()
    assert kinds[:3] == ["Accounting-On", "Start", "Stop"] and "Accounting-Off" in kinds

    await asyncio.sleep(1.0)  # Acct-Delay-Time counts whole seconds
    freeradius.start()
    second, _ = accountant_for(tmp_path, freeradius, SECRET)
    await second.start()
    try:
        assert await second.wait_idle(10)
        start, stop = entries_for(freeradius, acct_id)
        assert status_of([start, stop]) == ["Start", "Stop"]
        assert int(start["Acct-Delay-Time"][0]) >= 1
        assert int(stop["Acct-Delay-Time"][0]) >= 1
        assert stop["Acct-Output-Octets"] == ["99"]
        assert stop["Acct-Terminate-Cause"] == ["Admin-Reset"]
        assert len(second.spool) == 0
        statuses = status_of(freeradius.records())
        # the old run's On/Off first (their own stream), then the new run's On
        assert statuses.count("Accounting-On") == 2 and statuses.count("Accounting-Off") == 1
    finally:
        await second.stop()


ACCOUNTING_B = f"""\
aaa new-model
aaa accounting network ACCT start-stop group radius
radius-server host 127.0.0.1 auth-port {{auth}} acct-port {{acct}} key {SECRET}
radius-server vsa send accounting
"""


async def test_end_to_end_the_detail_file_holds_the_sessions_counters(
    tmp_path: Path, freeradius: FreeRadius, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Gateway, "enable_raw_esp", lambda self: False)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    conf_a, conf_b = tmp_path / "a" / "a.conf", tmp_path / "b" / "b.conf"
    conf_a.write_text(SITE_A.format(description="B", key="acct-e2e-key"))
    site_b = SITE_B.format(key="acct-e2e-key")
    site_b = site_b.replace(
        "hostname site-b\n",
        "hostname site-b\n"
        + ACCOUNTING_B.format(auth=freeradius.auth_port, acct=freeradius.acct_port),
    )
    site_b = site_b.replace(
        " keyring local KEYS\n", " keyring local KEYS\n aaa accounting psk ACCT\n"
    )
    conf_b.write_text(site_b)
    ike, natt = free_port(), free_port()
    a = VpnService(conf_a, bind="127.0.0.1", ike_port=ike, natt_port=natt, dataplane="echo")
    b = VpnService(
        conf_b,
        bind="127.0.0.2",
        ike_port=ike,
        natt_port=natt,
        dataplane="echo",
        state_dir=tmp_path / "b",
    )
    installed: list[ChildSaInstalled] = []
    a.gateway.subscribe(lambda e: installed.append(e) if isinstance(e, ChildSaInstalled) else None)
    await b.start()
    await a.start()
    try:
        await until(lambda: installed)
        assert a.dataplane is not None and b.dataplane is not None
        source = EchoSource(a.dataplane)  # type: ignore[arg-type]
        child = installed[0]
        source.selectors_added(child.traffic_selectors.local, child.traffic_selectors.remote)
        for _ in range(30):
            source.ping()
        await until(lambda: source.counters["echo replies"] == 30)
        a.dataplane.tick()
        b.dataplane.tick()
        (view,) = b.control.sessions()
        session_id = view.session.session_id
        acct_id = b.accountant.open_sessions()[session_id]
        totals = view.session.totals
        assert (totals.packets_in, totals.packets_out) == (30, 30)
        assert b.control.clear(ClearFilter()) == [session_id]
        await until(lambda: session_id not in b.accountant.open_sessions())
        assert await b.accountant.wait_idle(10)
        final = b.store.get(SESSIONS, session_id)
        if isinstance(final, SessionRecord):
            assert final.totals == totals  # no traffic after the last tick
    finally:
        await a.stop()
        await b.stop()
    start, stop = entries_for(freeradius, acct_id)
    assert status_of([start, stop]) == ["Start", "Stop"]
    assert start["NAS-IP-Address"] == ["127.0.0.2"]
    assert "isakmp-group-id=FROM-A" in start.get("Cisco-AVPair", [])
    assert stop["Acct-Input-Octets"] == [str(totals.bytes_in)]
    assert stop["Acct-Output-Octets"] == [str(totals.bytes_out)]
    assert stop["Acct-Input-Packets"] == [str(totals.packets_in)]
    assert stop["Acct-Output-Packets"] == [str(totals.packets_out)]
    assert stop["Acct-Terminate-Cause"] == ["Admin-Reset"]
