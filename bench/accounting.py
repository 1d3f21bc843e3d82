"""RADIUS accounting throughput against a real FreeRADIUS: N sessions up and down.

A private FreeRADIUS (tests/interop/freeradius.py: a temp copy of /etc/freeradius/3.0 on
free loopback ports, writing every Accounting-Request to one detail file) takes the
records of N sessions (a start-stop list: one Start and one Stop each) that an
Accountant delivers as fast as it can, spool included. Counted at the end: records
acknowledged (published ACKED by the store, nothing left in the spool) and records in
the detail file; a record acknowledged but missing from the file, or never
acknowledged, is lost. The accountant keeps what a gateway keeps (the newest 1,000
acknowledged records), so the count follows the store's change sets.

A reference is measured first against the same server: raw request/response round trips
(pyrad encodes, one UDP socket, up to 256 Ids in flight, no spool, no store).

    python bench/accounting.py [--sessions N] [--no-debug] [--profile]

Duplicates are entries of the detail file with the same (Acct-Session-Id,
Acct-Status-Type, Event-Timestamp) as an earlier one: a retransmission carries a new
Identifier and a new Acct-Delay-Time (RFC 5080 2.2.1), so the server cannot tell it
from a new record and logs it again.

The accountant's CPU time per record (this process only) is printed too: it varies less
than the rate on a machine shared with other work.

`--profile` runs the accountant under cProfile and prints its top functions, by
cumulative and by own time.

The last line reads `records_per_s=N lost=L duplicates=D`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import secrets
import select
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from interop.freeradius import SYSTEM_CONFIG, FreeRadius, binary, gateway_config  # noqa: E402
from pyrad.packet import AccountingResponse, AcctPacket  # noqa: E402

from engine.accounting.accountant import Accountant, AccountingRecord, DeliveryState  # noqa: E402
from engine.accounting.dictionary import load_dictionary  # noqa: E402
from engine.accounting.transport import Timers  # noqa: E402
from engine.config.compile import compile_config  # noqa: E402
from engine.config.parser import parse_text  # noqa: E402
from engine.config.validate import validate  # noqa: E402
from engine.events import Counters, DownReason, SessionTransition  # noqa: E402
from engine.gc_policy import apply_gateway_thresholds  # noqa: E402
from engine.logbook import Logbook  # noqa: E402
from engine.records import SessionRecord, SessionStatus  # noqa: E402
from engine.store import ACCOUNTING, ChangeSet, Store  # noqa: E402

#: loopback and a server that answers in well under a millisecond: retransmit early
TIMERS = Timers(irt=1.0, mrt=2.0, mrc=5, mrd=10.0, spool_retry=1.0)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def session(index: int, status: SessionStatus, totals: Counters, at: float) -> SessionRecord:
    return SessionRecord(
        session_id=f"bench-{index}",
        peer_name="WAN 10",
        interface="GigabitEthernet1",
        remote_ip="10.0.0.2",
        remote_port=500 + index % 60000,
        local_ip="10.0.0.1",
        local_port=500,
        fvrf="",
        ivrf="CORP",
        description="",
        phase1_id=f"branch-{index}.example.net",
        username="",
        status=status,
        ike_sa_ids=(index,),
        flow_ids=(f"f{index}",),
        capabilities="D",
        origin="crypto map",
        totals=totals,
        up_since=at,
        changed_at=at,
    )


# ---------------------------------------------------------------------- reference
def reference(radius: FreeRadius, count: int, window: int = 256) -> float:
    """Raw Accounting-Request/Response round trips per second: pyrad encodes, one
    socket, `window` Ids in flight, a lost one re-sent after a second."""
    dictionary = load_dictionary()
    secret = radius.secret.encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.connect(("127.0.0.1", radius.acct_port))
    free = list(range(256))[:window]
    inflight: dict[int, tuple[int, bytes, float]] = {}  # ident -> (index, raw, sent at)
    sent = done = 0
    started = time.perf_counter()
    while done < count:
        while free and sent < count:
            ident = free.pop()
            packet = AcctPacket(id=ident, secret=secret, dict=dictionary)
            packet.AddAttribute("Acct-Status-Type", "Start")
            packet.AddAttribute("Acct-Session-Id", f"ref-{sent}")
            packet.AddAttribute("NAS-IP-Address", "10.0.0.1")
            packet.AddAttribute("Acct-Delay-Time", 0)
            raw = packet.RequestPacket()
            sock.send(raw)
            inflight[ident] = (sent, raw, time.perf_counter())
            sent += 1
        ready, _, _ = select.select([sock], [], [], 0.2)
        if ready:
            data = sock.recv(4096)
            entry = inflight.get(data[1]) if len(data) >= 20 else None
            if entry is not None and data[0] == AccountingResponse:
                del inflight[data[1]]
                free.append(data[1])
                done += 1
        now = time.perf_counter()
        for ident, (index, raw, at) in list(inflight.items()):
            if now - at > 1.0:  # same Id, same bytes: FreeRADIUS treats it as a duplicate
                sock.send(raw)
                inflight[ident] = (index, raw, now)
    elapsed = time.perf_counter() - started
    sock.close()
    return count / elapsed


# ---------------------------------------------------------------------- the accountant
class Outcome:
    """What the store published of the records, seen as a console or XSM client sees
    it (every change set), so that the accountant keeps no more acknowledged records
    than a gateway does (the last 1,000)."""

    def __init__(self, store: Store) -> None:
        #: (Acct-Session-Id, kind) of every Start and Stop acknowledged
        self.acked: set[tuple[str, str]] = set()
        #: the Acct-Session-Id of every Start and Stop made
        self.ours: set[str] = set()
        store.listen(self._changed, [ACCOUNTING])

    def _changed(self, changes: ChangeSet) -> None:
        table = changes.table(ACCOUNTING)
        for rows in (table.added, table.changed):
            for row in rows.values():
                if isinstance(row, AccountingRecord) and row.kind in ("Start", "Stop"):
                    self.ours.add(row.acct_session_id)
                    if row.state is DeliveryState.ACKED:
                        self.acked.add((row.acct_session_id, row.kind))


async def drive(
    radius: FreeRadius, workdir: Path, count: int, *, debug: bool, profile: bool
) -> tuple[float, float, Accountant, Outcome, cProfile.Profile | None]:
    store = Store()
    outcome = Outcome(store)
    accountant = Accountant(
        store,
        Logbook(store),
        spool_path=workdir / "spool.sqlite",
        timers=TIMERS,
        nas_ip="10.0.0.1",
        debug=debug,
    )
    text = gateway_config(
        radius.acct_port, radius.secret, auth_port=radius.auth_port, hostname="bench-gw"
    )
    model = validate(parse_text(text, "bench.conf"))
    assert model.errors == [], [str(d) for d in model.errors]
    accountant.apply_config(model, compile_config(model))
    await accountant.start()
    assert await accountant.wait_idle(10), "Accounting-On not acknowledged"
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    started = time.perf_counter()
    cpu_started = time.process_time()
    now = time.time()
    for index in range(count):
        up = session(index, SessionStatus.UP_ACTIVE, Counters(), now)
        accountant.on_transition(
            SessionTransition(up, SessionStatus.UP_IDLE, SessionStatus.UP_ACTIVE, now)
        )
        totals = Counters(
            bytes_in=1000 + index, packets_in=10, bytes_out=2000 + index, packets_out=20
        )
        gone = session(index, SessionStatus.DOWN, totals, now)
        accountant.on_transition(
            SessionTransition(
                gone, SessionStatus.UP_ACTIVE, SessionStatus.DOWN, now, DownReason.CLEARED
            )
        )
        if index % 100 == 99:
            await asyncio.sleep(0)  # let the delivery tasks run as sessions keep coming
    idle = await accountant.wait_idle(120)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if profiler:
        profiler.disable()
    if not idle:
        print(f"not idle after 120 s: {accountant.pending_count()} records pending")
    return elapsed, cpu, accountant, outcome, profiler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--reference", type=int, default=10000, help="reference requests")
    parser.add_argument("--no-debug", action="store_true", help="without debug logging")
    parser.add_argument("--profile", action="store_true", help="cProfile the accountant run")
    args = parser.parse_args()
    if binary() is None or not SYSTEM_CONFIG.is_dir():
        print("freeradius is not installed (apt-get install freeradius)")
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-acct-") as tmp:
        workdir = Path(tmp)
        radius = FreeRadius(
            workdir / "freeradius",
            auth_port=free_udp_port(),
            acct_port=free_udp_port(),
            secret=secrets.token_hex(12),
        )
        radius.workdir.mkdir()
        radius.configure()
        radius.start()
        try:
            ref_rate = reference(radius, args.reference)
            print(f"reference: {args.reference} raw pyrad round trips, {ref_rate:,.0f}/s")
            apply_gateway_thresholds()  # the collector's thresholds of the gateway process
            elapsed, cpu, _, outcome, profiler = asyncio.run(
                run(radius, workdir, args.sessions, not args.no_debug, args.profile)
            )
        finally:
            radius.stop()
        entries = radius.records()

    expected = 2 * args.sessions
    acked, ours = outcome.acked, outcome.ours
    in_file = [
        (
            e["Acct-Session-Id"][0],
            e["Acct-Status-Type"][0],
            e.get("Event-Timestamp", [""])[0],
        )
        for e in entries
        if e.get("Acct-Session-Id", [""])[0] in ours
    ]
    duplicates = len(in_file) - len(set(in_file))
    unique = {(session_id, status) for session_id, status, _ in in_file}
    lost = expected - len(acked & unique)
    rate = len(acked) / elapsed
    print(
        f"accountant: {args.sessions} sessions, {expected} records in {elapsed:.2f} s; "
        f"acked {len(acked)}, in the detail file {len(unique)} "
        f"({duplicates} duplicates), debug {'off' if args.no_debug else 'on'}"
    )
    cpu_us = cpu / expected * 1e6
    print(f"accountant CPU: {cpu_us:.0f} us per record (this process, freeradius excluded)")
    print(f"accountant vs reference: {rate:,.0f}/s vs {ref_rate:,.0f}/s = {rate / ref_rate:.0%}")
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(30)
    print(f"records_per_s={rate:.0f} lost={lost} duplicates={duplicates}")
    return 0 if lost == 0 and duplicates == 0 else 1


async def run(
    radius: FreeRadius, workdir: Path, count: int, debug: bool, profile: bool
) -> tuple[float, float, Accountant, Outcome, cProfile.Profile | None]:
    elapsed, cpu, accountant, outcome, profiler = await drive(
        radius, workdir, count, debug=debug, profile=profile
    )
    accountant.drain_timeout = 5.0
    await accountant.stop()
    if len(accountant.spool) if accountant._spool is not None else 0:
        print("records left in the spool")
    return elapsed, cpu, accountant, outcome, profiler


if __name__ == "__main__":
    sys.exit(main())
