"""The lab's traffic, without privileges: no TUN, no routes.

The gateway side answers ICMP echo requests sent to its own protected networks; each
lab peer sends echo requests from its protected network at its own rate and counts
the replies. Every packet crosses real ESP both ways, so the counters the console
shows are the data plane's own.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import Counter

from engine.dataplane import packets
from engine.dataplane.plane import DataPlane


def _first_host(networks: tuple[str, ...]) -> str | None:
    for text in networks:
        net = ipaddress.ip_network(text)
        if net.version == 4 and net.prefixlen > 0:
            return (
                str(net.network_address + 1) if net.num_addresses > 1 else str(net.network_address)
            )
    return None


class EchoResponder:
    """Answers pings addressed inside the networks we protect."""

    def __init__(self, plane: DataPlane, interface: str = "") -> None:
        """`interface`: answer for that tunnel interface (a route-based peer)."""
        self.plane = plane
        self.interface = interface
        self.counters: Counter[str] = Counter()
        self._local: dict[tuple[str, ...], int] = {}
        if interface:
            plane.tunnel_sinks[interface] = self
        else:
            plane.sink = self

    def stop(self) -> None:
        if self.plane.tunnel_sinks.get(self.interface) is self:
            del self.plane.tunnel_sinks[self.interface]

    def selectors_added(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        self._local[local] = self._local.get(local, 0) + 1

    def selectors_removed(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        count = self._local.get(local, 0) - 1
        if count <= 0:
            self._local.pop(local, None)
        else:
            self._local[local] = count

    def transport_added(self, local: str, remote: str, protocol: int) -> None:
        self.selectors_added((local,), (remote,))

    def transport_removed(self, local: str, remote: str, protocol: int) -> None:
        self.selectors_removed((local,), (remote,))

    def deliver(self, packet: bytes) -> None:
        reply = packets.echo_reply(packet)
        if reply is None:
            self.counters["not an echo request"] += 1
            return
        if self.plane.send(reply, self.interface):
            self.counters["echo replies"] += 1


class EchoSource:
    """A lab peer's traffic: `rate` pings per second to the far protected network."""

    def __init__(
        self,
        plane: DataPlane,
        rate: float = 2.0,
        size: int = 200,
        tunnel: tuple[str, str, str] | None = None,
    ) -> None:
        """`tunnel`: (interface, source, destination) for a route-based peer, whose pings
        go into its tunnel interface by route, not by selectors."""
        self.plane = plane
        self.rate = rate
        self.payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
        self.counters: Counter[str] = Counter()
        self._pairs: list[tuple[str, str]] = []
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self.interface = ""
        if tunnel is not None:
            self.interface = tunnel[0]
            self._pairs.append(tunnel[1:])
            plane.tunnel_sinks[self.interface] = self
        else:
            plane.sink = self

    def selectors_added(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        src, dst = _first_host(local), _first_host(remote)
        if src and dst and (src, dst) not in self._pairs:
            self._pairs.append((src, dst))

    def selectors_removed(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        pair = (_first_host(local), _first_host(remote))
        if pair in self._pairs:
            self._pairs.remove(pair)  # type: ignore[arg-type]

    def transport_added(self, local: str, remote: str, protocol: int) -> None:
        self.selectors_added((local,), (remote,))

    def transport_removed(self, local: str, remote: str, protocol: int) -> None:
        self.selectors_removed((local,), (remote,))

    def deliver(self, packet: bytes) -> None:
        if packets.is_echo_reply(packet):
            self.counters["echo replies"] += 1

    def ping(self) -> None:
        for src, dst in self._pairs:
            self._seq = (self._seq + 1) & 0xFFFF
            request = packets.echo_request(src, dst, 0x1AB, self._seq, self.payload)
            if self.plane.send(request, self.interface):
                self.counters["echo requests"] += 1

    async def run(self) -> None:
        while True:
            self.ping()
            await asyncio.sleep(1.0 / self.rate)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
