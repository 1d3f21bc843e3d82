"""The durable spool: nothing is lost across server outages and engine restarts."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
from pathlib import Path

from acct_support import KEY, T0, Clock, Responder, config_text, down, make_accountant, up

from engine.accounting.accountant import AccountingRecord, DeliveryState
from engine.accounting.dictionary import StatusType
from engine.accounting.spool import Spool, default_spool_path
from engine.events import Counters
from engine.store import ACCOUNTING, Store


def add(spool: Spool, stream: str, status: StatusType, at: float) -> int:
    record = spool.add(
        stream=stream,
        status=status,
        list_name="ACCT",
        broadcast=False,
        servers=["127.0.0.1:1813"],
        attributes=(("Acct-Session-Id", stream), ("Acct-Status-Type", status.label)),
        event_time=at,
        session_id="s",
        peer="10.0.0.2",
    )
    return record.record_id


def test_spool_keeps_records_in_order_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state" / "spool.sqlite"
    spool = Spool(path)
    a1 = add(spool, "A", StatusType.START, T0)
    b1 = add(spool, "B", StatusType.START, T0 + 1)
    a2 = add(spool, "A", StatusType.STOP, T0 + 2)
    spool.update(b1, acked=["127.0.0.1:1813"], attempts=4)
    spool.remove(a1)
    assert spool.next_counter("acct-session-id") == 1
    assert spool.next_counter("acct-session-id") == 2
    spool.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Spool(path)
    pending = again.pending()
    assert [(r.record_id, r.stream, r.status) for r in pending] == [
        (b1, "B", StatusType.START),
        (a2, "A", StatusType.STOP),
    ]
    assert pending[0].acked == frozenset({"127.0.0.1:1813"}) and pending[0].attempts == 4
    assert pending[1].attributes == (("Acct-Session-Id", "A"), ("Acct-Status-Type", "Stop"))
    assert pending[1].event_time == T0 + 2 and pending[1].peer == "10.0.0.2"
    assert again.next_counter("acct-session-id") == 3
    # ids never come back, even after the newest record left
    again.remove(a2)
    assert add(again, "C", StatusType.START, T0) > a2
    again.close()


def test_attributes_read_back_as_written_in_every_column_format(tmp_path: Path) -> None:
    """marshal's format, json for what marshal refuses (an enum), and json as earlier
    versions wrote every record: all three read back as the pairs they were."""
    path = tmp_path / "spool.sqlite"
    spool = Spool(path)
    plain = (
        ("Acct-Session-Id", "0000002A"),
        ("User-Name", "jo\u00eb@cclient"),
        ("Acct-Input-Octets", 2**40),
        ("Cisco-AVPair", "isakmp-group-id=cclient"),
        ("Cisco-AVPair", "vrf-id=0"),
    )
    first = spool.add(
        stream="A", status=StatusType.START, list_name="L", broadcast=False, servers=["s"],
        attributes=plain, event_time=T0,
    )  # fmt: skip
    second = spool.add(
        stream="B", status=StatusType.START, list_name="L", broadcast=False, servers=["s"],
        attributes=(("Acct-Status-Type", StatusType.START.label), ("Kind", DeliveryState.ACKED)),
        event_time=T0,
    )  # fmt: skip
    spool.close()
    with sqlite3.connect(path) as db:
        kinds = dict(db.execute("SELECT seq, typeof(attributes) FROM records"))
        assert kinds == {first.record_id: "blob", second.record_id: "text"}
        db.execute(
            "UPDATE records SET attributes = ? WHERE seq = ?",
            (json.dumps([list(pair) for pair in plain]), first.record_id),
        )
        db.execute(
            "INSERT INTO records (stream, status, list_name, broadcast, servers, attributes,"
            " event_time, session_id, peer) VALUES ('C', 1, 'L', 0, '[\"s\"]', ?, 0, '', '')",
            (json.dumps([["Acct-Session-Id", "C"], ["Acct-Session-Time", 7]]),),
        )
    again = Spool(path)
    assert [r.attributes for r in again.pending()] == [
        plain,
        (("Acct-Status-Type", "Start"), ("Kind", "acked")),
        (("Acct-Session-Id", "C"), ("Acct-Session-Time", 7)),
    ]
    assert {r.stream: r.attributes for r in again.open_sessions()}["A"] == plain
    again.close()


def test_default_spool_path_follows_xdg(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_spool_path() == tmp_path / "ipsec-console" / "accounting.sqlite"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_spool_path().parts[-4:] == (
        ".local",
        "state",
        "ipsec-console",
        "accounting.sqlite",
    )


async def test_spool_survives_an_engine_restart(tmp_path: Path) -> None:
    """Close the accountant with records unacknowledged (the server is down), reopen it
    from the same spool later: they arrive with Acct-Delay-Time >= the outage."""
    server = await Responder(policy=lambda r: []).start()
    port = server.port
    clock = Clock()
    try:
        first, store = make_accountant(
            tmp_path, config_text([port]), clock=clock, drain_timeout=0.3
        )
        await first.start()
        first.on_transition(up(T0))
        clock.advance(42)
        first.on_transition(up(T0 + 42, session_id="b"))
        await asyncio.sleep(0.05)
        await first.stop()  # stops session b and A with NAS-Reboot, tries Accounting-Off
        pending = Spool(tmp_path / "spool.sqlite")
        kinds = [(r.stream, r.status.label) for r in pending.pending()]
        pending.close()
        assert kinds == [
            ("nas:radius", "Accounting-On"),
            ("00000002", "Start"),
            ("00000003", "Start"),
            ("00000002", "Stop"),
            ("00000003", "Stop"),
            ("nas:radius", "Accounting-Off"),
        ]
        states = {
            r.state for r in store.table(ACCOUNTING).values() if isinstance(r, AccountingRecord)
        }
        assert DeliveryState.ACKED not in states
        assert states <= {DeliveryState.SPOOLED, DeliveryState.RETRYING, DeliveryState.PENDING}

        clock.advance(600)  # ten minutes later the engine comes back, and so does RADIUS
        server.policy = lambda r: [0.0]
        second, _ = make_accountant(tmp_path, config_text([port]), clock=clock)
        await second.start()
        assert await second.wait_idle(5)
        first_start = next(
            r for r in server.received if r.status == "Start" and r.session == "00000002"
        )
        delivered = [r for r in server.received if r.delay >= 600]
        by_session: dict[str, list[str]] = {}
        for r in delivered:
            by_session.setdefault(r.session, []).append(r.status)
        assert by_session["00000001"][-1:] == ["Accounting-On"]
        assert by_session["00000002"][-2:] == ["Start", "Stop"]
        assert by_session["00000003"][-2:] == ["Start", "Stop"]
        start = next(r for r in reversed(server.received) if r.status == "Start")
        assert start.delay >= 600
        assert first_start.one("Event-Timestamp") == int(T0)
        assert len(second.spool) == 0
        # the new run's Accounting-On, after the old run's Off, with a fresh session id
        nas = [(r.session, r.status) for r in server.received if r.status.startswith("Acc")]
        assert nas[-2:] == [("00000004", "Accounting-Off"), ("00000005", "Accounting-On")]
        await second.stop()
    finally:
        server.close()


async def test_stop_waits_at_most_the_drain_timeout(tmp_path: Path) -> None:
    server = await Responder(policy=lambda r: []).start()
    try:
        accountant, _ = make_accountant(tmp_path, config_text([server.port]), drain_timeout=0.2)
        await accountant.start()
        accountant.on_transition(up(T0))
        accountant.on_transition(down(T0 + 1, Counters(bytes_in=7)))
        loop = asyncio.get_running_loop()
        began = loop.time()
        await accountant.stop()
        assert loop.time() - began < 1.0
        spool = Spool(tmp_path / "spool.sqlite")
        assert len(spool) == 4  # On, Start, Stop, Off
        spool.close()
        assert KEY.encode() not in (tmp_path / "spool.sqlite").read_bytes()
    finally:
        server.close()


def test_records_made_before_start_wait_in_the_spool(tmp_path: Path) -> None:
    accountant, store = make_accountant(tmp_path, config_text())
    accountant.on_transition(up(T0))
    rows = [r for r in store.table(ACCOUNTING).values() if isinstance(r, AccountingRecord)]
    assert [r.state for r in rows] == [DeliveryState.PENDING]
    assert len(accountant.spool) == 1
    assert isinstance(store, Store)


async def test_no_spool_file_without_accounting(tmp_path: Path) -> None:
    text = config_text().replace("aaa accounting network ACCT start-stop group radius\n", "")
    text = text.replace(" aaa accounting psk ACCT\n", "")
    accountant, _ = make_accountant(tmp_path, text)
    await accountant.start()
    accountant.on_transition(up(T0))
    await accountant.stop()
    assert list(tmp_path.iterdir()) == []


def test_batched_writes_wait_for_the_commit_and_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    spool = Spool(path, batched=True)
    first = add(spool, "A", StatusType.START, T0)
    second = add(spool, "A", StatusType.STOP, T0 + 1)
    third = add(spool, "B", StatusType.START, T0 + 2)
    counter = spool.next_counter("acct-session-id")
    spool.update(second, acked=["127.0.0.1:1813"], attempts=2)
    spool.remove(first)
    assert not spool.durable(second) and spool.uncommitted
    # a second connection (another process after a crash) sees none of it yet
    other = Spool(path)
    assert other.pending() == [] and other.next_counter("acct-session-id") == 1
    other.close()
    spool.commit()
    assert spool.durable(third) and not spool.uncommitted
    spool.remove(third)  # the newest id leaves: a reopened spool must not reuse it
    spool.close()  # commits what waits

    reopened = Spool(path, batched=True)
    [left] = reopened.pending()
    assert (left.record_id, left.status, left.acked, left.attempts) == (
        second,
        StatusType.STOP,
        frozenset({"127.0.0.1:1813"}),
        2,
    )
    assert [s.stream for s in reopened.open_sessions()] == ["B"]  # A stopped, B left open
    assert reopened.next_counter("acct-session-id") == counter + 1
    assert add(reopened, "C", StatusType.START, T0 + 3) == third + 1
    reopened.close()
