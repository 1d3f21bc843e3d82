"""Property: whatever a lossy server does (drop, duplicate, delay and so reorder its
answers), every record ends acknowledged exactly once, first arriving in order per
session, and the spool ends empty; or, for an Interim-Update that a newer one of its
session replaced while it waited, merged: never a Start or a Stop, never a session's
last Interim-Update."""

from __future__ import annotations

import asyncio
import random
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from acct_support import (
    FAST,
    Clock,
    Received,
    Responder,
    config_text,
    down,
    log_lines,
    make_accountant,
    up,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.accounting.accountant import AccountingRecord, DeliveryState
from engine.events import Counters
from engine.store import ACCOUNTING

TIMERS = replace(FAST, irt=0.02, mrt=0.05, mrc=3, mrd=0.2, spool_retry=0.03)
ACKED = re.compile(r"accounting (\S+) for session (\w+) acknowledged")


async def scenario(
    workdir: Path,
    seed: int,
    drop: float,
    duplicate: float,
    max_delay: float,
    interims: Sequence[int],
    order_seed: int,
) -> None:
    rng = random.Random(seed)

    def lossy(received: Received) -> Sequence[float]:
        if rng.random() < drop:
            return []
        delays = [rng.uniform(0.0, max_delay)]
        if rng.random() < duplicate:
            delays.append(rng.uniform(0.0, max_delay))
        return delays

    server = await Responder(policy=lossy).start()
    clock = Clock()
    accountant, store = make_accountant(
        workdir, config_text([server.port]), clock=clock, timers=TIMERS, drain_timeout=0.1
    )
    await accountant.start()
    try:
        # Each session: up, its interims, down; the sessions' steps interleave at random.
        steps = [i for i, n in enumerate(interims) for _ in range(n + 2)]
        random.Random(order_seed).shuffle(steps)
        done = [0] * len(interims)
        for i in steps:
            clock.advance(7)
            session_id = f"session-{i}"
            if done[i] == 0:
                accountant.on_transition(up(clock(), session_id=session_id))
            elif done[i] <= interims[i]:
                assert accountant.interim(session_id)
            else:
                totals = Counters(bytes_in=100 * i, packets_in=i)
                accountant.on_transition(down(clock(), totals, session_id=session_id))
            done[i] += 1
            await asyncio.sleep(rng.uniform(0.0, 0.01))
        assert await accountant.wait_idle(30)
        await asyncio.sleep(max_delay + 0.01)  # late duplicates land, and are ignored

        made = [r for r in store.table(ACCOUNTING).values() if isinstance(r, AccountingRecord)]
        assert len(made) == sum(n + 2 for n in interims) + 1  # + Accounting-On
        made.sort(key=lambda r: r.record_id)
        merged = [r for r in made if r.state is DeliveryState.MERGED]
        rows = [r for r in made if r.state is DeliveryState.ACKED]
        assert len(merged) + len(rows) == len(made)
        for r in merged:
            assert r.kind == "Interim-Update"
            later = [x for x in rows if x.acct_session_id == r.acct_session_id]
            assert any(x.kind == "Interim-Update" and x.record_id > r.record_id for x in later)
        for i, n in enumerate(interims):  # Start, Stop, and the newest Interim-Update
            ours = [r for r in made if r.peer and r.session_id == f"session-{i}"]
            kinds = [r.kind for r in ours if r.state is DeliveryState.ACKED]
            assert kinds[0] == "Start" and kinds[-1] == "Stop"
            assert kinds[1:-1] == [] if n == 0 else kinds[-2] == "Interim-Update"
        assert len(accountant.spool) == 0

        ids = accountant.open_sessions()
        assert ids == {}
        acked = Counter(m.groups() for line in log_lines(store) if (m := ACKED.search(line)))
        by_session: dict[str, list[str]] = {}
        for r in rows:
            if r.kind != "Accounting-On":
                by_session.setdefault(r.acct_session_id, []).append(r.kind)
        for acct_id, kinds in by_session.items():
            for kind, count in Counter(kinds).items():
                assert acked[(kind, acct_id)] == count, (kind, acct_id)

        # first arrival of each distinct record, per session, in creation order
        seen: set[tuple[str, str, object]] = set()
        arrivals: dict[str, list[tuple[str, object]]] = {}
        for r in server.received:
            key = (r.session, r.status, r.one("Event-Timestamp"))
            if key not in seen:
                seen.add(key)
                arrivals.setdefault(r.session, []).append((r.status, r.one("Event-Timestamp")))
        for acct_id, kinds in by_session.items():
            got = arrivals[acct_id]
            assert [status for status, _ in got] == kinds
            stamps = [stamp for _, stamp in got]
            assert stamps == sorted(stamps)
    finally:
        await accountant.stop()
        server.close()


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    drop=st.floats(0.0, 0.6),
    duplicate=st.floats(0.0, 0.6),
    max_delay=st.floats(0.0, 0.04),
    interims=st.lists(st.integers(0, 3), min_size=1, max_size=4),
    order_seed=st.integers(0, 1000),
)
def test_lossy_server_still_gets_everything_once_in_order(
    seed: int,
    drop: float,
    duplicate: float,
    max_delay: float,
    interims: list[int],
    order_seed: int,
) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(scenario(Path(workdir), seed, drop, duplicate, max_delay, interims, order_seed))
