"""A TUN device for the decrypted side of the tunnels, and routes through it.

Needs CAP_NET_ADMIN. The device is created with the TUNSETIFF ioctl (the one thing
pyroute2 does not do: it can make a persistent tuntap, but not hand us its file
descriptor); pyroute2 brings it up and manages addresses and routes.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import socket
import struct
from collections.abc import Callable

from pyroute2 import IPRoute

from engine.netlink import netlink, netlink_soon

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
#: a virtio_net_hdr ahead of every packet, both ways (engine.dataplane.gro)
IFF_VNET_HDR = 0x4000
DEFAULT_MTU = 1400


class TunDevice:
    def __init__(
        self, name: str = "ipsec0", mtu: int = DEFAULT_MTU, vnet_hdr: bool = False
    ) -> None:
        self.name = name
        self.mtu = mtu
        #: packets carry a virtio_net_hdr (read: always plain, no offloads are enabled
        #: for the kernel's side; written: plain or GSO)
        self.vnet_hdr = vnet_hdr
        self.fd = -1
        self.index = 0
        #: (network, metric) of the routes made here
        self._routes: set[tuple[str, int]] = set()

    def open(self) -> None:
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        try:
            fcntl.ioctl(
                self.fd,
                TUNSETIFF,
                struct.pack(
                    "16sH",
                    self.name.encode(),
                    IFF_TUN | IFF_NO_PI | (IFF_VNET_HDR if self.vnet_hdr else 0),
                ),
            )
            self.index = netlink(lambda ipr: ipr.link_lookup(ifname=self.name)[0])
            netlink(lambda ipr: ipr.link("set", index=self.index, state="up", mtu=self.mtu))
        except OSError:
            os.close(self.fd)
            self.fd = -1
            raise

    def read(self) -> bytes | None:
        try:
            return os.read(self.fd, 65535)
        except BlockingIOError:
            return None

    def write(self, packet: bytes) -> bool:
        try:
            os.write(self.fd, packet)
        except OSError:
            return False
        return True

    def route_soon(
        self,
        network: str,
        local: tuple[str, ...],
        on_error: Callable[[BaseException], None],
        metric: int = 0,
    ) -> None:
        """Route a remote protected network into the tunnel, from a local address inside
        our protected networks when the host has one (as strongSwan does). Queued on the
        netlink thread: the event loop never waits for it. `metric`: the route's
        priority (an IOS distance: the lowest of a prefix's routes carries it)."""
        self._routes.add((network, metric))
        index = self.index

        def add(ipr: IPRoute) -> None:
            route = {"dst": str(ipaddress.ip_network(network)), "oif": index}
            if metric:
                route["priority"] = metric
            source = _local_address(ipr, local)
            if source is not None:
                route["prefsrc"] = source
            ipr.route("replace", **route)

        netlink_soon(add, on_error)

    def unroute_soon(
        self, network: str, on_error: Callable[[BaseException], None], metric: int = 0
    ) -> None:
        if (network, metric) not in self._routes:
            return
        self._routes.discard((network, metric))
        netlink_soon(lambda ipr: _delete_route(ipr, network, self.index, metric), on_error)

    @property
    def routes(self) -> frozenset[str]:
        return frozenset(network for network, _ in self._routes)

    def close(self) -> None:
        """Take our routes away (waiting for it: the device is going) and close."""
        index, routes = self.index, list(self._routes)
        self._routes.clear()

        def remove_all(ipr: IPRoute) -> None:
            for network, metric in routes:
                with contextlib.suppress(Exception):
                    _delete_route(ipr, network, index, metric)

        if routes:
            netlink(remove_all)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _delete_route(ipr: IPRoute, network: str, index: int, metric: int) -> None:
    route: dict[str, object] = {"dst": str(ipaddress.ip_network(network)), "oif": index}
    if metric:
        route["priority"] = metric
    ipr.route("del", **route)


def _local_address(ipr: IPRoute, networks: tuple[str, ...]) -> str | None:
    """An address this host has inside one of `networks` (for the routes' source)."""
    nets = [ipaddress.ip_network(n) for n in networks]
    for message in ipr.get_addr(family=socket.AF_INET):
        address = ipaddress.ip_address(message.get_attr("IFA_ADDRESS"))
        if any(address in net and net.prefixlen > 0 for net in nets):
            return str(address)
    return None
