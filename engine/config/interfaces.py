"""Addresses of real Linux interfaces, for `interface NAME` blocks without `ip address`."""

from __future__ import annotations

import ipaddress
import socket

from engine.config.model import Config
from engine.netlink import netlink


def linux_ipv4_addresses(name: str) -> list[ipaddress.IPv4Interface]:
    """The IPv4 addresses of interface `name` as the kernel has them; [] if there is none."""

    def lookup(ipr: object) -> list[ipaddress.IPv4Interface]:
        index = ipr.link_lookup(ifname=name)  # type: ignore[attr-defined]
        if not index:
            return []
        found = []
        for message in ipr.get_addr(index=index[0], family=socket.AF_INET):  # type: ignore[attr-defined]
            address = message.get_attr("IFA_ADDRESS")
            if address:
                found.append(ipaddress.IPv4Interface(f"{address}/{message['prefixlen']}"))
        return found

    try:
        return netlink(lookup)
    except OSError:
        return []


def fill_from_kernel(config: Config) -> Config:
    """Give address-less interfaces the address of the Linux interface of that name."""
    for interface in config.interfaces.values():
        if interface.address is None and not interface.is_tunnel:  # tunnels are ours to make
            addresses = linux_ipv4_addresses(interface.name)
            if addresses:
                interface.address = addresses[0]
    return config
