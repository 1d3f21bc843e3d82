"""Interim-Updates of one session merged while they wait: behind the session's other
records, or for a server that does not answer. Only the newest one is sent; Start and
Stop always are, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from acct_support import (
    FAST,
    SESSION,
    T0,
    Clock,
    Received,
    Responder,
    config_text,
    down,
    log_lines,
    make_accountant,
    session_record,
    up,
)

from engine.accounting import records
from engine.accounting.accountant import AccountingRecord, DeliveryState
from engine.accounting.dictionary import StatusType
from engine.accounting.records import AcctContext
from engine.accounting.spool import Spool
from engine.events import Counters
from engine.store import ACCOUNTING, Store


def drop(received: Received) -> Sequence[float]:
    return []


def answer(received: Received) -> Sequence[float]:
    return [0.0]


def rows(store: Store) -> list[AccountingRecord]:
    made = [r for r in store.table(ACCOUNTING).values() if isinstance(r, AccountingRecord)]
    return sorted(made, key=lambda r: r.record_id)


def firsts(server: Responder, since: int = 0) -> list[tuple[str, object]]:
    """(status, Event-Timestamp) of each distinct session record, as first received."""
    seen: list[tuple[str, object]] = []
    for r in server.received[since:]:
        key = (r.status, r.one("Event-Timestamp"))
        if not r.status.startswith("Accounting-") and key not in seen:
            seen.append(key)
    return seen


async def wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_interims_behind_an_unanswered_start_merge_into_the_newest(
    tmp_path: Path,
) -> None:
    server = await Responder(policy=answer).start()
    clock = Clock()
    accountant, store = make_accountant(tmp_path, config_text([server.port]), clock=clock)
    await accountant.start()
    try:
        assert await accountant.wait_idle(5)  # Accounting-On
        server.policy = drop
        accountant.on_transition(up(T0))
        for minute in (1, 2, 3):
            clock.now = T0 + 60 * minute
            assert accountant.interim(SESSION)
        clock.now = T0 + 200
        accountant.on_transition(down(T0 + 200, Counters(bytes_in=5000, packets_in=5)))
        await asyncio.sleep(0)
        made = rows(store)
        kinds = [(r.kind, r.state) for r in made if r.kind != "Accounting-On"]
        assert kinds == [
            ("Start", DeliveryState.PENDING),
            ("Interim-Update", DeliveryState.MERGED),
            ("Interim-Update", DeliveryState.MERGED),
            ("Interim-Update", DeliveryState.PENDING),
            ("Stop", DeliveryState.PENDING),
        ]
        assert accountant.pending_count() == 3
        server.policy = answer
        assert await accountant.wait_idle(5)
        assert firsts(server) == [
            ("Start", int(T0)),
            ("Interim-Update", int(T0 + 180)),  # the newest, not the first two
            ("Stop", int(T0 + 200)),
        ]
        assert len(accountant.spool) == 0
        merged = [line for line in log_lines(store) if "merged into a newer one" in line]
        assert len(merged) == 2
    finally:
        await accountant.stop()
        server.close()


async def test_an_interim_waiting_for_an_unreachable_server_is_replaced(
    tmp_path: Path,
) -> None:
    server = await Responder(policy=answer).start()
    clock = Clock()
    accountant, store = make_accountant(tmp_path, config_text([server.port]), clock=clock)
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        assert await accountant.wait_idle(5)  # Accounting-On, Start
        server.policy = drop
        clock.now = T0 + 60
        assert accountant.interim(SESSION)
        first = rows(store)[-1]
        # tried and spooled: no server took it for now
        await wait_for(lambda: rows(store)[-1].state is DeliveryState.SPOOLED)
        clock.now = T0 + 120
        assert accountant.interim(SESSION)
        assert store.get(ACCOUNTING, first.record_id).state is DeliveryState.MERGED  # type: ignore[union-attr]
        since = len(server.received)
        server.policy = answer
        assert await accountant.wait_idle(5)
        clock.now = T0 + 130
        accountant.on_transition(down(T0 + 130))
        assert await accountant.wait_idle(5)
        # from the server's return on: the newer Interim-Update only, then the Stop
        assert firsts(server, since) == [
            ("Interim-Update", int(T0 + 120)),
            ("Stop", int(T0 + 130)),
        ]
        assert len(accountant.spool) == 0
    finally:
        await accountant.stop()
        server.close()


async def test_an_interim_on_the_wire_is_not_replaced(tmp_path: Path) -> None:
    server = await Responder(policy=lambda r: [0.2]).start()  # slow, but it answers
    clock = Clock()
    timers = replace(FAST, irt=1.0, mrt=1.0, mrd=3.0)
    accountant, store = make_accountant(
        tmp_path, config_text([server.port]), clock=clock, timers=timers
    )
    await accountant.start()
    try:
        accountant.on_transition(up(T0))
        assert await accountant.wait_idle(5)
        clock.now = T0 + 60
        assert accountant.interim(SESSION)
        await wait_for(lambda: any(r.status == "Interim-Update" for r in server.received))
        clock.now = T0 + 120
        assert accountant.interim(SESSION)  # the first is being sent: both go
        assert await accountant.wait_idle(5)
        assert firsts(server) == [
            ("Start", int(T0)),
            ("Interim-Update", int(T0 + 60)),
            ("Interim-Update", int(T0 + 120)),
        ]
        assert not any(r.state is DeliveryState.MERGED for r in rows(store))
    finally:
        await accountant.stop()
        server.close()


async def test_interims_left_in_the_spool_merge_at_startup(tmp_path: Path) -> None:
    """A run that died with a session's Interim-Updates unsent: the next sends its Start,
    its newest Interim-Update and the Stop it makes for it."""
    server = await Responder(policy=answer).start()
    text = config_text([server.port])
    spool = Spool(tmp_path / "spool.sqlite")
    record = session_record()
    ctx = AcctContext("00000009", T0)
    made = [
        (StatusType.START, records.start_attributes(record, ctx, T0)),
        (StatusType.INTERIM_UPDATE, records.interim_attributes(record, ctx, T0 + 60)),
        (StatusType.INTERIM_UPDATE, records.interim_attributes(record, ctx, T0 + 120)),
    ]
    for status, attributes in made:
        spool.add(
            stream="00000009",
            status=status,
            list_name="ACCT",
            broadcast=False,
            servers=[f"127.0.0.1:{server.port}"],
            attributes=attributes,
            event_time=T0,
            session_id=SESSION,
            peer="10.0.0.2",
        )
    spool.close()
    accountant, store = make_accountant(tmp_path, text, clock=Clock(T0 + 200))
    await accountant.start()
    try:
        assert await accountant.wait_idle(5)
        assert [k for k, _ in firsts(server)] == ["Start", "Interim-Update", "Stop"]
        assert ("Interim-Update", int(T0 + 120)) in firsts(server)
        assert [r.state for r in rows(store) if r.kind == "Interim-Update"] == [
            DeliveryState.MERGED,
            DeliveryState.ACKED,
        ]
    finally:
        await accountant.stop()
        server.close()
