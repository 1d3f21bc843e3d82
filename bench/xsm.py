"""XSM push under load: 10,000 crypto sessions, N subscribers, changes at 10 Hz.

A real XSM service (the gateway's, on loopback) follows a store of real SessionRecords.
Every 100 ms a tenth of the sessions get new counters (one change set); every subscriber,
each an SSE stream in a separate client process, must receive every change. Measured:
change events delivered per second (all subscribers), push latency from the store's
flush to a subscriber reading the event (median, p99), and the gateway process's CPU.

What an operator would do instead of subscribing is poll: the same run fetches the
whole `crypto-sessions` snapshot once per tick for one client and prints its cost; the
ratio is poll bytes per tick over push bytes per tick, and CPU per tick of both.

    python bench/xsm.py [--sessions N] [--subscribers N] [--seconds S]

The last line: `sessions=N subscribers=M events_per_s=E latency_ms_p50=A latency_ms_p99=B
push_cpu_pct=C poll_ms=P poll_to_push_bytes=R`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from engine.config.model import LocalUser
from engine.events import Counters
from engine.records import SessionRecord, SessionStatus
from engine.secret import Secret
from engine.store import SESSIONS, Store
from engine.xsm.datasets import builtin_datasets
from engine.xsm.server import XsmService
from engine.xsm.settings import XsmSettings

USER, PASSWORD = "bench", "bench-password-1"
TICK = 0.1


def session(i: int) -> SessionRecord:
    return SessionRecord(
        f"s{i}", f"peer-{i}", "", f"198.51.{i // 256 % 256}.{i % 256}", 4500, "192.0.2.1",
        4500, "", "", "", f"peer-{i}", "", SessionStatus.UP_ACTIVE, (i,), (f"f{i}",), "",
        "config", Counters(), 1.0, 1.0,
    )  # fmt: skip


class Source:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.datasets = builtin_datasets()

    def running_config(self) -> str:
        return ""

    def xsm_clients(self) -> list[object]:
        return []


def subscriber_process(port: int, count: int, stop: object, results: object) -> None:
    """`count` SSE streams; per event: its receipt time minus the flush time the gateway
    wrote into the changed rows (`description`), and the bytes read."""

    async def one(session: aiohttp.ClientSession) -> tuple[int, list[float], int]:
        events, latencies, size = 0, [], 0
        headers = {"Accept": "text/event-stream"}
        url = f"http://127.0.0.1:{port}/xsm/subscribe?xrd=crypto-sessions"
        async with session.get(url, headers=headers, timeout=None) as response:
            if response.status != 200:
                raise RuntimeError(f"subscribe answered {response.status}")
            kind, parts = "", []
            # a 10k-row snapshot is one multi-megabyte data line: split lines here, and
            # join a line's chunks once, when its end arrives
            async for chunk in response.content.iter_any():
                size += len(chunk)
                if b"\n" not in chunk:
                    parts.append(chunk)
                    continue
                *lines, rest = (b"".join(parts) + chunk).split(b"\n")
                parts = [rest]
                for raw in lines:
                    if raw.startswith(b"event:"):
                        kind = raw[6:].strip().decode()
                    elif raw.startswith(b"data:") and kind == "change":
                        events += 1
                        marker = raw.find(b'"description":"t=')
                        if marker > 0:
                            end = raw.index(b'"', marker + 17)
                            latencies.append(time.time() - float(raw[marker + 17 : end]))
                if stop.is_set():  # type: ignore[attr-defined]
                    break
        return events, latencies, size

    async def main() -> None:
        auth_headers = {"Authorization": aiohttp.encode_basic_auth(USER, PASSWORD)}
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(headers=auth_headers, connector=connector) as session:
            done = await asyncio.gather(*(one(session) for _ in range(count)))
        results.put(done)  # type: ignore[attr-defined]

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu() -> float:
    usage = os.times()
    return usage.user + usage.system


async def run(sessions: int, subscribers: int, seconds: float) -> str:
    store = Store()
    records = [session(i) for i in range(sessions)]
    with store.batch():
        for record in records:
            store.put(SESSIONS, record.session_id, record)
    port = free_port()
    user = LocalUser(name=USER, privilege=15, secret=Secret(PASSWORD), kind=0)
    # far beyond IOS's `ip http max-connections` range: every subscriber is a connection
    settings = XsmSettings(
        http_server=True, http_port=port, enabled=True, vdm=True, edm=True, users=(user,),
        max_connections=subscribers + 10,
    )  # fmt: skip
    service = XsmService(settings, Source(store), state_dir=None, host="127.0.0.1")
    await service.start()
    results: multiprocessing.Queue[object] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    worker = multiprocessing.Process(
        target=subscriber_process, args=(port, subscribers, stop, results)
    )
    worker.start()
    while len(service.clients()) < subscribers:
        if not worker.is_alive():
            raise SystemExit("the subscribers' process ended before they all subscribed")
        await asyncio.sleep(0.1)
    while any(client.events_sent < 1 for client in service.clients()):
        await asyncio.sleep(0.1)  # every snapshot written
    await asyncio.sleep(1.0)  # and read

    batch = max(1, sessions // 10)
    ticks, started_cpu, started = 0, cpu(), time.monotonic()
    while time.monotonic() - started < seconds:
        tick_start = time.monotonic()
        stamp = f"t={time.time():.6f}"
        with store.batch():
            for n in range(batch):
                i = (ticks * batch + n) % sessions
                old = records[i]
                records[i] = replace(
                    old,
                    description=stamp,
                    totals=Counters(old.totals.bytes_in + 1400, old.totals.packets_in + 1),
                )
                store.put(SESSIONS, old.session_id, records[i])
        ticks += 1
        await asyncio.sleep(max(0.0, TICK - (time.monotonic() - tick_start)))
    elapsed = time.monotonic() - started
    push_cpu = (cpu() - started_cpu) / elapsed * 100
    # let the subscribers drain what is in flight, then end their streams
    await asyncio.sleep(2.0)
    stop.set()
    service.clear()

    # the alternative: poll the whole set once per tick
    poll_times, poll_bytes = [], 0
    auth_headers = {"Authorization": aiohttp.encode_basic_auth(USER, PASSWORD)}
    async with aiohttp.ClientSession(headers=auth_headers) as client:
        for _ in range(10):
            t0 = time.monotonic()
            async with client.get(f"http://127.0.0.1:{port}/xsm/xrd/crypto-sessions") as r:
                poll_bytes = len(await r.read())
            poll_times.append(time.monotonic() - t0)

    done = await asyncio.to_thread(results.get, True, seconds + 60)
    worker.join(10)
    await service.stop()
    events = sum(count for count, _, _ in done)  # type: ignore[misc]
    latencies = sorted(x for _, lat, _ in done for x in lat)  # type: ignore[misc]
    push_bytes = sum(size for _, _, size in done) / max(1, len(done))  # type: ignore[misc]
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else float("nan")
    per_tick_push = push_bytes / max(1, ticks)
    ratio = poll_bytes / per_tick_push if per_tick_push else float("nan")
    print(f"{sessions} sessions, {subscribers} subscribers, {ticks} ticks of {batch} changes")
    print(f"events delivered: {events} ({events / elapsed:.0f}/s; {ticks * subscribers} expected)")
    print(f"push latency: median {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"gateway CPU while pushing: {push_cpu:.1f}% of a core")
    print(
        f"polling instead: {statistics.median(poll_times) * 1000:.0f} ms and {poll_bytes} bytes "
        f"per poll against {per_tick_push:.0f} bytes pushed per tick per subscriber"
    )
    return (
        f"sessions={sessions} subscribers={subscribers} events_per_s={events / elapsed:.0f} "
        f"latency_ms_p50={p50:.1f} latency_ms_p99={p99:.1f} push_cpu_pct={push_cpu:.1f} "
        f"poll_ms={statistics.median(poll_times) * 1000:.0f} poll_to_push_bytes={ratio:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.sessions < 10 or args.subscribers < 1 or args.seconds <= 0:
        parser.error("need at least 10 sessions, 1 subscriber and a positive duration")
    print(asyncio.run(run(args.sessions, args.subscribers, args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
