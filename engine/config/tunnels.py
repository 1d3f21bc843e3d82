"""Questions about tunnel interfaces that validation and the compiler both ask."""

from __future__ import annotations

import ipaddress

from engine.config.model import Config, Interface
from engine.ike.policy import IPNetwork

IPSEC_IPV4 = "ipsec ipv4"


def tunnel_mode(interface: Interface) -> str:
    """IOS's default tunnel mode is GRE."""
    return interface.tunnel_mode[0] if interface.tunnel_mode else "gre ip"


def tunnel_of_next_hop(config: Config, hop: ipaddress.IPv4Address) -> Interface | None:
    """The tunnel interface whose subnet holds `hop` (a next hop inside the tunnel)."""
    for interface in config.interfaces.values():
        address = interface.address
        inside = address is not None and hop in address.network and hop != address.ip
        if interface.is_tunnel and inside:
            return interface
    return None


def tunnel_networks(config: Config, interface: Interface) -> tuple[tuple[IPNetwork, int], ...]:
    """What the configuration routes into `interface`, with each route's distance: its
    `ip route`s by interface or by a next hop inside its subnet."""
    routes: dict[tuple[IPNetwork, int], None] = {}
    for route in config.static_routes:
        if route.vrf is not None:
            continue
        if route.interface == interface.name or (
            route.interface is None
            and route.next_hop is not None
            and tunnel_of_next_hop(config, route.next_hop) is interface
        ):
            routes[(route.network, route.distance)] = None
    return tuple(routes)


def tunnel_source_address(config: Config, interface: Interface) -> ipaddress.IPv4Address | None:
    """`tunnel source`: the address itself, or the address of the interface it names."""
    if interface.tunnel_source is None:
        return None
    text = interface.tunnel_source[0]
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        pass
    named = config.interfaces.get(text)
    return named.address.ip if named is not None and named.address is not None else None
