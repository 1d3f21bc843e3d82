"""A streaming client's bounded queue and the registry's slow-consumer sweep."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine.xsm.clients import SLOW_CONSUMER, ClientRegistry, Closed, QueueLimits
from engine.xsm.datasets import RowChanges
from engine.xsm.stream import ChangeEvent


def event(n: int) -> ChangeEvent:
    return ChangeEvent(n, RowChanges("crypto-sessions", {"k": {"n": n}}, ()))


def registry(**limits: float) -> ClientRegistry:
    return ClientRegistry(QueueLimits(**limits), clock=lambda: 1234.0)


def add(reg: ClientRegistry):
    return reg.add(user="u", privilege=15, address="10.0.0.1", transport="sse", listener="http")


async def test_events_come_out_in_order_then_keepalive_then_closed() -> None:
    reg = registry()
    client = add(reg)
    client.offer(event(1))
    client.offer(event(2))
    assert (await client.next(1)).id == 1
    assert (await client.next(1)).id == 2
    assert await client.next(0.01) is None  # keep-alive time
    client.close("cleared")
    with pytest.raises(Closed):
        await client.next(1)
    assert reg.closed["cleared"] == 1


async def test_close_wakes_a_waiting_writer() -> None:
    client = add(registry())
    waiting = asyncio.ensure_future(client.next(10))
    await asyncio.sleep(0)
    client.close("cleared")
    with pytest.raises(Closed):
        await asyncio.wait_for(waiting, 1)


def test_hard_bound_drops_at_once_and_aborts() -> None:
    reg = registry(soft=2, hard=4)
    client = add(reg)
    aborted = []
    client.abort = lambda: aborted.append(True)
    for n in range(5):
        client.offer(event(n))
    assert client.close_reason == SLOW_CONSUMER and aborted == [True]
    assert client.events_dropped == 5
    client.offer(event(9))  # ignored once closed
    assert reg.closed[SLOW_CONSUMER] == 1


def test_over_the_soft_limit_past_the_grace_is_dropped_by_the_sweep() -> None:
    reg = registry(soft=1, hard=100, grace=0.05)
    slow, fine = add(reg), add(reg)
    for n in range(3):
        slow.offer(event(n))
    fine.offer(event(0))
    assert reg.sweep() == []
    time.sleep(0.06)
    assert reg.sweep() == [slow.session]
    assert not fine.closed


def test_a_big_socket_buffer_or_a_gone_connection() -> None:
    reg = registry(write_buffer=1000)
    full, gone = add(reg), add(reg)
    full.buffered = lambda: 5000
    gone.alive = lambda: False
    assert reg.sweep() == [full.session]
    assert gone.close_reason == "disconnected"


async def test_a_stalled_write_is_seen() -> None:
    reg = registry(grace=0.05)
    client = add(reg)
    with client.writing():
        await asyncio.sleep(0.06)
        assert reg.sweep() == [client.session]


def test_sessions_increase_and_infos() -> None:
    reg = registry()
    a, b = add(reg), add(reg)
    assert b.session == a.session + 1
    a.xrds = frozenset({"ike-sas", "crypto-sessions"})
    info = reg.infos()[0]
    assert info.subscriptions == ("crypto-sessions", "ike-sas") and info.since == 1234.0
    reg.remove(a)
    assert [i.session for i in reg.infos()] == [b.session]
