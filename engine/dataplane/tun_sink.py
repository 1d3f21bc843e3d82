"""The privileged sink: decrypted packets to a TUN device, and the host's packets for
the remote protected networks (routed into the device) out through ESP."""

from __future__ import annotations

import asyncio

from engine.dataplane.plane import DataPlane
from engine.dataplane.tun import TunDevice

READ_BATCH = 256


class TunSink:
    def __init__(self, plane: DataPlane, name: str = "ipsec0") -> None:
        self.plane = plane
        self.device = TunDevice(name)
        self._routes: dict[str, int] = {}
        self.last_route_error = ""
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self.device.open()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.device.fd, self._readable)
        self.plane.sink = self

    def stop(self) -> None:
        if self._loop is not None and self.device.fd >= 0:
            self._loop.remove_reader(self.device.fd)
        self.device.close()

    def _readable(self) -> None:
        for _ in range(READ_BATCH):
            packet = self.device.read()
            if packet is None:
                return
            self.plane.send(packet)

    def deliver(self, packet: bytes) -> None:
        if not self.device.write(packet):
            self.plane.counters["tun write failed"] += 1

    def selectors_added(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        """Only a network gaining its first SA costs netlink work, and that work is queued
        on the netlink thread: a child SA (a rekey above all) never waits on it."""
        for network in remote:
            if network in ("0.0.0.0/0", "::/0"):
                continue  # never steal the default route
            self._routes[network] = self._routes.get(network, 0) + 1
            if self._routes[network] == 1:
                self.device.route_soon(network, local, self._failed)

    def selectors_removed(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        for network in remote:
            count = self._routes.get(network, 0) - 1
            if count <= 0 and network in self._routes:
                del self._routes[network]
                self.device.unroute_soon(network, self._failed)
            elif count > 0:
                self._routes[network] = count

    def _failed(self, err: BaseException) -> None:
        """Called on the netlink thread: counted on the event loop's."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._count_failure, str(err))

    def _count_failure(self, reason: str) -> None:
        self.plane.counters["route changes failed"] += 1
        self.last_route_error = reason
