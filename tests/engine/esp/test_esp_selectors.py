"""Packet classification: header parsing, selector sets, the outbound policy index."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable

from engine.esp import NetworkSet, SelectorIndex, parse_addresses
from engine.esp.selectors import protocol

Builder = Callable[..., bytes]


def v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def v6(text: str) -> int:
    return int(ipaddress.IPv6Address(text))


def test_parse_ipv4_and_ipv6(ipv4: Builder, ipv6: Builder) -> None:
    assert parse_addresses(ipv4("10.1.2.3", "192.0.2.9", b"x", proto=6)) == (
        4,
        v4("10.1.2.3"),
        v4("192.0.2.9"),
    )
    assert protocol(ipv4("10.1.2.3", "192.0.2.9", proto=6)) == 6
    packet = ipv6("2001:db8::1", "2001:db8:ffff::2", proto=58)
    assert parse_addresses(packet) == (6, v6("2001:db8::1"), v6("2001:db8:ffff::2"))
    assert protocol(packet) == 58


def test_parse_refuses_what_is_not_an_ip_packet(ipv4: Builder, ipv6: Builder) -> None:
    assert parse_addresses(b"") is None
    assert parse_addresses(ipv4("10.0.0.1", "10.0.0.2")[:19]) is None
    assert parse_addresses(ipv6("::1", "::2")[:39]) is None
    assert parse_addresses(b"\x50" + bytes(60)) is None
    assert protocol(b"\x00") is None


def test_network_set_matches_by_family() -> None:
    nets = NetworkSet(["10.1.0.0/16", "192.0.2.7/32", "2001:db8::/32"])
    assert nets.contains(4, v4("10.1.255.1"))
    assert nets.contains(4, v4("192.0.2.7"))
    assert not nets.contains(4, v4("192.0.2.8"))
    assert not nets.contains(4, v4("10.2.0.1"))
    assert nets.contains(6, v6("2001:db8:1::1"))
    assert not nets.contains(6, v6("2001:db9::1"))
    # an IPv4 address as an integer never matches an IPv6 network and vice versa
    assert not NetworkSet(["::/0"]).contains(4, v4("10.1.0.1"))
    assert NetworkSet(["0.0.0.0/0"]).contains(4, v4("203.0.113.1"))
    assert NetworkSet(["10.1.0.5/16"]).contains(4, v4("10.1.9.9"))  # host bits tolerated
    assert NetworkSet(["10.0.0.0/8", "::/0"]) == NetworkSet(["::/0", "10.0.0.0/8"])


def test_longest_destination_prefix_then_newest_then_source() -> None:
    index: SelectorIndex[str] = SelectorIndex()
    anywhere = NetworkSet(["0.0.0.0/0"])
    index.add(anywhere, NetworkSet(["10.0.0.0/8"]), "wide")
    index.add(NetworkSet(["172.16.0.0/12"]), NetworkSet(["10.2.0.0/16"]), "site-b")
    index.add(anywhere, NetworkSet(["10.2.3.4/32"]), "host")
    src, other_src = v4("172.16.1.1"), v4("192.168.1.1")
    assert index.lookup(4, src, v4("10.2.3.4")) == "host"
    assert index.lookup(4, src, v4("10.2.9.9")) == "site-b"
    # the /16 exists but its source does not match: fall back to the shorter prefix
    assert index.lookup(4, other_src, v4("10.2.9.9")) == "wide"
    assert index.lookup(4, src, v4("11.0.0.1")) is None
    assert index.lookup(6, src, v4("10.2.3.4")) is None
    index.add(NetworkSet(["172.16.0.0/12"]), NetworkSet(["10.2.0.0/16"]), "site-b rekeyed")
    assert index.lookup(4, src, v4("10.2.9.9")) == "site-b rekeyed"
    index.remove("site-b rekeyed")
    assert index.lookup(4, src, v4("10.2.9.9")) == "site-b"
    index.remove("host")
    index.remove("host")  # unknown: ignored
    assert index.lookup(4, src, v4("10.2.3.4")) == "site-b"
    assert len(index) == 2


def test_ipv6_and_multiple_remote_networks() -> None:
    index: SelectorIndex[int] = SelectorIndex()
    index.add(
        NetworkSet(["2001:db8:1::/48"]), NetworkSet(["2001:db8:2::/48", "2001:db8:3::/64"]), 1
    )
    src = v6("2001:db8:1::9")
    assert index.lookup(6, src, v6("2001:db8:2:ffff::1")) == 1
    assert index.lookup(6, src, v6("2001:db8:3:0:1::1")) == 1
    assert index.lookup(6, src, v6("2001:db8:3:1::1")) is None
    index.remove(1)
    assert index.lookup(6, src, v6("2001:db8:2::1")) is None


def test_index_agrees_with_a_linear_scan_over_thousands_of_sas() -> None:
    rng = random.Random(4301)
    index: SelectorIndex[int] = SelectorIndex()
    entries: list[tuple[NetworkSet, NetworkSet, int]] = []
    for item in range(3000):
        length = rng.choice([8, 16, 24, 28, 32, 32, 32])
        remote = ipaddress.ip_network((rng.getrandbits(32), length), strict=False)
        local = ipaddress.ip_network((rng.getrandbits(32), rng.choice([0, 1, 2])), strict=False)
        entry = (NetworkSet([str(local)]), NetworkSet([str(remote)]), item)
        entries.append(entry)
        index.add(*entry)
    for item in range(0, 3000, 7):
        index.remove(item)
    live = [e for e in entries if e[2] % 7]

    def scan(src: int, dst: int) -> int | None:
        best: tuple[int, int] | None = None
        for local, remote, item in live:
            if remote.contains(4, dst) and local.contains(4, src):
                key = (remote.networks[0].prefixlen, item)
                best = key if best is None or key > best else best
        return None if best is None else best[1]

    for _ in range(2000):
        src, dst = rng.getrandbits(32), rng.getrandbits(32)
        if rng.random() < 0.5:
            dst = int(rng.choice(live)[1].networks[0].network_address) | rng.getrandbits(4)
        assert index.lookup(4, src, dst) == scan(src, dst)
