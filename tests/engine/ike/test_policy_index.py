"""The peer index answers as a scan over the configured peers would, in the same order."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from ike_pair import A_NET, B_NET, peer

from engine.ike.policy import IkeConfig, PeerPolicy

NETWORKS = st.sampled_from(
    ["10.0.0.1/32", "10.0.0.0/24", "10.0.0.0/8", "192.0.2.0/25", "0.0.0.0/0", "2001:db8::/32"]
)
ADDRESSES = st.sampled_from(["10.0.0.1", "10.0.0.77", "10.9.9.9", "192.0.2.5", "2001:db8::1"])


def accepting(name: str, networks: list[str]) -> PeerPolicy:
    """A peer accepting these networks (none: any address, as a dynamic entry)."""
    base = peer(name, "10.0.0.1", A_NET, B_NET)
    return replace(base, remote_addresses=tuple(ipaddress.ip_network(n) for n in networks))


@settings(max_examples=200, deadline=None)
@given(peers=st.lists(st.lists(NETWORKS, max_size=2), min_size=1, max_size=8), address=ADDRESSES)
def test_peers_for_an_address_are_the_scans_in_order(peers: list[list[str]], address: str) -> None:
    policies = tuple(accepting(f"p{i}", networks) for i, networks in enumerate(peers))
    config = IkeConfig(peers=policies)
    ip = ipaddress.ip_address(address)
    assert config.peers_for(ip) == [p for p in policies if p.matches_address(ip)]
    assert config.peer("p0") is policies[0]
