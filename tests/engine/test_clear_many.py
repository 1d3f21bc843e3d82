"""`clear crypto session` over hundreds of sessions at once: every peer gets its DELETE
and answers it, every session gets one Stop and one down line, nothing is left."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections import Counter
from pathlib import Path

from many_peers import gateway_config, initiator_policy
from netutil import free_port, until

from engine.accounting.accountant import AccountingRecord, DeliveryState
from engine.accounting.collector import Collector
from engine.control import ClearFilter
from engine.events import ChildSaInstalled, DownReason, IkeSaDown
from engine.ike.constants import NON_ESP_MARKER
from engine.ike.engine import IkeEngine
from engine.ike.policy import (
    IkeConfig,
)
from engine.records import SessionStatus
from engine.secret import Secret
from engine.service import VpnService
from engine.store import ACCOUNTING, SESSIONS, SYSLOG
from engine.syslog import LogEntry

PEERS = 300
PSK = "clear-many-psk"
KEY = "clear-many-radius"
GATEWAY = "127.0.0.1"
FIRST_PEER = ipaddress.ip_address("127.21.0.1")


class Peers:
    """Many initiators: one sans-IO engine, one loopback address and socket each."""

    def __init__(self, gateway_port: int, count: int) -> None:
        self.addresses = [str(FIRST_PEER + i) for i in range(count)]
        self.port = free_port((self.addresses[0], self.addresses[-1]))
        policy = initiator_policy(PSK, (GATEWAY, gateway_port))
        self.gateway = (GATEWAY, gateway_port)
        self.engine = IkeEngine(IkeConfig(peers=(policy,), ike_port=self.port, natt_port=self.port))
        self.sockets: dict[str, socket.socket] = {}
        self.up: set[int] = set()
        self.deleted: Counter[int] = Counter()
        self.loop = asyncio.get_running_loop()
        self.timer: asyncio.TimerHandle | None = None
        for address in self.addresses:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((address, self.port))
            sock.setblocking(False)
            self.sockets[address] = sock
            self.loop.add_reader(sock.fileno(), self.readable, sock, address)

    def initiate(self, index: int) -> None:
        local = (self.addresses[index], self.port)
        self.engine.initiate("gateway", local, self.gateway, self.loop.time())
        self.flush()

    def readable(self, sock: socket.socket, address: str) -> None:
        while True:
            try:
                data, remote = sock.recvfrom(65535)
            except BlockingIOError:
                break
            if data[:4] == NON_ESP_MARKER:
                local = (address, self.port)
                self.engine.receive_datagram(data[4:], local, remote, self.loop.time())
        self.flush()

    def on_timer(self) -> None:
        self.timer = None
        self.engine.handle_timer(self.loop.time())
        self.flush()

    def flush(self) -> None:
        for dgram in self.engine.datagrams_to_send():
            self.sockets[dgram.local[0]].sendto(NON_ESP_MARKER + dgram.data, dgram.remote)
        for event in self.engine.events():
            if isinstance(event, ChildSaInstalled):
                self.up.add(event.ike_sa_id)
            elif isinstance(event, IkeSaDown) and event.reason is DownReason.PEER_DELETE:
                self.deleted[event.ike_sa_id] += 1
        when = self.engine.get_timer()
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_at(when, self.on_timer) if when is not None else None

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        for sock in self.sockets.values():
            self.loop.remove_reader(sock.fileno())
            sock.close()


def stops_by_session(collector: Collector) -> Counter[str]:
    stops: Counter[str] = Counter()
    for received in collector.received:
        attributes = dict(received.attributes)
        if attributes.get("Acct-Status-Type") == "Stop":
            stops[attributes["Acct-Session-Id"]] += 1
    return stops


async def test_clearing_hundreds_of_sessions_deletes_each_with_its_peer(tmp_path: Path) -> None:
    collector = Collector(Secret(KEY), keep=10 * PEERS)
    acct_port = free_port(("127.0.0.1",))
    await collector.serve("127.0.0.1", acct_port)
    conf = tmp_path / "gateway.conf"
    conf.write_text(gateway_config("clear-many", PSK, acct_port, KEY, retransmit=5))
    port = free_port((GATEWAY,))
    service = VpnService(
        conf,
        bind=GATEWAY,
        ike_port=port,
        natt_port=port,
        watch=False,
        dataplane=None,
        state_dir=tmp_path / "state",
    )
    service.accountant.keep_acked = 10 * PEERS  # every record stays in the store
    cleared: list[IkeSaDown] = []
    service.gateway.subscribe(
        lambda e: (
            cleared.append(e)
            if isinstance(e, IkeSaDown) and e.reason is DownReason.CLEARED
            else None
        )
    )
    down_lines: Counter[str] = Counter()

    def follow_log(changes) -> None:  # type: ignore[no-untyped-def]
        for entry in changes.table(SYSLOG).added.values():
            if (
                isinstance(entry, LogEntry)
                and entry.mnemonic == "SESSION_STATUS"
                and "DOWN" in entry.text
            ):
                assert entry.peer is not None
                down_lines[entry.peer] += 1

    service.store.listen(follow_log, (SYSLOG,))
    await service.start()
    peers = Peers(port, PEERS)
    try:
        for index in range(PEERS):
            peers.initiate(index)
            if index % 32 == 31:  # a few dozen handshakes in flight
                await until(lambda n=index: len(peers.up) > n - 32, timeout=30)
        await until(lambda: len(peers.up) == PEERS, timeout=60)
        await until(
            lambda: (
                sum(
                    1
                    for r in service.store.table(SESSIONS).values()
                    if getattr(r, "status", None) is SessionStatus.UP_ACTIVE
                )
                == PEERS
            ),
            timeout=10,
        )
        assert await service.accountant.wait_idle(30)
        starts = sum(1 for r in collector.received if ("Acct-Status-Type", "Start") in r.attributes)
        assert starts == PEERS

        ids = service.control.clear(ClearFilter(), by="test")
        assert len(ids) == PEERS

        await until(lambda: len(cleared) == PEERS and not service.store.table(SESSIONS), 30)
        # every DELETE was answered: none given up on, each peer's SA deleted once
        assert [e.detail for e in cleared if e.detail] == []
        assert sorted(peers.deleted) == sorted(peers.up)
        assert set(peers.deleted.values()) == {1}
        assert peers.engine.sa_count() == 0
        # one Stop made per session, acknowledged, at the server; one down line per peer
        assert await service.accountant.wait_idle(30)
        made = Counter(
            r.session_id
            for r in service.store.table(ACCOUNTING).values()
            if isinstance(r, AccountingRecord) and r.kind == "Stop"
        )
        assert sorted(made) == sorted(ids) and set(made.values()) == {1}
        acked = [
            r
            for r in service.store.table(ACCOUNTING).values()
            if isinstance(r, AccountingRecord) and r.kind == "Stop"
        ]
        assert {r.state for r in acked} == {DeliveryState.ACKED}
        # the server has each (a retransmission may have brought a second copy)
        server = stops_by_session(collector)
        assert {r.acct_session_id for r in acked} == set(server)
        assert sorted(down_lines) == sorted(peers.addresses)
        assert set(down_lines.values()) == {1}
        assert len(service.accountant.spool) == 0
    finally:
        peers.close()
        await service.stop()
        collector.close()
