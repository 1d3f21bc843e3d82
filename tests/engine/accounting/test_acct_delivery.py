"""Delivery over real UDP on 127.0.0.1 to an in-test RADIUS accounting server:
retransmission, verification, Identifier space, failover, deadtime, broadcast."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from acct_support import (
    FAST,
    KEY,
    T0,
    Clock,
    Received,
    Responder,
    config_text,
    down,
    log_lines,
    make_accountant,
    up,
)

from engine.accounting.accountant import AccountingRecord, DeliveryState
from engine.accounting.transport import ServerState
from engine.events import Counters
from engine.store import ACCOUNTING, SERVERS, Store


def drop(received: Received) -> Sequence[float]:
    return []


def records_of(store: Store) -> list[AccountingRecord]:
    rows = [r for r in store.table(ACCOUNTING).values() if isinstance(r, AccountingRecord)]
    return sorted(rows, key=lambda r: r.record_id)


def sessions_only(responder: Responder) -> list[Received]:
    return [r for r in responder.received if not r.status.startswith("Accounting-")]


async def wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


@pytest.fixture
async def responders():
    started: list[Responder] = []

    async def make(**kwargs: object) -> Responder:
        responder = await Responder(**kwargs).start()  # type: ignore[arg-type]
        started.append(responder)
        return responder

    yield make
    for responder in started:
        responder.close()


async def test_start_is_acknowledged_and_reported(tmp_path: Path, responders) -> None:
    server = await responders()
    accountant, store = make_accountant(tmp_path, config_text([server.port]))
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        assert await accountant.wait_idle(5)
        statuses = [r.status for r in server.received]
        assert sorted(statuses) == ["Accounting-On", "Start"]
        start = next(r for r in server.received if r.status == "Start")
        assert start.session == "00000002"  # Accounting-On took 00000001
        assert start.one("Acct-Delay-Time") == 0
        assert start.one("NAS-IP-Address") == "10.0.0.1"
        assert start.one("Cisco-NAS-Port") == "GigabitEthernet1"
        assert "isakmp-initator-ip=10.0.0.2" in start.attributes["Cisco-AVPair"]
        on = next(r for r in server.received if r.status == "Accounting-On")
        assert on.one("NAS-Identifier") == "gw-test"
        [_on, start_record] = records_of(store)
        assert start_record.state is DeliveryState.ACKED
        assert start_record.server == f"127.0.0.1:{server.port}"
        assert start_record.attempts == 1 and start_record.acked_at is not None
        assert ("Acct-Delay-Time", 0) in start_record.attributes
        assert len(accountant.spool) == 0
        state = store.get(SERVERS, f"127.0.0.1:{server.port}")
        assert isinstance(state, ServerState)
        assert state.alive and state.responses == 2 and state.requests == 2
        assert state.avg_rtt_ms is not None and state.in_flight == 0
        text = "\n".join(log_lines(store))
        assert f"AAA: accounting Start sent for session 00000002 to 127.0.0.1:{server.port}" in text
        assert f"accounting Start for session 00000002 acknowledged by 127.0.0.1:{server.port}" in (
            text
        )
        assert KEY not in text + repr(records_of(store)) + repr(state)
    finally:
        await accountant.stop()
    assert [r.status for r in server.received][-1] == "Accounting-Off"


async def test_retransmissions_get_a_new_id_and_delay(tmp_path: Path, responders) -> None:
    """RFC 5080 2.2.1: Acct-Delay-Time changes, so Id and authenticator change too."""
    clock = Clock()

    def lossy(received: Received) -> Sequence[float]:
        if received.status != "Start":
            return [0.0]
        clock.advance(1.0)  # each lost try costs a second of (fake) wall time
        return [0.0] if len(starts()) >= 3 else []

    server = await responders(policy=lossy)

    def starts() -> list[Received]:
        return [r for r in server.received if r.status == "Start"]

    accountant, store = make_accountant(tmp_path, config_text([server.port]), clock=clock)
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        assert await accountant.wait_idle(5)
        tries = starts()
        assert [r.delay for r in tries] == [0, 1, 2]
        assert len({r.ident for r in tries}) == 3
        assert len({r.session for r in tries}) == 1
        start = records_of(store)[-1]
        assert start.state is DeliveryState.ACKED and start.attempts == 3
        assert dict(start.attributes)["Acct-Delay-Time"] == 2
        text = "\n".join(log_lines(store))
        assert "retransmitting (2/3)" in text and "retransmitting (3/3)" in text
        state = store.get(SERVERS, f"127.0.0.1:{server.port}")
        assert isinstance(state, ServerState) and state.retransmissions == 2
    finally:
        await accountant.stop()


async def test_a_forged_response_is_ignored(tmp_path: Path, responders) -> None:
    server = await responders(answer_secret=b"not-the-key")
    accountant, store = make_accountant(tmp_path, config_text([server.port]))
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        await wait_for(lambda: records_of(store)[-1].state is DeliveryState.SPOOLED)
        state = store.get(SERVERS, f"127.0.0.1:{server.port}")
        assert isinstance(state, ServerState)
        assert state.bad_authenticators >= 3 and state.responses == 0
        assert len(accountant.spool) == 2  # Accounting-On and Start, both unacknowledged
        server.answer_secret = None
        assert await accountant.wait_idle(5)
        assert len(accountant.spool) == 0
    finally:
        await accountant.stop()


async def test_duplicate_responses_are_counted_and_ignored(tmp_path: Path, responders) -> None:
    server = await responders(policy=lambda r: [0.0, 0.0, 0.01])
    clock = Clock()
    accountant, store = make_accountant(tmp_path, config_text([server.port]), clock=clock)
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        assert await accountant.wait_idle(5)
        clock.advance(10)
        accountant.on_transition(down(T0 + 10, Counters(bytes_in=10)))
        assert await accountant.wait_idle(5)
        await asyncio.sleep(0.05)
        state = store.get(SERVERS, f"127.0.0.1:{server.port}")
        assert isinstance(state, ServerState)
        assert state.responses == 3  # On, Start, Stop
        assert state.duplicates == 6
        assert state.bad_authenticators == 0
        acked = [line for line in log_lines(store) if "acknowledged" in line]
        assert len(acked) == 3
    finally:
        await accountant.stop()


async def test_more_than_256_in_flight_use_more_sockets(tmp_path: Path, responders) -> None:
    count = 300
    released = asyncio.Event()

    def hold(received: Received) -> Sequence[float]:
        starts = sum(1 for r in server.received if r.status == "Start")
        if starts >= count:
            released.set()
        return [0.3]

    server = await responders(policy=hold)
    slow = replace(FAST, irt=2.0, mrt=2.0, mrd=6.0)
    accountant, _ = make_accountant(tmp_path, config_text([server.port]), timers=slow)
    # all of them in flight at once, not after the window has grown to it
    accountant.transport.window_initial = count
    await accountant.start()
    try:
        for i in range(count):
            accountant.on_transition(up(T0, session_id=f"s{i}"))
        await asyncio.wait_for(released.wait(), 5)
        assert accountant.transport.socket_count >= 2
        assert await accountant.wait_idle(10)
        starts = [r for r in server.received if r.status == "Start"]
        assert len(starts) == count  # nothing was retransmitted
        assert len({r.session for r in starts}) == count
        ports = {r.source[1] for r in starts}
        assert len(ports) >= 2
        per_port = {p: [r.ident for r in starts if r.source[1] == p] for p in ports}
        assert all(len(ids) == len(set(ids)) <= 256 for ids in per_port.values())
    finally:
        await accountant.stop()


async def test_failover_to_the_second_server(tmp_path: Path, responders) -> None:
    first = await responders(policy=drop)
    second = await responders()
    text = config_text([first.port, second.port], group="RAD")
    accountant, store = make_accountant(tmp_path, text)
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        assert await accountant.wait_idle(5)
        assert [r.status for r in sessions_only(first)] == ["Start"] * 3
        assert [r.status for r in sessions_only(second)] == ["Start"]
        start = records_of(store)[-1]
        assert start.server == f"127.0.0.1:{second.port}"
        assert start.attempts == 4
        text = "\n".join(log_lines(store))
        assert f"Start for session 00000002: no response from 127.0.0.1:{first.port} after 3 " in (
            text
        )
        # deadtime 0: the first server is still tried first
        accountant.on_transition(down(T0 + 1))
        assert await accountant.wait_idle(5)
        assert [r.status for r in sessions_only(first)] == ["Start"] * 3 + ["Stop"] * 3
    finally:
        await accountant.stop()


async def test_deadtime_skips_a_dead_server(tmp_path: Path, responders) -> None:
    first = await responders(policy=drop)
    second = await responders()
    timers = replace(FAST, deadtime=0.6)
    text = config_text([first.port, second.port], deadtime=1)
    accountant, store = make_accountant(tmp_path, text, timers=timers)
    await accountant.start()
    try:
        assert await accountant.wait_idle(5)  # Accounting-On: the first failed, the second took it
        assert [r.status for r in first.received] == ["Accounting-On"] * 3
        name = f"127.0.0.1:{first.port}"
        state = store.get(SERVERS, name)
        assert isinstance(state, ServerState) and not state.alive
        assert state.dead_since is not None and state.dead_until is not None
        lines = "\n".join(log_lines(store))
        assert f"%RADIUS-4-RADIUS_DEAD: RADIUS server 127.0.0.1:1812,{first.port} is not" in lines
        accountant.on_transition(up(T0))
        assert await accountant.wait_idle(5)
        assert len(first.received) == 3  # skipped while dead
        assert [r.status for r in sessions_only(second)] == ["Start"]
        await asyncio.sleep(0.7)
        first.policy = lambda r: [0.0]
        accountant.on_transition(up(T0, session_id="another session"))
        assert await accountant.wait_idle(5)
        assert [r.status for r in sessions_only(first)] == ["Start"]
        state = store.get(SERVERS, name)
        assert isinstance(state, ServerState) and state.alive
        assert "%RADIUS-6-RADIUS_ALIVE" in "\n".join(log_lines(store))
    finally:
        await accountant.stop()


async def test_broadcast_reaches_both_servers(tmp_path: Path, responders) -> None:
    first = await responders()
    second = await responders(policy=drop)
    text = config_text([first.port, second.port], broadcast=True)
    accountant, store = make_accountant(tmp_path, text)
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        await wait_for(
            lambda: any(
                r.kind == "Start" and r.state is DeliveryState.SPOOLED for r in records_of(store)
            )
        )
        start = next(r for r in records_of(store) if r.kind == "Start")
        assert f"waiting for 127.0.0.1:{second.port}" in start.detail
        assert [r.status for r in sessions_only(first)] == ["Start"]
        second.policy = lambda r: [0.0]
        assert await accountant.wait_idle(5)  # Accounting-On and Start, to both
        # the second server got it; the first, which had it, was not asked again
        assert [r.status for r in sessions_only(first)] == ["Start"]
        assert [r.status for r in sessions_only(second)][-1] == "Start"
        start = next(r for r in records_of(store) if r.kind == "Start")
        assert start.state is DeliveryState.ACKED
        assert start.server == ",".join(sorted(f"127.0.0.1:{s.port}" for s in (first, second)))
    finally:
        await accountant.stop()


async def test_order_per_session_through_an_outage(tmp_path: Path, responders) -> None:
    server = await responders(policy=drop)
    clock = Clock()
    accountant, _ = make_accountant(
        tmp_path, config_text([server.port], update="periodic 1"), clock=clock
    )
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        accountant.on_transition(up(T0, session_id="b"))
        clock.now = T0 + 60
        accountant.tick()
        accountant.on_transition(down(T0 + 61))
        clock.now = T0 + 70
        await asyncio.sleep(0.3)
        assert accountant.pending_count() == 6  # On, A: Start Interim Stop, B: Start Interim
        server.policy = lambda r: [0.0]
        assert await accountant.wait_idle(5)
        firsts: dict[str, list[str]] = {}
        for r in sessions_only(server):
            seen = firsts.setdefault(r.session, [])
            if not seen or seen[-1] != r.status:
                seen.append(r.status)
        assert firsts == {
            "00000002": ["Start", "Interim-Update", "Stop"],
            "00000003": [
                "Start",
                "Interim-Update",
            ],
        }
        stop = [r for r in server.received if r.status == "Stop"][-1]
        assert stop.delay >= 9  # made at T0+61, delivered at T0+70
    finally:
        await accountant.stop()


async def test_stop_closes_open_sessions_then_accounting_off(tmp_path: Path, responders) -> None:
    server = await responders()
    accountant, store = make_accountant(tmp_path, config_text([server.port]))
    await accountant.start()
    accountant.on_transition(up(T0))
    assert await accountant.wait_idle(5)
    await accountant.stop()
    statuses = [r.status for r in server.received]
    assert statuses[-2:] == ["Stop", "Accounting-Off"]
    stop = next(r for r in server.received if r.status == "Stop")
    assert stop.one("Acct-Terminate-Cause") == "NAS-Reboot"
    accountant.on_transition(up(T0 + 5, session_id="late"))  # after stop: ignored
    assert [r.kind for r in records_of(store)].count("Start") == 1


async def test_a_list_without_servers_fails_but_keeps_the_record(tmp_path: Path) -> None:
    text = config_text([1813], group="EMPTY")
    text = text.replace(" server 127.0.0.1 auth-port 1812 acct-port 1813\n", "")
    accountant, store = make_accountant(tmp_path, text)
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        await wait_for(lambda: records_of(store)[-1].state is DeliveryState.FAILED)
        assert "no RADIUS server with a key for list ACCT" in records_of(store)[-1].detail
        assert len(accountant.spool) == 1
    finally:
        await accountant.stop()


async def test_ipv6_server(tmp_path: Path) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = await Responder().start(host="::1")
    except OSError:
        pytest.skip("no ::1")
    try:
        text = config_text([server.port]).replace("host 127.0.0.1 ", "host ::1 ")
        accountant, store = make_accountant(tmp_path, text)
        await accountant.start()
        accountant.on_transition(up(T0))
        assert await accountant.wait_idle(5)
        assert sorted(r.status for r in server.received) == ["Accounting-On", "Start"]
        assert isinstance(store.get(SERVERS, f"[::1]:{server.port}"), ServerState)
        await accountant.stop()
    finally:
        server.close()


async def test_without_debug_only_server_health_is_logged(tmp_path: Path, responders) -> None:
    first = await responders(policy=drop)
    text = config_text([first.port])
    accountant, store = make_accountant(
        tmp_path, text, timers=replace(FAST, deadtime=60), debug=False, drain_timeout=0.1
    )
    await accountant.start()
    accountant.on_transition(up(T0))
    await wait_for(lambda: records_of(store)[-1].state is DeliveryState.SPOOLED)
    await accountant.stop()
    lines = log_lines(store)
    assert lines and all("RADIUS_DEAD" in line for line in lines)


async def test_a_burst_of_stops_is_made_in_turns_each_once(tmp_path: Path, responders) -> None:
    """A mass clear: the first Stops of a loop turn are made at once, the rest in the next
    turns (the loop reads IKE meanwhile); each session gets exactly one, with what its
    transition said, and wait_idle waits for the ones not made yet."""
    server = await responders()
    accountant, _ = make_accountant(tmp_path, config_text([server.port]))
    await accountant.start()
    count = 3 * accountant.STOPS_AT_ONCE + 5
    try:
        for i in range(count):
            accountant.on_transition(up(T0, session_id=f"s{i}"))
        assert await accountant.wait_idle(10)
        for i in range(count):
            accountant.on_transition(down(T0 + 60, session_id=f"s{i}"))
        made = [r for r in accountant.records() if r.kind == "Stop"]
        assert len(made) == accountant.STOPS_AT_ONCE  # the rest wait their turn
        assert accountant.pending_count() >= count - accountant.STOPS_AT_ONCE
        assert await accountant.wait_idle(10)
        stops = [r for r in server.received if r.status == "Stop"]
        started = [r for r in server.received if r.status == "Start"]
        # (the fast test timers may retransmit: the server may have a copy twice)
        ids = {r.one("Acct-Session-Id") for r in stops}
        assert ids == {r.one("Acct-Session-Id") for r in started}
        assert len(ids) == count
        made = [r for r in accountant.records() if r.kind == "Stop"]
        assert len(made) == count
        assert {r.one("Acct-Session-Time") for r in stops} == {60}
    finally:
        await accountant.stop()


async def test_stops_still_waiting_are_made_at_shutdown(tmp_path: Path, responders) -> None:
    server = await responders()
    accountant, _ = make_accountant(tmp_path, config_text([server.port]))
    await accountant.start()
    count = 2 * accountant.STOPS_AT_ONCE
    for i in range(count):
        accountant.on_transition(up(T0, session_id=f"s{i}"))
    assert await accountant.wait_idle(10)
    for i in range(count):
        accountant.on_transition(down(T0 + 5, session_id=f"s{i}"))
    await accountant.stop()  # before any later turn made them
    stops = [r for r in server.received if r.status == "Stop"]
    assert len({r.one("Acct-Session-Id") for r in stops}) == count
    # their own Stops (the peer deleted them), not the shutdown's
    assert {r.one("Acct-Terminate-Cause") for r in stops} == {"User-Request"}


async def test_stopping_with_records_in_flight_keeps_them_and_blames_no_server(
    tmp_path: Path, responders
) -> None:
    """Closing the transport ends what is on the wire: not a timeout of its server (no
    failover, no deadtime), not a failure of its record, which waits in the spool."""
    server = await responders(policy=drop)
    slow = replace(FAST, irt=5.0, mrt=5.0, mrd=20.0, deadtime=60.0)
    accountant, store = make_accountant(tmp_path, config_text([server.port]), timers=slow)
    accountant.drain_timeout = 0.2
    await accountant.start()
    accountant.on_transition(up(T0))
    await wait_for(lambda: server.received)  # the Accounting-On, unanswered
    await accountant.stop()
    [state] = [s for s in store.table(SERVERS).values() if isinstance(s, ServerState)]
    assert (state.timeouts, state.alive, state.last_failure) == (0, True, "")
    assert state.in_flight == 0
    assert not any(r.state is DeliveryState.FAILED for r in records_of(store))
    accountant, _ = make_accountant(tmp_path, config_text([server.port]), timers=slow)
    kinds = [r.status.label for r in accountant.spool.pending()]
    assert kinds[:2] == ["Accounting-On", "Start"] and "Stop" in kinds
    accountant.spool.close()


async def test_the_store_keeps_as_many_acknowledged_records_as_keep_acked_says(
    tmp_path: Path, responders
) -> None:
    server = await responders()
    accountant, store = make_accountant(tmp_path, config_text([server.port]))
    accountant.keep_acked = 2  # after construction, as a service's owner sets it
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        accountant.on_transition(down(T0 + 5, Counters(100, 1, 200, 2)))
        assert await accountant.wait_idle(5)
        kept = records_of(store)  # Accounting-On, Start, Stop: the oldest has gone
        assert [r.kind for r in kept] == ["Start", "Stop"]
        assert all(r.state is DeliveryState.ACKED for r in kept)
    finally:
        await accountant.stop()
