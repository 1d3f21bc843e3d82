"""Restarts: a gateway that dies without stopping (SIGKILL) has its open sessions
stopped by the next run, before that run's Accounting-On; a daemon that fails to start
announces nothing; two daemons never share a spool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from acct_support import (
    KEY,
    T0,
    Child,
    Clock,
    Received,
    Responder,
    config_text,
    load_config,
    log_lines,
    make_accountant,
    spawn,
    up,
)

from engine.accounting.spool import Spool, SpoolBusy

LEFT_OPEN = "%RADIUS-4-ACCT_LEFT_OPEN: previous run ended without stopping"
USAGE = {"bytes_in": 1000, "packets_in": 10, "bytes_out": 3000, "packets_out": 30}


@pytest.fixture
async def server() -> AsyncIterator[Responder]:
    responder = await Responder().start()
    yield responder
    responder.close()


@pytest.fixture
async def children() -> AsyncIterator[Callable[..., Awaitable[Child]]]:
    """Gateway processes; any still running at the end is killed by its pid."""
    started: list[Child] = []

    async def make(spool: Path, port: int, **plan: object) -> Child:
        child = await spawn(spool, port, plan)
        started.append(child)
        return child

    yield make
    for child in started:
        await child.kill()


def spooled(path: Path) -> list[str]:
    """Record types in the spool, read as the next process would."""
    spool = Spool(path)
    try:
        return [r.status.label for r in spool.pending()]
    finally:
        spool.close()


def since(server: Responder, count: int) -> list[Received]:
    return server.received[count:]


async def test_a_killed_runs_open_sessions_are_stopped_before_accounting_on(
    tmp_path: Path, server: Responder, children
) -> None:
    spool = tmp_path / "spool.sqlite"
    # run 1: two sessions, their Starts acknowledged, an Interim-Update for one; SIGKILL
    first = await children(spool, server.port, open={"a": USAGE, "b": None}, interim_after=60)
    assert first.report["acked"]
    await first.kill()
    ids = first.open
    assert set(ids) == {"a", "b"}
    assert [(r.session, r.status) for r in server.received if r.session in ids.values()] == [
        (ids["a"], "Start"),
        (ids["b"], "Start"),
        (ids["a"], "Interim-Update"),
    ]

    # run 2, ten minutes after run 1 began: a Stop for each, then Accounting-On; SIGKILL
    count = len(server.received)
    second = await children(spool, server.port, at=600)
    assert second.report["acked"]
    await second.kill()
    got = since(server, count)
    assert [r.status for r in got] == ["Stop", "Stop", "Accounting-On"]
    stops = {r.session: r for r in got if r.status == "Stop"}
    assert set(stops) == set(ids.values())
    a, b = stops[ids["a"]], stops[ids["b"]]
    for stop in (a, b):
        assert stop.one("Acct-Terminate-Cause") == "NAS-Reboot"
        assert "disc-cause-ext=Unknown" in stop.attributes["Cisco-AVPair"]
        assert stop.one("NAS-IP-Address") == "10.0.0.1"
    # a: the counters and time of its Interim-Update; b: those of its Start
    assert (a.one("Acct-Input-Octets"), a.one("Acct-Output-Octets")) == (1000, 3000)
    assert (a.one("Acct-Input-Packets"), a.one("Acct-Output-Packets")) == (10, 30)
    assert a.one("Acct-Session-Time") == 60 and a.one("Event-Timestamp") == int(T0 + 60)
    assert a.delay == 540
    assert (b.one("Acct-Input-Octets"), b.one("Acct-Session-Time")) == (0, 0)
    assert b.one("Event-Timestamp") == int(T0) and b.delay == 600
    [line] = [line for line in second.log if "ACCT_LEFT_OPEN" in line]
    assert line == f"{LEFT_OPEN} 2 sessions; Stop sent with their last counters"
    assert all(KEY not in line for line in second.log)

    # run 3, after a second kill: nothing is stopped twice
    count = len(server.received)
    third, store = make_accountant(tmp_path, config_text([server.port]), clock=Clock(T0 + 900))
    await third.start()
    try:
        assert await third.wait_idle(5)
        assert [r.status for r in since(server, count)] == ["Accounting-On"]
        assert not [line for line in log_lines(store) if "ACCT_LEFT_OPEN" in line]
    finally:
        await third.stop()


async def test_a_left_open_stop_that_was_not_acknowledged_is_not_made_again(
    tmp_path: Path, server: Responder, children
) -> None:
    spool = tmp_path / "spool.sqlite"
    first = await children(spool, server.port, open={"a": None})
    assert first.report["acked"]
    await first.kill()

    def no_stops(received: Received) -> Sequence[float]:
        return [] if received.status == "Stop" else [0.0]

    server.policy = no_stops
    count = len(server.received)
    second = await children(spool, server.port, at=60, idle=1.0)
    assert not second.report["acked"]
    await second.kill()
    tries = [r for r in since(server, count) if r.status == "Stop"]
    assert len(tries) >= 3 and {r.session for r in tries} == {first.open["a"]}
    assert "Stop" in spooled(spool)

    server.policy = lambda r: [0.0]
    count = len(server.received)
    third, store = make_accountant(tmp_path, config_text([server.port]), clock=Clock(T0 + 120))
    await third.start()
    try:
        assert await third.wait_idle(5)
        got = since(server, count)
        assert [r.status for r in got] == ["Stop", "Accounting-On"]
        # the record run 2 made and spooled, not a new one
        assert got[0].session == first.open["a"]
        assert got[0].one("Event-Timestamp") == tries[0].one("Event-Timestamp") == int(T0)
        assert not [line for line in log_lines(store) if "ACCT_LEFT_OPEN" in line]
        assert len(third.spool) == 0 and third.spool.open_sessions() == []
    finally:
        await third.stop()


async def test_sessions_this_process_opened_before_start_are_not_left_open(
    tmp_path: Path, server: Responder
) -> None:
    accountant, store = make_accountant(tmp_path, config_text([server.port]))
    accountant.on_transition(up(T0))  # a peer came up before the accountant started
    await accountant.start()
    try:
        assert await accountant.wait_idle(5)
        assert [r.status for r in server.received] == ["Accounting-On", "Start"]
        assert not [line for line in log_lines(store) if "ACCT_LEFT_OPEN" in line]
    finally:
        await accountant.stop()
    assert [r.status for r in server.received][-2:] == ["Stop", "Accounting-Off"]


async def test_a_daemon_that_fails_to_start_announces_nothing(
    tmp_path: Path, server: Responder
) -> None:
    spool = tmp_path / "spool.sqlite"
    accountant, _ = make_accountant(tmp_path, config_text([server.port]))
    await accountant.start(announce=False)
    accountant.on_transition(up(T0))  # a peer is quick to come back
    await asyncio.sleep(0.2)
    # what a crash here would leave: the Start, and no Accounting-On
    assert spooled(spool) == ["Start"]
    assert server.received == []  # this run's records wait for the Accounting-On
    await accountant.stop()  # the daemon gives up: neither Accounting-On nor -Off
    assert [r.status for r in server.received] == ["Start", "Stop"]
    assert spooled(spool) == []


async def test_announce_on_precedes_this_runs_records(tmp_path: Path, server: Responder) -> None:
    text = config_text([server.port])
    accountant, _ = make_accountant(tmp_path, text)
    with pytest.raises(RuntimeError):
        accountant.announce_on()
    await accountant.start(announce=False)
    try:
        accountant.on_transition(up(T0))
        accountant.apply_config(*load_config(text))  # a reload does not announce either
        await asyncio.sleep(0.1)
        assert server.received == []
        accountant.announce_on()
        accountant.announce_on()  # once
        assert await accountant.wait_idle(5)
        assert [r.status for r in server.received] == ["Accounting-On", "Start"]
    finally:
        await accountant.stop()
    assert [r.status for r in server.received][-2:] == ["Stop", "Accounting-Off"]


async def test_a_second_daemon_on_the_same_spool_is_refused(
    tmp_path: Path, server: Responder
) -> None:
    first, _ = make_accountant(tmp_path, config_text([server.port]))
    await first.start()
    try:
        assert await first.wait_idle(5)
        second, _ = make_accountant(tmp_path, config_text([server.port]))
        with pytest.raises(SpoolBusy) as refused:
            await second.start()
        assert str(refused.value) == (
            f"the accounting spool {tmp_path / 'spool.sqlite'} is in use by another daemon "
            "(give each daemon its own --state-dir)"
        )
        await second.stop()
        first.on_transition(up(T0))
        assert await first.wait_idle(5)
        # one Accounting-On (the first's), no Accounting-Off, the first's Start
        assert [r.status for r in server.received] == ["Accounting-On", "Start"]
    finally:
        await first.stop()


async def test_a_gateway_whose_control_socket_is_taken_leaves_no_accounting_on(
    tmp_path: Path, server: Responder
) -> None:
    """The whole gateway, failing at its last step (another daemon serves the control
    socket): the spool must not hold an Accounting-On to be sent later as a false
    "NAS rebooted"."""
    from engine.control_socket import ControlServer
    from engine.service import VpnService

    config = tmp_path / "gw.conf"
    config.write_text(config_text([server.port]))
    control = tmp_path / "ctl.sock"
    other = ControlServer(None, control)  # type: ignore[arg-type]
    await other.start()
    service = VpnService(
        config,
        bind="127.0.0.1",
        ike_port=0,
        natt_port=0,
        watch=False,
        dataplane=None,
        control_path=control,
        serve_control=True,
        state_dir=tmp_path,
    )
    try:
        with pytest.raises(OSError, match="another daemon is serving"):
            await service.start()
        assert "Accounting-On" not in spooled(tmp_path / "accounting.sqlite")
    finally:
        await service.stop()
        await other.stop()
    assert not any(r.status == "Accounting-On" for r in server.received)


async def test_a_gateway_without_accounting_leaves_the_spool_alone(tmp_path: Path) -> None:
    """Another daemon may own the spool: one that accounts nothing must not claim it."""
    from site_configs import SITE_B

    spool = Spool(tmp_path / "spool.sqlite")
    spool.claim()
    try:
        accountant, _store = make_accountant(tmp_path, SITE_B.format(key="k"))
        await accountant.start()
        await accountant.stop()
    finally:
        spool.close()
