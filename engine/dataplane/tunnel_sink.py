"""A tunnel interface (route-based VPN) as Linux sees it: a TUN device of its own, named
after the IOS interface, with the interface's address and MTU, and the configuration's
`ip route`s into it. Packets read from it go to that interface's SA, whatever their
addresses; packets from that SA are written to it. In `tunnel mode gre ip` each packet
travels in GRE between the tunnel's two ends, and the SA protects that.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket

from pyroute2 import IPRoute

from engine.config.compile import TunnelInterface, TunnelRoute
from engine.dataplane import gre
from engine.dataplane.mss import clamp_mss
from engine.dataplane.plane import DataPlane
from engine.dataplane.tun import DEFAULT_MTU, TunDevice
from engine.netlink import netlink, netlink_soon

READ_BATCH = 256
IFNAMSIZ = 15
#: how IOS interface types are shortened when the name is too long for Linux
_SHORT = {"Tunnel": "Tu", "Virtual-Access": "Vi", "Virtual-Template": "Vt"}


def linux_names(ios_name: str) -> list[str]:
    """Device names to try for an IOS interface, best first: `Tunnel1` as it is, then
    `Tunnel1-2` ... for a second daemon in the same network namespace."""
    base = ios_name
    if len(base) > IFNAMSIZ:
        for long, short in _SHORT.items():
            if base.startswith(long):
                base = short + base[len(long) :]
                break
    base = base.replace("/", ".")[:IFNAMSIZ]
    names = [base]
    for n in range(2, 10):
        suffix = f"-{n}"
        names.append(base[: IFNAMSIZ - len(suffix)] + suffix)
    return names


class TunnelSink:
    def __init__(self, plane: DataPlane, tunnel: TunnelInterface) -> None:
        self.plane = plane
        self.tunnel = tunnel
        self.device: TunDevice | None = None
        self.last_error = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pinned: list[str] = []
        self._gre_ident = 0
        #: line protocol: the interface has an SA
        self.up = False

    @property
    def name(self) -> str:
        return self.tunnel.name

    @property
    def linux_name(self) -> str:
        return self.device.name if self.device else ""

    def start(self) -> None:
        """Raises OSError when no TUN device can be had (no CAP_NET_ADMIN, no /dev/net/tun)."""
        mtu = self.tunnel.mtu or DEFAULT_MTU
        for name in linux_names(self.tunnel.name):
            device = TunDevice(name, mtu)
            try:
                device.open()
            except OSError as err:
                if err.errno == errno.EBUSY:
                    continue  # another process has a device of that name: the next one
                raise
            self.device = device
            break
        else:
            raise OSError(errno.EBUSY, f"no free device name for {self.tunnel.name}")
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(device.fd, self._readable)
        self.plane.tunnel_sinks[self.tunnel.name] = self
        self._set_address(None, self.tunnel.address)

    # ------------------------------------------------------------------ line protocol
    def line_up(self) -> None:
        """The interface has an SA (IOS: line protocol up): its routes go in."""
        self.up = True
        for route in self.tunnel.routes:
            self._route(route)

    def line_down(self) -> None:
        """Its last SA went: its routes go, so a floating route elsewhere takes over."""
        self.up = False
        if self.device is None:
            return
        for route in self.tunnel.routes:
            self.device.unroute_soon(str(route.network), self._failed, _metric(route))

    def update(self, tunnel: TunnelInterface) -> None:
        """A reload changed the interface: its address, MTU and routes follow."""
        old, self.tunnel = self.tunnel, tunnel
        if self.device is None:
            return
        if old.address != tunnel.address:
            self._set_address(old.address, tunnel.address)
        if old.mtu != tunnel.mtu:
            index, mtu = self.device.index, tunnel.mtu or DEFAULT_MTU
            netlink_soon(lambda ipr: ipr.link("set", index=index, mtu=mtu), self._failed)
        if not self.up:
            return
        for route in set(old.routes) - set(tunnel.routes):
            self.device.unroute_soon(str(route.network), self._failed, _metric(route))
        for route in set(tunnel.routes) - set(old.routes):
            self._route(route)

    def stop(self) -> None:
        if self.plane.tunnel_sinks.get(self.tunnel.name) is self:
            del self.plane.tunnel_sinks[self.tunnel.name]
        if self.device is None:
            return
        if self._loop is not None and self.device.fd >= 0:
            self._loop.remove_reader(self.device.fd)
        pinned, self._pinned = self._pinned, []
        if pinned:
            netlink(lambda ipr: _unpin(ipr, pinned))
        self.device.close()  # its routes go with it

    # ------------------------------------------------------------------ packets
    def _readable(self) -> None:
        assert self.device is not None
        mss, name = self.tunnel.adjust_mss, self.tunnel.name
        ends = self._gre_ends()
        for _ in range(READ_BATCH):
            packet = self.device.read()
            if packet is None:
                return
            if mss is not None:
                packet = clamp_mss(packet, mss)
            if ends is not None:
                self._gre_ident = (self._gre_ident + 1) & 0xFFFF
                wrapped = gre.encapsulate(packet, *ends, self._gre_ident)
                if wrapped is None:
                    self.plane.counters[f"{name}: not IP"] += 1
                    continue
                packet = wrapped
            if not self.plane.send(packet, name):
                self.plane.counters[f"{name}: no SA for packet"] += 1

    def deliver(self, packet: bytes) -> None:
        if self.tunnel.gre:
            inner = gre.decapsulate(packet)
            if inner is None:
                self.plane.counters[f"{self.tunnel.name}: not GRE"] += 1
                return
            packet = inner
        if self.tunnel.adjust_mss is not None:
            packet = clamp_mss(packet, self.tunnel.adjust_mss)
        if self.device is None or not self.device.write(packet):
            self.plane.counters["tun write failed"] += 1

    def _gre_ends(self) -> tuple[bytes, bytes] | None:
        """(source, destination) of the GRE delivery header; None unless GRE mode."""
        tunnel = self.tunnel
        if not tunnel.gre or tunnel.source is None or tunnel.destination is None:
            return None
        return (
            ipaddress.IPv4Address(tunnel.source).packed,
            ipaddress.IPv4Address(tunnel.destination).packed,
        )

    def selectors_added(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        """A tunnel's routes are the configuration's: its selectors route nothing."""

    def selectors_removed(self, local: tuple[str, ...], remote: tuple[str, ...]) -> None:
        """See `selectors_added`."""

    def transport_added(self, local: str, remote: str, protocol: int) -> None:
        """A tunnel interface carries whole packets: never transport mode."""

    def transport_removed(self, local: str, remote: str, protocol: int) -> None:
        """See `transport_added`."""

    # ------------------------------------------------------------------ netlink
    def _set_address(
        self, old: ipaddress.IPv4Interface | None, new: ipaddress.IPv4Interface | None
    ) -> None:
        assert self.device is not None
        index = self.device.index

        def change(ipr: IPRoute) -> None:
            if old is not None:
                with contextlib.suppress(Exception):
                    ipr.addr("del", index=index, address=str(old.ip), prefixlen=_length(old))
            if new is not None:
                ipr.addr("replace", index=index, address=str(new.ip), prefixlen=_length(new))

        netlink_soon(change, self._failed)

    def _route(self, route: TunnelRoute) -> None:
        """Route into the tunnel; when the network holds the tunnel's own peer (a default
        route into the tunnel, as cloud VPNs are often set up), the peer's address is
        first pinned to the path it has now, or IKE and ESP would enter their own tunnel."""
        if self.device is None:
            return
        remote = self._destination()
        if remote is not None and ipaddress.ip_address(remote) in route.network:
            netlink_soon(lambda ipr: self._pin(ipr, remote), self._failed)
        self.device.route_soon(str(route.network), (), self._failed, _metric(route))

    def _destination(self) -> str | None:
        return self.tunnel.destination

    def _pin(self, ipr: IPRoute, destination: str) -> None:
        if destination in self._pinned:
            return
        found = ipr.route("get", dst=destination)
        if not found:
            return
        route = {"dst": f"{destination}/32", "oif": found[0].get_attr("RTA_OIF")}
        gateway = found[0].get_attr("RTA_GATEWAY")
        if gateway:
            route["gateway"] = gateway
        ipr.route("replace", **route)
        self._pinned.append(destination)

    def _failed(self, err: BaseException) -> None:
        """Called on the netlink thread: counted on the event loop's."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._count_failure, str(err))

    def _count_failure(self, reason: str) -> None:
        self.plane.counters["route changes failed"] += 1
        self.last_error = reason


def _metric(route: TunnelRoute) -> int:
    """The Linux route priority for an IOS distance: 1 (the default) is the kernel's
    default 0, so that a route into a tunnel replaces the host's route as it does on a
    router; a floating route's distance is its priority."""
    return 0 if route.distance <= 1 else route.distance


def _length(address: ipaddress.IPv4Interface) -> int:
    return address.network.prefixlen


def _unpin(ipr: IPRoute, destinations: list[str]) -> None:
    for destination in destinations:
        with contextlib.suppress(Exception):
            ipr.route("del", dst=f"{destination}/32", family=socket.AF_INET)
