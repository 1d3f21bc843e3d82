"""The asyncio runtime around the sans-IO IKE engine: sockets, timers, dispatch.

Thin on purpose: it moves bytes between UDP sockets and `IkeEngine`, fires the
engine's timer, and hands events to subscribers. Two sockets: the IKE port
(500 by default) and the NAT-T port (4500). RFC 3948's non-ESP marker (four
zero bytes) prefixes IKE whenever neither port is 500, as strongSwan does, so
one socket can carry IKE and ESP-in-UDP, which a MOBIKE port float requires.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace

from engine.bus import EventBus
from engine.crypto import RandomBytes
from engine.dataplane.offload import Offload
from engine.events import Address, DownReason, IkeSaAbandoned, IkeSaDown
from engine.ike.constants import NON_ESP_MARKER
from engine.ike.engine import IkeEngine
from engine.ike.policy import IkeConfig
from engine.ikev1.engine import IkeV1Engine
from engine.ikev1.policy import ClientGrant
from engine.raw_esp import RawEsp
from engine.sockbuf import set_receive_buffer

#: Linux's per-socket DF policy (<linux/in.h>; Python's socket module lacks the names):
#: IP_PMTUDISC_DONT 0, IP_PMTUDISC_WANT 1, IP_PMTUDISC_DO 2
IP_MTU_DISCOVER = 10
DF_POLICIES = {"clear": 0, "copy": 1, "set": 2}

log = logging.getLogger(__name__)

IKE_STANDARD_PORT = 500
NAT_KEEPALIVE = b"\xff"
#: seconds between NAT keepalives (RFC 3948 section 4) when we are behind NAT
KEEPALIVE_INTERVAL = 20.0
#: datagrams read per wake-up of a socket, and the receive buffer asked of the kernel
RECV_BATCH = 256
SOCKET_BUFFER = 4 << 20
#: read batches a timer may drain from each socket first (a full 4 MB buffer of IKE)
DRAIN_BATCHES = 64
#: read batches per wake-up while a mass delete waits for answers: 2,048 answers go
#: ahead of other work, which then gets its loop turn (priority, not starvation)
CLEARING_BATCHES = 8
#: seconds a stopping gateway waits for its peers to confirm their DELETEs
SHUTDOWN_GRACE = 1.5

#: (ESP packet, our address, the peer's, the loop's time)
EspHandler = Callable[[bytes, Address, Address, float], None]
#: sends one ESP packet to one peer (see Gateway.esp_sender)
EspSender = Callable[[bytes], None]
EventListener = Callable[[object], object]


def _put_to(put: Callable[[tuple[bytes, Address]], None], remote: Address, data: bytes) -> None:
    put((data, remote))


def needs_marker(local_port: int, remote_port: int) -> bool:
    """IKE carries the non-ESP marker unless one end uses port 500."""
    return IKE_STANDARD_PORT not in (local_port, remote_port)


class UdpPort:
    """One bound UDP socket, read in batches from the event loop.

    asyncio's datagram transport does one recvfrom per loop turn (about 70k
    packets/s measured here); draining the socket until it would block serves
    the same loop turn many packets, which matters once ESP shares the socket.
    """

    def __init__(
        self,
        sock: socket.socket,
        on_datagram: Callable[[bytes, int, Address], None],
        counters: Counter[str],
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        """`after_batch` runs once after each wake-up that read something (the
        gateway's flush: one send of replies, one burst of events, one timer)."""
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self._on_datagram = on_datagram
        self._after_batch = after_batch
        self._counters = counters
        #: ESP in UDP: (data, our port, the peer's address, now), or None (all datagrams
        #: to `on_datagram`)
        self.on_esp: Callable[[bytes, int, tuple[str, int], float], None] | None = None
        self.clock: Callable[[], float] = time.monotonic

    def readable(self) -> int:
        """Read up to RECV_BATCH datagrams; how many were read. The engines' output is
        flushed once per batch (`after_batch`), not once per datagram."""
        recvfrom = self.sock.recvfrom
        on_datagram, port = self._on_datagram, self.port
        # ESP in UDP (no non-ESP marker, neither end on port 500: RFC 3948) goes straight
        # to the data plane, with the loop's time read once per wake-up
        on_esp = self.on_esp if port != IKE_STANDARD_PORT else None
        now = self.clock() if on_esp is not None else 0.0
        got = esp = 0
        try:
            for _ in range(RECV_BATCH):
                try:
                    data, addr = recvfrom(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    # ICMP errors for earlier sends surface here (port unreachable ...)
                    self._counters["socket errors"] += 1
                    continue
                got += 1
                if (
                    on_esp is not None
                    and len(data) > 4
                    and data[:4] != NON_ESP_MARKER
                    and addr[1] != IKE_STANDARD_PORT
                ):
                    esp += 1
                    on_esp(data, port, addr, now)
                else:
                    on_datagram(data, port, (addr[0], addr[1]))
        finally:
            if esp:
                self._counters["datagrams in"] += esp
            if got > esp and self._after_batch is not None:
                self._after_batch()
        return got

    def sendto(self, data: bytes, remote: Address) -> None:
        try:
            self.sock.sendto(data, remote)
        except (BlockingIOError, InterruptedError):
            self._counters["send buffer full"] += 1
        except OSError:
            self._counters["send errors"] += 1
        else:
            self._counters["datagrams out"] += 1

    def close(self) -> None:
        self.sock.close()


class Gateway:
    """One IKE engine on its sockets."""

    def __init__(
        self,
        config: IkeConfig,
        *,
        bind: str = "0.0.0.0",
        ike_port: int | None = None,
        natt_port: int | None = None,
        random_bytes: RandomBytes = os.urandom,
        dataplane: bool = False,
        esp_over_ip: bool = True,
        bus: EventBus | None = None,
    ) -> None:
        self.bind = bind
        self.ike_port = ike_port if ike_port is not None else config.ike_port
        self.natt_port = natt_port if natt_port is not None else config.natt_port
        config = replace(config, ike_port=self.ike_port, natt_port=self.natt_port)
        self.engine = IkeEngine(config, random_bytes)
        #: IKEv1 (ISAKMP major version 1) on the same sockets, with the same ids and SPIs
        self.ikev1 = IkeV1Engine(
            config,
            random_bytes,
            new_id=self.engine.new_id,
            new_child_spi=self.engine.new_child_spi,
            release_child_spi=self.engine.release_child_spi,
        )
        #: where the engine's events go (the composition root's bus, or one of its own)
        self.bus = bus if bus is not None else EventBus()
        self.esp_handler: EspHandler | None = None
        self.raw_esp: RawEsp | None = None
        #: carry ESP: over IP when the raw socket can be had, else always in UDP
        self.dataplane = dataplane
        self.esp_over_ip = esp_over_ip
        self.force_encapsulation = False
        self.counters: Counter[str] = Counter()
        self._endpoints: dict[int, UdpPort] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._keepalive: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._local_ip_cache: dict[str, str] = {}
        #: (peer address, port) -> (our address, NAT-T port), for ESP in UDP
        self._esp_local: dict[Address, Address] = {}
        #: the data plane's ESP sends, one thread per socket (see esp_sender)
        self._esp_offloads: dict[str, Offload[tuple[bytes, Address]]] = {}
        #: seconds `stop` waits for peers to confirm their DELETE
        self.shutdown_grace = SHUTDOWN_GRACE
        #: SO_MARK of our sockets (0: none); set by the data plane's policy routing
        self.socket_mark = 0
        #: `crypto ipsec df-bit` applied to our sockets
        self.df_bit = "copy"
        #: IKE SAs of a mass delete whose DELETE is not answered yet: while there are
        #: some, their answers are read ahead of other work (see `_readable`)
        self._clearing: set[int] = set()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Bind the IKE and NAT-T sockets; port 0 takes a free port (tests, the lab)."""
        self._loop = asyncio.get_running_loop()
        wanted = (
            [self.ike_port] if self.ike_port == self.natt_port else [self.ike_port, self.natt_port]
        )
        bound: list[int] = []
        try:
            for port in wanted:
                family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_DGRAM)
                sock.setblocking(False)
                set_receive_buffer(sock, SOCKET_BUFFER)
                try:
                    sock.bind((self.bind, port))
                except OSError:
                    sock.close()
                    raise
                endpoint = UdpPort(sock, self._received, self.counters, self.flush)
                endpoint.on_esp = self._esp_datagram
                endpoint.clock = self._loop.time
                self._endpoints[endpoint.port] = endpoint
                self._loop.add_reader(sock.fileno(), self._readable, endpoint)
                bound.append(endpoint.port)
        except OSError:
            self._close_endpoints()
            raise
        self.ike_port, self.natt_port = bound[0], bound[-1]
        if self.dataplane:
            self.force_encapsulation = not (self.esp_over_ip and self.enable_raw_esp())
        self.engine.config = replace(
            self.engine.config,
            ike_port=self.ike_port,
            natt_port=self.natt_port,
            force_encapsulation=self.force_encapsulation,
        )
        self.ikev1.config = self.engine.config
        self._keepalive = self._loop.call_later(KEEPALIVE_INTERVAL, self._send_keepalives)

    def _close_endpoints(self) -> None:
        for offload in self._esp_offloads.values():
            offload.stop()
        self._esp_offloads.clear()
        for endpoint in self._endpoints.values():
            if self._loop is not None:
                self._loop.remove_reader(endpoint.sock.fileno())
            endpoint.close()
        self._endpoints.clear()

    async def stop(self, graceful: bool = True) -> None:
        """Delete every IKE SA with its peer, then close the sockets.

        The DELETEs go as proper exchanges, so that a peer confirms them; what is not
        confirmed within `shutdown_grace` seconds gets a last one-shot DELETE.
        """
        if graceful and self._loop is not None:
            self.ikev1.delete_all(DownReason.SHUTDOWN, self.now())
            self.engine.delete_all(DownReason.SHUTDOWN, self.now())
            self.flush()
            deadline = self._loop.time() + self.shutdown_grace
            while self.engine.has_sas() and self._loop.time() < deadline:
                await asyncio.sleep(0.02)
            self.engine.shutdown(self.now())
            self.ikev1.shutdown(self.now())
            self.flush()
        for handle in (self._timer, self._keepalive):
            if handle is not None:
                handle.cancel()
        self._close_endpoints()
        if self.raw_esp is not None:
            self.raw_esp.close()
            self.raw_esp = None

    def now(self) -> float:
        assert self._loop is not None, "gateway not started"
        return self._loop.time()

    def mark_sockets(self, mark: int) -> None:
        """Put `mark` (SO_MARK, needs CAP_NET_ADMIN) on our IKE, NAT-T and raw ESP
        sockets, so that policy routing can tell the gateway's own packets from the
        host's packets it protects (transport mode, engine.dataplane.transport_routes)."""
        self.socket_mark = mark
        for _, sock in self.sockets():
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
            except OSError as err:
                self.counters["socket mark failed"] += 1
                log.warning("cannot mark socket %s: %s", sock.getsockname(), err)

    def set_df_bit(self, mode: str) -> None:
        """`crypto ipsec df-bit`: `clear` lets the kernel fragment our ESP packets (DF
        never set), `set` forbids it (DF always set, no local fragmentation), `copy`
        leaves the kernel's default (path MTU discovery, DF set)."""
        value = DF_POLICIES[mode]
        self.df_bit = mode
        for _, sock in self.sockets():
            if sock.family != socket.AF_INET:
                continue
            try:
                sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, value)
            except OSError as err:
                self.counters["df-bit setting failed"] += 1
                log.warning("cannot set the DF policy of %s: %s", sock.getsockname(), err)

    def sockets(self) -> list[tuple[str, socket.socket]]:
        """Our sockets by name, for the kernel's view of them (`show crypto engine drops`)."""
        named = [(f"udp/{port}", endpoint.sock) for port, endpoint in self._endpoints.items()]
        if self.raw_esp is not None:
            named.append(("esp (IP protocol 50)", self.raw_esp.sock))
        return named

    def subscribe(self, listener: EventListener) -> None:
        """A consumer after the declared ones (tests, tools watching a gateway)."""
        self.bus.subscribe(getattr(listener, "__qualname__", "listener"), listener)

    # ------------------------------------------------------------------ I/O
    def datagram_received(self, data: bytes, port: int, remote: Address) -> None:
        """One datagram, then a flush (what it made is sent and published now)."""
        self._received(data, port, remote)
        self.flush()

    def _received(self, data: bytes, port: int, remote: Address) -> None:
        """One datagram into the engines, without a flush: the socket's reader flushes
        once per batch (256 DELETE answers of a mass clear: one event burst, one store
        change set and one timer, not 256 of each)."""
        self.counters["datagrams in"] += 1
        if data == NAT_KEEPALIVE:
            self.counters["nat keepalives in"] += 1
            return
        marker_expected = needs_marker(port, remote[1])
        if data[:4] == NON_ESP_MARKER:
            data = data[4:]
        elif marker_expected:
            # Without the marker on a NAT-T path this is ESP in UDP (RFC 3948).
            if self.esp_handler is not None:
                self.esp_handler(data, (self.local_ip(remote[0]), port), remote, self.now())
            else:
                self.counters["esp without data plane"] += 1
            return
        local = (self.local_ip(remote[0]), port)
        if len(data) > 17 and data[17] >> 4 == 1:
            self.ikev1.receive_datagram(data, local, remote, self.now())
        else:
            self.engine.receive_datagram(data, local, remote, self.now())

    def _esp_datagram(self, data: bytes, port: int, addr: tuple[str, int], now: float) -> None:
        """ESP in UDP, recognised by the socket's reader (the fast path of
        `datagram_received`): to the data plane with our address as the peer sees it."""
        handler = self.esp_handler
        if handler is None:
            self.counters["esp without data plane"] += 1
            return
        remote = (addr[0], addr[1])
        local = self._esp_local.get(remote)
        if local is None:
            local = self._esp_local[remote] = (self.local_ip(addr[0]), port)
        handler(data, local, remote, now)

    def local_ip(self, remote_ip: str) -> str:
        """Our address as the peer sees it before NAT: the bound one, or the route's source."""
        if self.bind not in ("0.0.0.0", "::", ""):
            return self.bind
        cached = self._local_ip_cache.get(remote_ip)
        if cached is None:
            family = socket.AF_INET6 if ":" in remote_ip else socket.AF_INET
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                try:
                    probe.connect((remote_ip, 9))
                    cached = probe.getsockname()[0]
                except OSError:
                    cached = "0.0.0.0"
            self._local_ip_cache[remote_ip] = cached
        return cached

    def send_esp(
        self, data: bytes, local: Address, remote: Address, *, encapsulated: bool = True
    ) -> None:
        """For the data plane: ESP in UDP leaves from the SA's own port; plain ESP goes
        out of the raw socket when there is one."""
        if encapsulated:
            self._sendto(data, local[1], remote)
        elif self.raw_esp is not None:
            self.raw_esp.send(data, remote)
        else:
            self.counters["esp without raw socket"] += 1

    def esp_sender(self, local: Address, remote: Address, *, encapsulated: bool) -> EspSender:
        """`send_esp` for one SA's path, resolved once: the data plane keeps it per child
        SA. The sends themselves happen on a thread per socket (engine.dataplane.offload:
        the kernel's part of a send overlaps with the next packets' encryption)."""
        if encapsulated:
            endpoint = self._endpoints.get(local[1]) or self._endpoints.get(self.ike_port)
            if endpoint is not None:
                offload = self._esp_offload(
                    f"udp/{endpoint.port}", endpoint.sock.sendto, "send errors", "datagrams out"
                )
                return functools.partial(_put_to, offload.put, remote)
        elif self.raw_esp is not None:
            raw = self.raw_esp
            offload = self._esp_offload("esp", raw.sock.sendto, "raw esp send errors")
            return functools.partial(_put_to, offload.put, (remote[0], 0))
        # no socket for that path (yet): the general path, which counts the failure
        return functools.partial(
            self.send_esp, local=local, remote=remote, encapsulated=encapsulated
        )

    def _esp_offload(
        self,
        name: str,
        sendto: Callable[[bytes, Address], object],
        failure: str,
        handed: str = "",
    ) -> Offload[tuple[bytes, Address]]:
        offload = self._esp_offloads.get(name)
        if offload is None:
            offload = Offload(
                f"{name} sender", lambda item: sendto(*item), self.counters, failure, handed
            )
            offload.start()
            self._esp_offloads[name] = offload
        return offload

    def enable_raw_esp(self) -> bool:
        """Receive and send ESP over IP (protocol 50); False without the privilege."""
        try:
            self.raw_esp = RawEsp(self.bind, self._raw_esp_received, self.counters)
        except OSError:
            return False
        self.raw_esp.start()
        return True

    def _raw_esp_received(self, data: bytes, local: Address, remote: Address, now: float) -> None:
        if self.esp_handler is not None:
            self.esp_handler(data, local, remote, now)

    def _sendto(self, data: bytes, port: int, remote: Address) -> None:
        endpoint = self._endpoints.get(port) or self._endpoints.get(self.ike_port)
        if endpoint is None:
            self.counters["send without socket"] += 1
            return
        endpoint.sendto(data, remote)

    def flush(self) -> None:
        """Send what the engine produced, publish its events, re-arm its timer."""
        for engine in (self.engine, self.ikev1):
            for dgram in engine.datagrams_to_send():
                data = dgram.data
                if needs_marker(dgram.local[1], dgram.remote[1]):
                    data = NON_ESP_MARKER + data
                self._sendto(data, dgram.local[1], dgram.remote)
            events = engine.events()
            if events:
                if self._clearing:
                    self._note_closed(events)
                self.bus.publish_all(events)
        self._arm_timer()

    def _readable(self, endpoint: UdpPort) -> None:
        """A socket's wake-up: one batch, or while a mass delete waits for its answers,
        up to CLEARING_BATCHES. The answers of a clear of thousands then go ahead of
        what their own sessions' ends set off (accounting Stops, made and delivered a
        few dozen a loop turn): that work still gets every turn, but no longer one turn
        per 256 answers."""
        if not self._clearing:
            endpoint.readable()
            return
        for _ in range(CLEARING_BATCHES):
            if endpoint.readable() < RECV_BATCH or not self._clearing:
                break

    def _note_closed(self, events: Iterable[object]) -> None:
        clearing = self._clearing
        for event in events:
            if type(event) is IkeSaDown or type(event) is IkeSaAbandoned:
                clearing.discard(event.ike_sa_id)

    def publish(self, event: object) -> None:
        self.bus.publish(event)

    def _arm_timer(self) -> None:
        if self._loop is None:
            return
        timers = [t for t in (self.engine.get_timer(), self.ikev1.get_timer()) if t is not None]
        when = min(timers) if timers else None
        if self._timer is not None:
            if when is not None and abs(self._timer.when() - when) < 1e-6:
                return
            self._timer.cancel()
            self._timer = None
        if when is not None:
            self._timer = self._loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._clearing:
            # an SA that went without an event (a contained fault) holds nothing up
            self._clearing = {
                i for i in self._clearing if self.engine.ike_sa(i) or self.ikev1.ike_sa(i)
            }
        self._drain_input()
        now = self.now()
        self.engine.handle_timer(now)
        self.ikev1.handle_timer(now)
        self.flush()

    def _drain_input(self) -> None:
        """What has arrived is read before timers fire: a retransmission of a request
        whose answer waits in our socket is wasted on both sides, and when the loop is
        behind (10,000 DELETE answers of a clear), such retransmissions kept it behind."""
        for endpoint in list(self._endpoints.values()):
            for _ in range(DRAIN_BATCHES):
                if endpoint.readable() < RECV_BATCH:
                    break

    def _send_keepalives(self) -> None:
        for local, remote in self.engine.nat_keepalive_paths() + self.ikev1.nat_keepalive_paths():
            self._sendto(NAT_KEEPALIVE, local[1], remote)
        assert self._loop is not None
        self._keepalive = self._loop.call_later(KEEPALIVE_INTERVAL, self._send_keepalives)

    # ------------------------------------------------------------------ actions
    def initiate(self, peer_name: str, remote: Address | None = None) -> int:
        peer = self.engine.config.peer(peer_name)
        if remote is None:
            remote = (str(peer.remote_addresses[0].network_address), peer.remote_ike_port)
        engine = self.ikev1 if peer.ike_version == 1 else self.engine
        ike_sa_id = engine.initiate(
            peer_name, (self.local_ip(remote[0]), self.ike_port), remote, self.now()
        )
        self.flush()
        return ike_sa_id

    def delete_ike_sa(self, ike_sa_id: int, reason: DownReason = DownReason.CLEARED) -> bool:
        done = self._by_sa(ike_sa_id).delete_ike_sa(ike_sa_id, self.now(), reason)
        self.flush()
        return done

    def delete_ike_sas(self, ike_sa_ids: Iterable[int], reason: DownReason) -> int:
        """Delete many IKE SAs with their peers (a `clear crypto session` of thousands):
        every DELETE is built first and all leave in one flush, so the timer is armed
        and the events are published once, not once per SA. Returns how many existed."""
        now = self.now()
        done = 0
        for ike_sa_id in ike_sa_ids:
            if self._by_sa(ike_sa_id).delete_ike_sa(ike_sa_id, now, reason):
                done += 1
                self._clearing.add(ike_sa_id)
        self.flush()
        return done

    def delete_all(self, reason: DownReason) -> None:
        self.engine.delete_all(reason, self.now())
        self.ikev1.delete_all(reason, self.now())
        self.flush()

    def delete_peers(self, peer_names: set[str], reason: DownReason) -> int:
        deleted = self.engine.delete_peers(peer_names, reason, self.now())
        deleted += self.ikev1.delete_peers(peer_names, reason, self.now())
        self.flush()
        return deleted

    def create_child_sa(self, ike_sa_id: int) -> bool:
        done = self._by_sa(ike_sa_id).create_child_sa(ike_sa_id, self.now())
        self.flush()
        return done

    def rekey_ike_sa(self, ike_sa_id: int) -> bool:
        done = self._by_sa(ike_sa_id).rekey_ike_sa(ike_sa_id, self.now())
        self.flush()
        return done

    def delete_child_sa(self, child_sa_id: int, reason: DownReason = DownReason.CLEARED) -> bool:
        done = self._by_child(child_sa_id).delete_child_sa(child_sa_id, self.now(), reason)
        self.flush()
        return done

    def report_invalid_spi(self, spi: int, remote: Address) -> None:
        if self.engine.report_invalid_spi(spi, remote, self.now()):
            self.flush()

    def rekey_child_sa(self, child_sa_id: int) -> bool:
        done = self._by_child(child_sa_id).rekey_child_sa(child_sa_id, self.now())
        self.flush()
        return done

    def authorize_client(self, ike_sa_id: int, grant: ClientGrant | None, reason: str) -> bool:
        """The verdict on an IKEv1 remote-access client (XAUTH, address)."""
        done = self.ikev1.authorize_client(ike_sa_id, grant, reason, self.now())
        self.flush()
        return done

    def note_inbound_traffic(self, child_sa_id: int) -> None:
        self._by_child(child_sa_id).note_inbound_traffic(child_sa_id, self.now())

    def _by_sa(self, ike_sa_id: int) -> IkeEngine | IkeV1Engine:
        return self.ikev1 if self.ikev1.owns(ike_sa_id) else self.engine

    def _by_child(self, child_sa_id: int) -> IkeEngine | IkeV1Engine:
        return self.ikev1 if self.ikev1.owns_child(child_sa_id) else self.engine

    def apply(self, config: IkeConfig) -> None:
        config = replace(
            config,
            ike_port=self.ike_port,
            natt_port=self.natt_port,
            force_encapsulation=self.force_encapsulation,
        )
        self.engine.update_config(config)
        self.ikev1.update_config(config)
        self.flush()

    def __repr__(self) -> str:
        return f"Gateway(bind={self.bind!r}, ike_port={self.ike_port}, natt_port={self.natt_port})"


@contextlib.asynccontextmanager
async def running(gateway: Gateway):  # type: ignore[no-untyped-def]
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()
