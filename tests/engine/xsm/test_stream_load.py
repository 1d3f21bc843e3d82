"""Hundreds of subscribers share each change; a client that never reads is dropped as a
slow consumer without holding up the store, the loop or the others."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass

import pytest

from engine.store import FLOWS
from engine.xsm.clients import QueueLimits

pytestmark = pytest.mark.asyncio

SUBSCRIBERS = 500


@dataclass(frozen=True)
class Flow:
    peer: str
    status: str
    blob: str


def _never_reading_client(port: int, path: str, authorization: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: gw\r\nAccept: text/event-stream\r\n"
        f"Authorization: {authorization}\r\n\r\n".encode()
    )
    return sock


async def test_many_subscribers_get_each_change_and_a_slow_one_is_dropped(xsm) -> None:
    limits = QueueLimits(soft=8, hard=64, grace=0.5, write_buffer=512 * 1024)
    service = await xsm.start(queue_limits=limits)
    with xsm.store.batch():
        for n in range(300):  # ~2.4 MB of flows, that only the slow client asked for
            xsm.store.put(FLOWS, f"f{n}", Flow(f"10.3.0.{n % 250}", "UP", "y" * 8000))
    slow = _never_reading_client(
        service.http_port,
        "/xsm/subscribe?xrd=crypto-sessions,ipsec-flows",
        xsm.auth("admin")["Authorization"],
    )
    try:
        streams = await asyncio.gather(*(xsm.sse("crypto-sessions") for _ in range(SUBSCRIBERS)))
        snapshots = await asyncio.gather(*(s.next(30) for s in streams))
        assert all(s.kind == "snapshot" for s in snapshots)
        assert len(service.clients()) == SUBSCRIBERS + 1

        for round_ in range(3):
            with xsm.store.batch():
                xsm.put("s1", "10.1.1.1", f"round {round_}")
                for n in range(300):
                    xsm.store.put(FLOWS, f"f{n}", Flow("10.3.0.1", "UP", str(round_) * 8000))
            started = time.monotonic()
            changes = await asyncio.gather(*(s.next(30) for s in streams))
            assert all(c.json()["upserted"]["s1"]["status"] == f"round {round_}" for c in changes)
            assert len({c.id for c in changes}) == 1  # one event, shared
            assert time.monotonic() - started < 20

        deadline = time.monotonic() + 10
        while service.status().counters.dropped_slow < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        status = service.status()
        assert status.counters.dropped_slow == 1
        assert status.clients == SUBSCRIBERS
        assert {c.user for c in service.clients()} == {"admin"}
        # The loop stays responsive for everyone else.
        started = time.monotonic()
        async with await xsm.get("/xsm/xrd-list") as response:
            assert response.status == 200
        assert time.monotonic() - started < 2
        for stream in streams:
            stream.response.close()
    finally:
        slow.close()
