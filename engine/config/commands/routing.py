"""`ip route`: static routes. Those into a tunnel interface are the gateway's to install
(a route-based VPN sends what its routes point into the tunnel); the others belong to
the host's own routing and are only kept for `check` and `show running-config`."""

from __future__ import annotations

import ipaddress

from engine.config.commands.interface import interface_name
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config, StaticRoute
from engine.config.words import Words, network

#: options after the next hop that change nothing about where packets go
_OPTIONS_WITH_VALUE = ("name", "tag", "track")
_FLAGS = ("permanent", "global", "multicast")


def ip_route(config: Config, words: Words, source: Source, text: str) -> None:
    route = StaticRoute(source, text=" ".join(text.split()))
    if words.optional_keyword("vrf"):
        route.vrf = words.word("VRF name")
    prefix = words.address("route prefix")
    mask = words.mask("route mask")
    if not isinstance(prefix, ipaddress.IPv4Address):
        raise LineError("ip route takes an IPv4 prefix (ipv6 route is separate)")
    net = network(prefix, mask)
    if net.network_address != prefix:
        # IOS refuses the line (%Inconsistent address and mask): so is it here, loudly
        raise LineError(
            f"ignored: {route.text}: {prefix} {mask} is not a network address "
            f"(inconsistent address and mask; did you mean {net}?)",
            Severity.WARNING,
        )
    route.network = net
    first = words.word("interface or next hop")
    try:
        route.next_hop = ipaddress.IPv4Address(first)
    except ValueError:
        route.interface = interface_name([first])
        if words.peek() is not None and _is_address(words.peek()):
            route.next_hop = ipaddress.IPv4Address(words.word("next hop"))
    if words.peek() is not None and (words.peek() or "").isdecimal():
        route.distance = words.number("administrative distance", 1, 255)
    while words:
        option = words.keyword(*_OPTIONS_WITH_VALUE, *_FLAGS)
        if option in _OPTIONS_WITH_VALUE:
            words.word(option)
    config.static_routes.append(route)


def _is_address(word: str | None) -> bool:
    try:
        ipaddress.IPv4Address(word or "")
    except ValueError:
        return False
    return True
