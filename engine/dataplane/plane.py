"""The data plane: ESP SAs installed from the engine's events, packets moved between
the peers (ESP in UDP on the gateway's sockets) and a sink (a TUN device, or the lab's
responder), counter samples published once a second, and lifetimes by kilobytes turned
into rekeys.

Crypto maps share one sink, whose packets find their SA by selectors; each tunnel
interface (route-based VPN) has a sink of its own, whose packets go to that interface's
SA whatever their addresses: what the routes send into a tunnel is what it carries.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable
from typing import Protocol

from engine.esp.drops import Drop, DropReason
from engine.esp.table import SaTable
from engine.events import (
    Address,
    ChildSaDeleted,
    ChildSaInstalled,
    CountersSampled,
    DownReason,
    InboundSaStaged,
    InterfaceAssigned,
    LineProtocolChanged,
)
from engine.gateway import Gateway

TICK = 1.0
#: packets received on a staged SA (QM2 sent, QM3 not yet read) kept for delivery once
#: it is installed: its interface (a virtual access, say) is settled only then
HELD_PACKETS = 256
#: seconds after which a staged SA whose QM3 never came is dropped (far beyond any
#: retransmission of QM2; a QM3 later than that still installs a fresh pair)
STAGED_TIMEOUT = 300.0


class Sink(Protocol):
    """Where decrypted packets go, and where packets to encrypt come from."""

    def deliver(self, packet: bytes) -> None: ...

    def selectors_added(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None: ...

    def selectors_removed(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None: ...

    def transport_added(self, local: str, remote: str, protocol: int) -> None:
        """A transport-mode child SA between our address `local` and the peer's `remote`
        (host CIDR text), for IP protocol `protocol` (0: any)."""

    def transport_removed(self, local: str, remote: str, protocol: int) -> None: ...


class DataPlane:
    """Subscribes (in the composition root) to the child SA events in `EVENTS`; publishes
    counter samples on the gateway's bus."""

    EVENTS = (ChildSaInstalled, ChildSaDeleted, InterfaceAssigned, InboundSaStaged)

    def __init__(
        self,
        gateway: Gateway,
        random_bytes: Callable[[int], bytes] = os.urandom,
        replay_window: int = 64,
    ) -> None:
        self.gateway = gateway
        self.table = SaTable(random_bytes=random_bytes, replay_window=replay_window)
        self.sink: Sink | None = None
        #: tunnel interface (IOS name) -> its sink
        self.tunnel_sinks: dict[str, Sink] = {}
        #: child SA id -> its tunnel interface, for route-based children only
        self._interfaces: dict[int, str] = {}
        #: virtual accesses told before their child's ChildSaInstalled
        self._assigned: dict[int, str] = {}
        #: tunnel interface -> its child SAs (line protocol up while > 0)
        self._line_children: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self._peers: dict[int, tuple[Address, Address, bool]] = {}
        self._selectors: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        #: transport-mode children: (our host, peer host, protocol), told to the sink
        self._transport: dict[int, tuple[str, str, int]] = {}
        self._task: asyncio.Task[None] | None = None
        self._rekeying: set[int] = set()
        #: per child SA, resolved on its first packet: where its ESP leaves (the peer's
        #: path, Gateway.esp_sender)
        self._senders: dict[int, Callable[[bytes], None]] = {}
        #: staged child SA id -> the packets received on it so far
        self._held: dict[int, list[bytes]] = {}
        gateway.esp_handler = self.esp_received

    # ------------------------------------------------------------------ SAs
    def on_event(self, event: object) -> None:
        if isinstance(event, InterfaceAssigned):
            # delivered before the child's ChildSaInstalled reaches us (see engine.bus)
            self._assigned[event.child_sa_id] = event.interface
        elif isinstance(event, InboundSaStaged):
            self.table.stage(event.installed)
            self._held[event.installed.child_sa_id] = []
        elif isinstance(event, ChildSaInstalled):
            self._install(event)
            held = self._held.pop(event.child_sa_id, None)
            if held:
                self._deliver_held(event.child_sa_id, held)
        elif isinstance(event, ChildSaDeleted):
            self._delete(event)

    def _install(self, event: ChildSaInstalled) -> None:
        ts = event.traffic_selectors
        interface = self._assigned.pop(event.child_sa_id, event.interface)
        self.table.install_event(event, interface)
        self._peers[event.child_sa_id] = (event.local, event.remote, event.udp_encapsulation)
        if interface:
            self._interfaces[event.child_sa_id] = interface
            self._line(interface, +1, event.at)
            return  # its routes are the configuration's, not its selectors'
        if event.transforms.transport:
            hosts = (ts.local[0], ts.remote[0], ts.protocol)
            self._transport[event.child_sa_id] = hosts
            if self.sink is not None:
                self.sink.transport_added(*hosts)
            return
        self._selectors[event.child_sa_id] = (ts.local, ts.remote)
        if self.sink is not None:
            self.sink.selectors_added(ts.local, ts.remote)

    def _deliver_held(self, child_sa_id: int, held: list[bytes]) -> None:
        interface = self._interfaces.get(child_sa_id)
        sink = self.sink if interface is None else self.tunnel_sinks.get(interface)
        if sink is None:
            self.counters["no sink"] += len(held)
            return
        for inner in held:
            sink.deliver(inner)

    def _delete(self, event: ChildSaDeleted) -> None:
        pair = self.table.get(event.child_sa_id)
        if pair is not None:
            # the final figures, delivered before the session model retires the child
            # (the bus delivers an event published during a delivery at once), or the
            # packets since the last tick would be lost
            self.gateway.publish(
                CountersSampled({event.child_sa_id: pair.counters}, event.at, final=True)
            )
        self.table.remove(event.child_sa_id)
        self._held.pop(event.child_sa_id, None)
        self._peers.pop(event.child_sa_id, None)
        self._senders.pop(event.child_sa_id, None)
        self._rekeying.discard(event.child_sa_id)
        interface = self._interfaces.pop(event.child_sa_id, None)
        if interface is not None:
            self._line(interface, -1, event.at)
        hosts = self._transport.pop(event.child_sa_id, None)
        if hosts is not None and self.sink is not None:
            self.sink.transport_removed(*hosts)
        selectors = self._selectors.pop(event.child_sa_id, None)
        if selectors and self.sink is not None and selectors not in self._selectors.values():
            self.sink.selectors_removed(*selectors)

    def _line(self, interface: str, change: int, at: float) -> None:
        """A tunnel interface's line protocol is up while it has a child SA (as IOS has
        it): its sink installs its routes then, and the change is published."""
        count = self._line_children[interface] = self._line_children[interface] + change
        if count == (1 if change > 0 else 0):
            if count <= 0:
                del self._line_children[interface]
            sink = self.tunnel_sinks.get(interface)
            handler = getattr(sink, "line_up" if count else "line_down", None)
            if handler is not None:
                handler()
            self.gateway.publish(LineProtocolChanged(interface, bool(count), at))

    def line_is_up(self, interface: str) -> bool:
        return self._line_children[interface] > 0

    # ------------------------------------------------------------------ packets
    def esp_received(
        self, data: bytes, local: Address, remote: Address, now: float | None = None
    ) -> None:
        """ESP in UDP from the gateway's sockets (RFC 3948), or over IP; `now`: the loop's
        time, read once per batch of packets by the socket's reader."""
        result = self.table.inbound(data, self.gateway.now() if now is None else now)
        if result.__class__ is not tuple:
            # counted by the table; a stale SPI from a peer we talk to gets INVALID_SPI
            assert isinstance(result, Drop)
            if result.reason is DropReason.UNKNOWN_SPI and result.spi is not None:
                self.gateway.report_invalid_spi(result.spi, remote)
            return
        inner, child_sa_id = result  # type: ignore[misc]
        peer = self._peers.get(child_sa_id)
        if peer is None:
            # a staged SA: its packets wait for QM3 (installed within a round trip)
            held = self._held.get(child_sa_id)
            if held is not None and len(held) < HELD_PACKETS:
                held.append(inner)
            else:
                self.counters["held past limit"] += 1
            return
        if peer[1] != remote:
            # The peer moved (NAT rebinding, MOBIKE float): answer where it now is.
            self._peers[child_sa_id] = (local, remote, peer[2])
            self._senders.pop(child_sa_id, None)
        interface = self._interfaces.get(child_sa_id)
        sink = self.sink if interface is None else self.tunnel_sinks.get(interface)
        if sink is not None:
            sink.deliver(inner)
        else:
            self.counters["no sink"] += 1

    def send(self, packet: bytes, interface: str = "", now: float | None = None) -> bool:
        """Encrypt a packet from a sink toward the peer whose selectors cover it: among
        the crypto maps' SAs, or those of the tunnel interface it came in by. `now`: the
        loop's time, read once per batch by the sink's reader."""
        result = self.table.outbound(packet, self.gateway.now() if now is None else now, interface)
        if result.__class__ is not tuple:
            if result is None:
                self.counters["no SA for packet"] += 1
            return False
        esp, child_sa_id = result  # type: ignore[misc]
        sender = self._senders.get(child_sa_id)
        if sender is None:
            peer = self._peers.get(child_sa_id)
            if peer is None:
                return False
            local, remote, encapsulated = peer
            sender = self._senders[child_sa_id] = self.gateway.esp_sender(
                local, remote, encapsulated=encapsulated
            )
        sender(esp)
        return True

    # ------------------------------------------------------------------ upkeep
    def tick(self) -> None:
        now = self.gateway.now()
        if self._peers:
            self.gateway.publish(
                CountersSampled({child: self.table.counters(child) for child in self._peers}, now)
            )
        for child_sa_id in self.table.rekey_due(now, by_time=False):  # time: the IKE core's
            if child_sa_id not in self._rekeying:
                self._rekeying.add(child_sa_id)
                self.gateway.rekey_child_sa(child_sa_id)
        for child_sa_id in self.table.staged_before(now - STAGED_TIMEOUT):
            self.table.remove(child_sa_id)
            self.counters["held past limit"] += len(self._held.pop(child_sa_id, ()))
        for child_sa_id in self.table.expired(now):
            self.gateway.delete_child_sa(child_sa_id, DownReason.LIFETIME_EXPIRED)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.tick()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
