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

from engine.netlink import netlink

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
DEFAULT_MTU = 1400


class TunDevice:
    def __init__(self, name: str = "ipsec0", mtu: int = DEFAULT_MTU) -> None:
        self.name = name
        self.mtu = mtu
        self.fd = -1
        self.index = 0
        self._routes: dict[str, str | None] = {}

    def open(self) -> None:
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        try:
            fcntl.ioctl(
                self.fd, TUNSETIFF, struct.pack("16sH", self.name.encode(), IFF_TUN | IFF_NO_PI)
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

    def add_route(self, network: str) -> None:
        """Route a remote protected network into the tunnel, from a local address inside
        our protected networks when the host has one (as strongSwan does)."""
        if network in self._routes:
            return
        net = ipaddress.ip_network(network)
        try:
            netlink(lambda ipr: ipr.route("replace", dst=str(net), oif=self.index))
        except Exception as err:  # pyroute2 raises NetlinkError (an OSError subclass)
            raise OSError(f"cannot route {net} into {self.name}: {err}") from err
        self._routes[network] = None

    def set_source(self, network: str, source: str) -> None:
        net = ipaddress.ip_network(network)
        netlink(lambda ipr: ipr.route("replace", dst=str(net), oif=self.index, prefsrc=source))
        self._routes[network] = source

    def remove_route(self, network: str) -> None:
        if self._routes.pop(network, "missing") == "missing":
            return
        with contextlib.suppress(Exception):
            netlink(
                lambda ipr: ipr.route("del", dst=str(ipaddress.ip_network(network)), oif=self.index)
            )

    def close(self) -> None:
        for network in list(self._routes):
            self.remove_route(network)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def local_address_in(networks: tuple[str, ...]) -> str | None:
    """An address this host has inside one of `networks` (for the routes' source)."""
    nets = [ipaddress.ip_network(n) for n in networks]
    found = netlink(
        lambda ipr: [m.get_attr("IFA_ADDRESS") for m in ipr.get_addr(family=socket.AF_INET)]
    )
    for text in found:
        address = ipaddress.ip_address(text)
        if any(address in net and net.prefixlen > 0 for net in nets):
            return str(address)
    return None
