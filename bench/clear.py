"""`clear crypto session` at scale: N IKEv2 sessions cleared at once, with accounting.

    python bench/clear.py [--sessions N] [--radius freeradius|collector|none]
                          [--filter "local 127.0.0.1"] [--profile]

One gateway (engine.service.VpnService: IKE, sessions, store, syslog, accounting; no data
plane) responds on 127.0.0.1. N peers are the project's sans-IO initiator
(engine.ike.engine.IkeEngine) in a child process (`python bench/clear.py peer ...`, so
that the peers' CPU is not the gateway's, as with real peers): one UDP socket per peer
on its own loopback address (127.10.x.y), so N sessions, one IKE SA and one child each
(X25519, AES-GCM-256, PSK). The peers keep their SAs, so they answer the DELETEs.
Accounting (start-stop) goes to a private FreeRADIUS (tests/interop/freeradius.py, its
own process) when it is installed, else to the in-process lab collector
(engine/accounting/collector.py); `--radius none` applies no accounting, to show what
the IKE side costs alone. Every session's Start is acknowledged before the clear.

Then `clear crypto session` (engine.control.Control.clear, as the CLI and the console
do), with no filter or with `--filter` words as they follow `clear crypto session`
(`local 127.0.0.1` matches every session by filter, as an operator clearing one
interface's sessions would), timed from the call:

- delete_s: until the gateway has every DELETE (INFORMATIONAL, Delete payload) answered
  (its IkeSaDown with reason CLEARED and no "did not confirm" detail); the peers also
  count the DELETEs they answered;
- stops_s: until every accounting Stop is acknowledged (no record left to deliver);
  stops_lost: sessions without an acknowledged Stop (counted in the store, and for
  FreeRADIUS in its detail file too);
- settled_s: until the sessions table is empty.

The last line reads `sessions=N delete_s=A stops_s=B stops_lost=L`. `--profile` runs the
clear under cProfile and prints the top of it (the figures are then the profiled ones).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import ipaddress
import json
import os
import pstats
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from many_peers import gateway_config, initiator_policy  # noqa: E402

from engine.events import ChildSaInstalled, DownReason, IkeSaAbandoned, IkeSaDown  # noqa: E402
from engine.ike.constants import NON_ESP_MARKER  # noqa: E402
from engine.ike.engine import IkeEngine  # noqa: E402
from engine.ike.policy import IkeConfig  # noqa: E402
from engine.secret import Secret  # noqa: E402

PSK = "bench-clear-psk"
SERVER = "127.0.0.1"
#: the peers' addresses: 127.10.0.1 onwards (any 127/8 address is local on Linux)
PEER_BASE = ipaddress.ip_address("127.10.0.1")
#: seconds a handshake may take before the peer gives it up
GIVE_UP = 20.0


def peer_address(index: int) -> str:
    return str(PEER_BASE + index)


def free_udp_port(host: str = SERVER) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------- the peers
class Peers:
    """N initiators in one sans-IO engine, one socket per peer address, all on `port`."""

    def __init__(self, server: tuple[str, int], port: int, count: int) -> None:
        self.server = server
        self.port = port
        policy = initiator_policy(PSK, server)
        self.engine = IkeEngine(IkeConfig(peers=(policy,), ike_port=port, natt_port=port))
        self.selector = selectors.DefaultSelector()
        self.sockets: dict[str, socket.socket] = {}
        for index in range(count):
            address = peer_address(index)
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((address, port))
            sock.setblocking(False)
            self.sockets[address] = sock
            self.selector.register(sock, selectors.EVENT_READ, address)
        self.in_flight: dict[int, float] = {}
        self.established = 0
        self.failed = 0
        self.deleted_by_gateway = 0
        self.send_errors = 0

    def flush(self) -> None:
        for dgram in self.engine.datagrams_to_send():
            sock = self.sockets.get(dgram.local[0])
            if sock is None:
                continue
            try:
                sock.sendto(NON_ESP_MARKER + dgram.data, dgram.remote)
            except OSError:
                self.send_errors += 1
        for event in self.engine.events():
            if isinstance(event, ChildSaInstalled):
                if self.in_flight.pop(event.ike_sa_id, None) is not None:
                    self.established += 1
            elif isinstance(event, IkeSaAbandoned):
                if self.in_flight.pop(event.ike_sa_id, None) is not None:
                    self.failed += 1
            elif isinstance(event, IkeSaDown):
                if self.in_flight.pop(event.ike_sa_id, None) is not None:
                    self.failed += 1
                elif event.reason is DownReason.PEER_DELETE:
                    self.deleted_by_gateway += 1

    def serve(self, timeout: float) -> None:
        """One turn: read what is there (or wait up to `timeout`), fire timers."""
        now = time.monotonic()
        timer = self.engine.get_timer()
        if timer is not None:
            timeout = min(timeout, max(0.0, timer - now))
        for key, _ in self.selector.select(timeout):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            while True:
                try:
                    data, addr = sock.recvfrom(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue
                if data[:4] != NON_ESP_MARKER:
                    continue
                local = (key.data, self.port)
                self.engine.receive_datagram(data[4:], local, (addr[0], addr[1]), time.monotonic())
                self.flush()
        self.engine.handle_timer(time.monotonic())
        self.flush()

    def establish(self, concurrency: int) -> None:
        count = len(self.sockets)
        addresses = list(self.sockets)
        started = 0
        last_check = time.monotonic()
        while self.established + self.failed < count:
            now = time.monotonic()
            while started < count and len(self.in_flight) < concurrency:
                sa_id = self.engine.initiate(
                    "gateway", (addresses[started], self.port), self.server, now
                )
                self.in_flight[sa_id] = now
                started += 1
            self.flush()
            self.serve(0.05)
            if now - last_check > 1.0:
                last_check = now
                for sa_id, since in list(self.in_flight.items()):
                    if now - since > GIVE_UP:
                        del self.in_flight[sa_id]
                        self.failed += 1
                        sa = self.engine.ike_sa(sa_id)
                        if sa is not None:
                            self.engine.unregister(sa)


def run_peers(args: argparse.Namespace) -> int:
    peers = Peers((args.server, args.server_port), args.port, args.count)
    started = time.perf_counter()
    peers.establish(args.concurrency)
    report = {
        "ready": True,
        "established": peers.established,
        "failed": peers.failed,
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(report), flush=True)
    cpu_ready = time.process_time()
    # Serve (answer DELETEs) until told to report; stdin is polled between turns.
    peers.selector.register(sys.stdin, selectors.EVENT_READ, None)
    while True:
        ready = [k for k, _ in peers.selector.select(0) if k.data is None]
        if ready:
            line = sys.stdin.readline()
            if not line or line.strip() == "quit":
                return 0
            print(
                json.dumps(
                    {
                        "deleted_by_gateway": peers.deleted_by_gateway,
                        "cpu_s": round(time.process_time() - cpu_ready, 3),
                        "sas_left": peers.engine.sa_count(),
                        "send_errors": peers.send_errors,
                    }
                ),
                flush=True,
            )
            continue
        peers.selector.unregister(sys.stdin)
        peers.serve(0.05)
        peers.selector.register(sys.stdin, selectors.EVENT_READ, None)


# ---------------------------------------------------------------------- the gateway
class Radius:
    """FreeRADIUS in its own process, or the lab collector on this loop."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.secret = secrets.token_hex(12)
        self.acct_port = free_udp_port()
        self.server = None
        self.collector = None
        self.accounting = kind != "none"
        if kind == "freeradius":
            from interop.freeradius import FreeRadius

            self.server = FreeRadius(
                workdir / "freeradius",
                auth_port=free_udp_port(),
                acct_port=self.acct_port,
                secret=self.secret,
            )
            self.server.workdir.mkdir()
            self.server.configure()

    async def start(self) -> None:
        if self.server is not None:
            await asyncio.to_thread(self.server.start)
        elif self.accounting:
            from engine.accounting.collector import Collector

            self.collector = Collector(Secret(self.secret), keep=1)
            await self.collector.serve("127.0.0.1", self.acct_port)

    def stops_received(self, ours: set[str]) -> set[str] | None:
        """Acct-Session-Ids of the Stops the server wrote down (FreeRADIUS only)."""
        if self.server is None:
            return None
        return {
            e["Acct-Session-Id"][0]
            for e in self.server.records()
            if e.get("Acct-Status-Type", [""])[0] == "Stop"
            and e.get("Acct-Session-Id", [""])[0] in ours
        }

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.collector is not None:
            self.collector.close()


class Peer:
    """The peers' child process, talked to in JSON lines."""

    def __init__(self, server_port: int, count: int, concurrency: int) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "peer",
                "--server",
                SERVER,
                "--server-port",
                str(server_port),
                "--port",
                str(free_udp_port(peer_address(0))),
                "--count",
                str(count),
                "--concurrency",
                str(concurrency),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )

    async def line(self) -> dict[str, object]:
        assert self.proc.stdout is not None
        text = await asyncio.to_thread(self.proc.stdout.readline)
        if not text:
            raise RuntimeError("the peers' process ended")
        return json.loads(text)  # type: ignore[no-any-return]

    async def report(self) -> dict[str, object]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("report\n")
        self.proc.stdin.flush()
        return await self.line()

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


async def until(check, timeout: float, step: float = 0.005) -> float | None:  # type: ignore[no-untyped-def]
    """Seconds until `check()` holds (polled), or None at the timeout."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not check():
        if loop.time() - start > timeout:
            return None
        await asyncio.sleep(step)
    return loop.time() - start


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    from engine.accounting.accountant import AccountingRecord, DeliveryState
    from engine.control import ClearFilter
    from engine.records import SessionStatus
    from engine.service import VpnService
    from engine.store import ACCOUNTING, SESSIONS, ChangeSet

    n = args.sessions
    radius = Radius(args.radius, workdir)
    await radius.start()
    conf = workdir / "gateway.conf"
    conf.write_text(
        gateway_config(
            "bench-clear", PSK, radius.acct_port, radius.secret, accounting=radius.accounting
        )
    )
    port = free_udp_port()
    service = VpnService(
        conf,
        bind=SERVER,
        ike_port=port,
        natt_port=port,
        watch=False,
        dataplane=None,
        state_dir=workdir / "state",
    )
    cleared: list[IkeSaDown] = []
    first_down = [0.0]

    def on_event(event: object) -> None:
        if isinstance(event, IkeSaDown) and event.reason is DownReason.CLEARED:
            if not cleared:
                first_down[0] = asyncio.get_running_loop().time()
            cleared.append(event)

    service.gateway.subscribe(on_event)
    # %CRYPTO-5-SESSION_STATUS ... DOWN lines, counted as they reach the log ring
    down_lines = [0]
    append_log = service.store.append_log

    def counting(entry: object) -> int:
        if getattr(entry, "mnemonic", "") == "SESSION_STATUS" and "DOWN" in str(
            getattr(entry, "text", "")
        ):
            down_lines[0] += 1
        return append_log(entry)

    service.store.append_log = counting  # type: ignore[method-assign]
    # Stops acknowledged, by session, as the store shows them (every final state is put)
    stops_acked: dict[str, int] = {}
    acked_stop_ids: set[object] = set()
    stop_acct_ids: set[str] = set()  # the store keeps only the newest acknowledged records

    acked_start_ids: set[object] = set()

    def accounting_changed(changes: ChangeSet) -> None:
        table = changes.table(ACCOUNTING)
        for rows in (table.added, table.changed):
            for key, record in rows.items():
                if not isinstance(record, AccountingRecord):
                    continue
                if record.kind == "Start" and record.state is DeliveryState.ACKED:
                    acked_start_ids.add(key)
                if record.kind != "Stop":
                    continue
                stop_acct_ids.add(record.acct_session_id)
                if record.state is DeliveryState.ACKED and key not in acked_stop_ids:
                    acked_stop_ids.add(key)
                    stops_acked[record.session_id] = stops_acked.get(record.session_id, 0) + 1

    service.store.listen(accounting_changed, [ACCOUNTING])
    await service.start()
    peer = Peer(port, n, args.concurrency)
    result: dict[str, object] = {"sessions": n}
    try:
        ready = await peer.line()
        print(f"peers: {ready}", flush=True)

        def sessions_up() -> int:
            return sum(
                1
                for r in service.store.table(SESSIONS).values()
                if getattr(r, "status", None) is SessionStatus.UP_ACTIVE
            )

        await until(lambda: sessions_up() >= int(ready["established"]), 30, 0.1)
        assert await service.accountant.wait_idle(120), "Starts not acknowledged"
        up = sessions_up()
        starts = len(acked_start_ids)
        print(f"gateway: {up} sessions up, {starts} Starts acknowledged", flush=True)
        result["sessions"] = up

        loop = asyncio.get_running_loop()
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        t0 = loop.time()

        async def mark(check) -> float | None:  # type: ignore[no-untyped-def]
            """Seconds from the clear until `check()` holds (None: not in 120 s)."""
            while not check():
                if loop.time() - t0 > 120:
                    return None
                await asyncio.sleep(0.005)
            return loop.time() - t0

        # the sessions table followed by its change sets: polling `store.table()` would
        # make the store copy the table at its next write
        in_table = [len(service.store.table(SESSIONS))]

        def follow(changes) -> None:  # type: ignore[no-untyped-def]
            table = changes.tables.get(SESSIONS)
            if table is not None:
                in_table[0] += len(table.added) - len(table.removed)

        listener = service.store.listen(follow, (SESSIONS,))
        spy = None
        if args.py_spy:
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    *("record", "--pid", str(os.getpid()), "--format", "raw"),
                    *("--rate", "250", "-o", args.py_spy),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            await asyncio.sleep(1.0)  # attached
        t0 = loop.time()
        cpu0 = time.process_time()
        ids = service.control.clear(ClearFilter.parse(args.filter.split()), by="bench")
        call_s = loop.time() - t0

        def answered() -> int:
            return sum(1 for e in cleared if not e.detail)

        delete_s, stops_s, settled_s = await asyncio.gather(
            mark(lambda: len(cleared) >= up),
            mark(lambda: len(stops_acked) >= up or not radius.accounting),
            mark(lambda: in_table[0] <= 0),
        )
        if not radius.accounting:
            stops_s = None
        total = loop.time() - t0
        cpu = time.process_time() - cpu0
        listener.close()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await asyncio.to_thread(spy.wait)
        if profiler is not None:
            profiler.disable()
        stops = set(stops_acked)
        ids_set = set(ids)
        in_server = radius.stops_received(stop_acct_ids)
        lost = len(ids_set - stops) if radius.accounting else 0
        if in_server is not None:
            lost = max(lost, len(ids) - len(in_server))
        log_lines = down_lines[0]
        report = await peer.report()
        result.update(
            cleared=len(ids),
            call_s=round(call_s, 3),
            delete_s=None if delete_s is None else round(delete_s, 3),
            answered=answered(),
            peers_answered=report["deleted_by_gateway"],
            stops_s=None if stops_s is None else round(stops_s, 3),
            settled_s=None if settled_s is None else round(settled_s, 3),
            total_s=round(total, 3),
            gateway_cpu_s=round(cpu, 3),
            peers_cpu_s=report["cpu_s"],
            stops_acked=len(stops & ids_set),
            stops_acked_twice=sum(1 for c in stops_acked.values() if c > 1),
            stops_in_server=None if in_server is None else len(in_server),
            stops_lost=lost,
            down_log_lines=log_lines,
            first_down_s=None if not cleared else round(first_down[0] - t0, 3),
            send_counters=dict(service.gateway.counters),
            radius={
                k: getattr(st, k)
                for st in service.accountant.transport.states()
                for k in ("requests", "transmissions", "retransmissions", "duplicates")
            },
        )
        if profiler is not None:
            profiler.dump_stats(args.profile_out)
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
    finally:
        peer.close()
        service.accountant.drain_timeout = 1.0
        service.gateway.shutdown_grace = 0.0
        await service.stop()
        radius.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    peer = sub.add_parser("peer", help="(internal) the peers' process")
    peer.add_argument("--server", required=True)
    peer.add_argument("--server-port", type=int, required=True)
    peer.add_argument("--port", type=int, required=True)
    peer.add_argument("--count", type=int, required=True)
    peer.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64, help="handshakes in flight")
    parser.add_argument("--radius", choices=("freeradius", "collector", "none"), default=None)
    parser.add_argument("--filter", default="", help="clear crypto session words: local A ...")
    parser.add_argument("--profile", action="store_true", help="cProfile the clear")
    parser.add_argument("--py-spy", metavar="FILE", help="py-spy samples of the clear (raw)")
    parser.add_argument("--profile-out", default="/tmp/bench-clear.prof", help="its stats file")
    args = parser.parse_args()
    if args.command != "peer":
        from engine.control import ClearFilter

        try:
            ClearFilter.parse(args.filter.split())
        except ValueError as err:
            parser.error(f"--filter: {err}")
    if args.command == "peer":
        return run_peers(args)
    if args.radius is None:
        from interop.freeradius import SYSTEM_CONFIG, binary

        args.radius = "freeradius" if binary() and SYSTEM_CONFIG.is_dir() else "collector"
    with tempfile.TemporaryDirectory(prefix="bench-clear-") as tmp:
        result = asyncio.run(bench(args, Path(tmp)))
    print(json.dumps(result))
    print(
        f"sessions={result['sessions']} delete_s={result.get('delete_s')} "
        f"stops_s={result.get('stops_s')} stops_lost={result.get('stops_lost')}"
    )
    return 0 if result.get("stops_lost") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
