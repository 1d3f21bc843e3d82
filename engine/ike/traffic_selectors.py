"""Traffic selector narrowing (RFC 7296 section 2.9), responder side."""

from __future__ import annotations

import functools

from engine.ike.payloads import TrafficSelector
from engine.ike.policy import IPNetwork


@functools.lru_cache(maxsize=1024)
def selectors_for(
    networks: tuple[IPNetwork, ...], ip_protocol: int = 0
) -> tuple[TrafficSelector, ...]:
    return tuple(TrafficSelector.from_network(net, ip_protocol) for net in networks)


def narrow(
    offered: tuple[TrafficSelector, ...], allowed: tuple[IPNetwork, ...], ip_protocol: int = 0
) -> tuple[TrafficSelector, ...]:
    """Every non-empty intersection of what the peer offered with what policy allows."""
    allowed_ts = selectors_for(allowed, ip_protocol)
    result: list[TrafficSelector] = []
    for ts in offered:
        for permitted in allowed_ts:
            common = ts.intersect(permitted)
            if common is not None and common not in result:
                result.append(common)
    return tuple(result)


def is_subset(chosen: tuple[TrafficSelector, ...], offered: tuple[TrafficSelector, ...]) -> bool:
    """Whether the responder's choice stays inside what we proposed (initiator check)."""
    return all(any(ts.intersect(o) == ts for o in offered) for ts in chosen)


def common_protocol(selectors: tuple[TrafficSelector, ...]) -> int:
    """The one IP protocol all `selectors` are narrowed to, else 0 (any): the data plane
    matches a child SA's packets by address and this one protocol."""
    protocols = {ts.ip_protocol for ts in selectors}
    return protocols.pop() if len(protocols) == 1 else 0


@functools.lru_cache(maxsize=4096)
def describe(selectors: tuple[TrafficSelector, ...]) -> tuple[str, ...]:
    """Selectors as CIDR text; cached because every child SA event carries them."""
    return tuple(str(net) for ts in selectors for net in ts.to_networks())
