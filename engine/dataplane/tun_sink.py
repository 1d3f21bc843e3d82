"""The privileged sink: decrypted packets to a TUN device, and the host's packets for
the remote protected networks (routed into the device) out through ESP."""

from __future__ import annotations

import asyncio
import functools
import os

from engine.dataplane import gro
from engine.dataplane.offload import Offload
from engine.dataplane.plane import DataPlane
from engine.dataplane.transport_routes import TransportRoutes
from engine.dataplane.tun import TunDevice

READ_BATCH = 256


class TunSink:
    def __init__(self, plane: DataPlane, name: str = "ipsec0") -> None:
        self.plane = plane
        self.device = TunDevice(name, vnet_hdr=True)
        self._routes: dict[str, int] = {}
        self.last_route_error = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        #: policy routing for transport-mode child SAs (made when the device opens)
        self.transport: TransportRoutes | None = None
        #: writes to the device, batched per loop turn (TCP runs joined) once it is open
        self._writer: Offload[bytes] | None = None

    def start(self) -> None:
        self.device.open()
        self._writer = Offload(
            f"{self.device.name} writer",
            functools.partial(os.write, self.device.fd),
            self.plane.counters,
            "tun write failed",
            prepare=gro.coalesce,
            # on the loop's thread: with TCP runs joined there are few writes, and for a
            # flood of small writes a thread's GIL hand-over per packet costs more
            threaded=False,
        )
        self._writer.start()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.device.fd, self._readable)
        self.transport = TransportRoutes(
            self.device.name, self.device.index, self.plane.gateway.mark_sockets
        )
        self.plane.sink = self

    def stop(self) -> None:
        if self._loop is not None and self.device.fd >= 0:
            self._loop.remove_reader(self.device.fd)
        if self.transport is not None:
            self.transport.close()
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        self.device.close()

    def _readable(self) -> None:
        fd, read, send = self.device.fd, os.read, self.plane.send
        now = self.plane.gateway.now()  # once per wake-up: the batch was queued together
        skip = gro.VNET_HEADER_SIZE if self.device.vnet_hdr else 0
        for _ in range(READ_BATCH):
            try:
                packet = read(fd, 65535)
            except BlockingIOError:
                return
            send(packet[skip:] if skip else packet, "", now)

    def deliver(self, packet: bytes) -> None:
        if self._writer is not None:
            self._writer.put(packet)
            return
        try:
            os.write(self.device.fd, gro.PLAIN + packet if self.device.vnet_hdr else packet)
        except OSError:
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

    def transport_added(self, local: str, remote: str, protocol: int) -> None:
        """A transport-mode child SA between our address and the peer's: the host's
        packets to the peer (of that protocol) go through the device, the gateway's
        own IKE and ESP do not (see engine.dataplane.transport_routes)."""
        if self.transport is not None:
            self.transport.add(_hosts(local, remote, protocol), self._failed)

    def transport_removed(self, local: str, remote: str, protocol: int) -> None:
        if self.transport is not None:
            self.transport.remove(_hosts(local, remote, protocol), self._failed)

    def _failed(self, err: BaseException) -> None:
        """Called on the netlink thread: counted on the event loop's."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._count_failure, str(err))

    def _count_failure(self, reason: str) -> None:
        self.plane.counters["route changes failed"] += 1
        self.last_route_error = reason


def _hosts(local: str, remote: str, protocol: int) -> tuple[str, str, int]:
    """('192.0.2.1/32', '192.0.2.2/32', 47) -> ('192.0.2.1', '192.0.2.2', 47)."""
    return local.split("/")[0], remote.split("/")[0], protocol
