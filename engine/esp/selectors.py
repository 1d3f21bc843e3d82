"""Packet classification against traffic selectors (RFC 4301 section 4.4.1): addresses
and the IP protocol.

Selectors arrive as CIDR text ("10.1.0.0/16", "2001:db8::/32"), as the IKE core's
`describe()` renders a child SA's negotiated TS. Addresses are compared as integers
(masked equality), which is all a packet decision needs and ~10x cheaper than
`ipaddress` objects. A selector may name one IP protocol (0: any); ports are not matched.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)

IPV4 = 4
IPV6 = 6
IPV4_HEADER = 20
IPV6_HEADER = 40

_V4_ADDRS = struct.Struct(">II")


def parse_addresses(packet: bytes) -> tuple[int, int, int] | None:
    """(version, source, destination) of an IPv4 or IPv6 packet, or None if it is neither
    or too short for its fixed header."""
    if not packet:
        return None
    version = packet[0] >> 4
    if version == IPV4:
        if len(packet) < IPV4_HEADER:
            return None
        src, dst = _V4_ADDRS.unpack_from(packet, 12)
        return IPV4, src, dst
    if version == IPV6 and len(packet) >= IPV6_HEADER:
        return IPV6, int.from_bytes(packet[8:24], "big"), int.from_bytes(packet[24:40], "big")
    return None


def protocol(packet: bytes) -> int | None:
    """The IPv4 protocol, or the IPv6 fixed header's next header (extension headers are
    not walked), or None when `packet` is not an IP packet."""
    if parse_addresses(packet) is None:
        return None
    return packet[9] if packet[0] >> 4 == IPV4 else packet[6]


def _networks(
    texts: Iterable[str],
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(text.strip(), strict=False) for text in texts]


class NetworkSet:
    """A union of networks of both families, asked `contains(version, address)`."""

    __slots__ = ("networks", "v4", "v6")

    def __init__(self, texts: Iterable[str]) -> None:
        self.networks = tuple(_networks(texts))
        #: (network, mask) pairs as integers, per family
        self.v4 = tuple(
            (int(n.network_address), int(n.netmask)) for n in self.networks if n.version == IPV4
        )
        self.v6 = tuple(
            (int(n.network_address), int(n.netmask)) for n in self.networks if n.version == IPV6
        )

    def contains(self, version: int, address: int) -> bool:
        for network, mask in self.v4 if version == IPV4 else self.v6:
            if address & mask == network:
                return True
        return False

    def __repr__(self) -> str:
        return f"NetworkSet({', '.join(str(n) for n in self.networks)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NetworkSet) and set(self.networks) == set(other.networks)

    def __hash__(self) -> int:
        return hash(frozenset(self.networks))


class SelectorIndex(Generic[T]):
    """Hashable items (child SA pairs) keyed by (local, remote) selectors, found for an outbound
    packet by destination, then source.

    One hash table per prefix length present: a lookup masks the destination once per
    distinct length, longest first (at most 33 for IPv4, in practice a handful), so
    thousands of remote-access /32s cost one dict probe. Within one destination network
    the newest item is tried first: during a rekey the new child SA sends.
    """

    def __init__(self) -> None:
        # per family: [(prefix length, mask, {network: [(local, protocol, item), ...]})],
        # longest first
        self._tables: dict[
            int, list[tuple[int, int, dict[int, list[tuple[NetworkSet, int, T]]]]]
        ] = {
            IPV4: [],
            IPV6: [],
        }
        # where each item sits, to remove it
        self._keys: dict[T, list[tuple[int, int, int]]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, local: NetworkSet, remote: NetworkSet, item: T, protocol: int = 0) -> None:
        """`protocol`: the one IP protocol the selectors allow (0: any)."""
        keys: list[tuple[int, int, int]] = []
        for net in remote.networks:
            version, length = net.version, net.prefixlen
            buckets = self._buckets(version, length, net)
            network = int(net.network_address)
            buckets.setdefault(network, []).append((local, protocol, item))
            keys.append((version, length, network))
        self._keys[item] = keys

    def remove(self, item: T) -> None:
        keys = self._keys.pop(item, None)
        if keys is None:
            return
        for version, length, network in keys:
            tables = self._tables[version]
            for index, (plen, _mask, buckets) in enumerate(tables):
                if plen != length:
                    continue
                bucket = buckets.get(network, [])
                bucket[:] = [entry for entry in bucket if entry[2] != item]
                if not bucket:
                    buckets.pop(network, None)
                if not buckets:
                    del tables[index]
                break

    def lookup(self, version: int, src: int, dst: int, protocol: int = 0) -> T | None:
        """The newest item whose remote selectors hold `dst` (longest prefix first),
        whose local selectors hold `src`, and whose protocol is `protocol` or any."""
        for _length, mask, buckets in self._tables[version]:
            bucket = buckets.get(dst & mask)
            if bucket:
                for local, allowed, item in reversed(bucket):
                    if (not allowed or allowed == protocol) and local.contains(version, src):
                        return item
        return None

    def _buckets(
        self, version: int, length: int, net: ipaddress.IPv4Network | ipaddress.IPv6Network
    ) -> dict[int, list[tuple[NetworkSet, int, T]]]:
        tables = self._tables[version]
        for plen, _mask, buckets in tables:
            if plen == length:
                return buckets
        fresh: dict[int, list[tuple[NetworkSet, int, T]]] = {}
        tables.append((length, int(net.netmask), fresh))
        tables.sort(key=lambda entry: -entry[0])
        return fresh
