"""An accountant in a process of its own, for a test to SIGKILL as a crash would.

Run as `acct_child.py SPOOL PORT PLAN`: it accounts the sessions of PLAN (JSON) to the
server on 127.0.0.1:PORT with the spool file SPOOL, prints one JSON line once its
records are acknowledged (or `idle` seconds passed), then waits to be killed.

PLAN: {"at": seconds after T0 it starts, "open": {session id: counters or null},
"interim_after": seconds until the Interim-Update of sessions with counters,
"idle": seconds to wait for acknowledgements}.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from acct_support import T0, Clock, config_text, log_lines, make_accountant, session_record, up

from engine.events import Counters
from engine.store import SESSIONS


async def main(spool: Path, port: int, plan: dict[str, object]) -> None:
    clock = Clock(T0 + float(plan.get("at", 0)))  # type: ignore[arg-type]
    accountant, store = make_accountant(
        spool.parent, config_text([port]), clock=clock, spool_name=spool.name
    )
    await accountant.start()
    sessions: dict[str, dict[str, int] | None] = plan.get("open", {})  # type: ignore[assignment]
    idle = float(plan.get("idle", 5))  # type: ignore[arg-type]
    for session_id in sessions:
        accountant.on_transition(up(clock(), session_id=session_id))
    acked = await accountant.wait_idle(idle)
    clock.advance(float(plan.get("interim_after", 0)))  # type: ignore[arg-type]
    for session_id, counters in sessions.items():
        if counters:
            record = session_record(totals=Counters(**counters), session_id=session_id)
            store.put(SESSIONS, session_id, record)
            accountant.interim(session_id)
    acked = await accountant.wait_idle(idle) and acked
    report = {"acked": acked, "open": accountant.open_sessions(), "log": log_lines(store)}
    print(json.dumps(report), flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])))
