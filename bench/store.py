"""The store under a full gateway's counter churn: 10,000 sessions updated at 1 Hz.

Each simulated one-second tick replaces every session record (new counters), records a
history sample per session and flushes once, with two consumers attached: an async
subscriber that applies each change set to its own replica (a screen) and a callback
listener (accounting). Ticks run back to back; CPU per tick over the 1 s tick interval
is the share of one core the store's workload would take.

    python bench/store.py [--sessions N] [--ticks N]

The last line reads `sessions=N update_cpu_pct=P snapshot_ms=S`: P includes building the
new records (the engine's part) and both consumers; S is one snapshot() of the whole
store right after a flush plus the copy-on-write copy it makes the next write pay.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.store import SESSIONS, ChangeSet, Store


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_id: int
    peer: str
    local: str
    remote: str
    status: str
    ike_sa_id: int
    child_sas: int
    encryption: str
    integrity: str
    dh_group: int
    established_at: float
    last_seen: float
    bytes_in: int
    bytes_out: int
    packets_in: int
    packets_out: int


def session(i: int, tick: int) -> SessionRecord:
    return SessionRecord(
        session_id=i,
        peer=f"peer-{i}",
        local="192.0.2.1:4500",
        remote=f"198.51.{i // 256 % 256}.{i % 256}:4500",
        status="UP-ACTIVE",
        ike_sa_id=i,
        child_sas=1,
        encryption="aes-gcm-256",
        integrity="none",
        dh_group=31,
        established_at=0.0,
        last_seen=float(tick),
        bytes_in=1400 * tick * (1 + i % 7),
        bytes_out=900 * tick * (1 + i % 5),
        packets_in=tick * (1 + i % 7),
        packets_out=tick * (1 + i % 5),
    )


def tick(store: Store, sessions: int, t: int) -> None:
    put = store.put
    sample = store.record_sample
    for i in range(sessions):
        record = session(i, t)
        put(SESSIONS, i, record)
        sample(
            i, float(t), record.bytes_in, record.bytes_out, record.packets_in, record.packets_out
        )
    store.flush()


async def run_ticks(
    store: Store, sessions: int, first: int, ticks: int, snapshot_each_tick: bool = False
) -> tuple[float, list[float]]:
    """CPU seconds per tick, and the time of each tick's first snapshot() in seconds."""
    snapshot_times = []
    start = time.process_time()
    for t in range(first, first + ticks):
        tick(store, sessions, t)
        # Let the subscriber's task take its change set, as the next loop turn would.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        if snapshot_each_tick:
            before = time.perf_counter()
            store.snapshot()
            snapshot_times.append(time.perf_counter() - before)
    return (time.process_time() - start) / ticks, snapshot_times


async def main(sessions: int, ticks: int) -> None:
    store = Store()
    replica: dict[object, object] = {}
    sets_read = 0
    accounted = 0

    def accounting(changes: ChangeSet) -> None:
        nonlocal accounted
        table = changes.table(SESSIONS)
        accounted += len(table.added) + len(table.changed) + len(table.removed)

    async def screen() -> None:
        nonlocal sets_read
        async for changes in store.subscribe({SESSIONS}):
            changes.table(SESSIONS).apply_to(replica)
            sets_read += 1

    store.listen(accounting, {SESSIONS})
    reader = asyncio.create_task(screen())
    await asyncio.sleep(0)

    start = time.process_time()
    tick(store, sessions, 0)
    await asyncio.sleep(0)
    populate = time.process_time() - start
    print(f"populate: {sessions} sessions added in {populate * 1000:.1f} ms CPU")

    gc.collect()
    cpu, _ = await run_ticks(store, sessions, 1, ticks)
    assert replica == dict(store.table(SESSIONS)), "the subscriber's replica drifted"
    print(
        f"update: {ticks} ticks of {sessions} record replacements + samples + 1 flush, "
        f"{cpu * 1000:.1f} ms CPU per tick; subscriber read {sets_read} sets, "
        f"listener saw {accounted} record changes"
    )

    start = time.process_time()
    for t in range(ticks):
        for i in range(sessions):
            session(i, t)
    building = (time.process_time() - start) / ticks
    print(f"  of which building the new records (engine side): {building * 1000:.1f} ms")

    # Each round starts right after a flush, so snapshot() is never a cached one. The
    # copy-on-write copy is paid by the next write to the table; it counts as snapshot cost.
    rounds = 50
    calls, with_copy, with_pending = [], [], []
    for k in range(rounds):
        store.put(SESSIONS, 0, session(0, 20_000 + k))
        store.flush()
        snap = None  # freeing the previous round's copy is not this snapshot's cost
        before = time.perf_counter()
        snap = store.snapshot()
        taken = time.perf_counter()
        store.put(SESSIONS, 1, session(1, 20_000 + k))
        copied = time.perf_counter()
        calls.append(taken - before)
        with_copy.append(copied - before)
        store.flush()
        store.put(SESSIONS, 2, session(2, 20_000 + k))
        before = time.perf_counter()
        store.snapshot()
        with_pending.append(time.perf_counter() - before)
        store.flush()
    await asyncio.sleep(0)
    assert len(snap.table(SESSIONS)) == sessions
    call_ms, snapshot_ms, pending_ms = (
        sorted(x)[rounds // 2] * 1000 for x in (calls, with_copy, with_pending)
    )
    print(
        f"snapshot (median of {rounds}): the call {call_ms:.4f} ms; with the table copy the "
        f"next write pays {snapshot_ms:.3f} ms; taken with unflushed writes {pending_ms:.3f} ms"
    )

    cpu_snap, per_tick = await run_ticks(store, sessions, ticks + 1, ticks, True)
    print(
        f"update with a snapshot taken every tick: {cpu_snap * 1000:.1f} ms CPU per tick "
        f"({cpu_snap * 100:.2f}% of a core; snapshot {max(per_tick) * 1000:.3f} ms at most)"
    )

    # A subscriber that reads only every 5 ticks pays merging instead of a backlog.
    lagging = store.subscribe({SESSIONS})
    start = time.process_time()
    for t in range(2 * ticks + 1, 3 * ticks + 1):
        tick(store, sessions, t)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        if t % 5 == 0:
            lagging.get_nowait()
    cpu_lag = (time.process_time() - start) / ticks
    lagging.close()
    print(f"update with a third subscriber reading every 5 ticks: {cpu_lag * 1000:.1f} ms/tick")

    store.close()
    await reader
    print(f"sessions={sessions} update_cpu_pct={cpu * 100:.2f} snapshot_ms={snapshot_ms:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.sessions, args.ticks))
