"""Traffic selector payloads TSi and TSr (RFC 7296 section 3.13)."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import PayloadType, TsType
from engine.ike.errors import LocalProtocolError, MalformedMessage

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# ts type, ip protocol, selector length, start port, end port
_SELECTOR = struct.Struct("!BBHHH")
_TS_TYPES = {t.value: t for t in TsType}
# ts type -> (selector length, address size, address class)
_LAYOUT: dict[int, tuple[int, int, type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]]] = {
    TsType.IPV4_ADDR_RANGE: (16, 4, ipaddress.IPv4Address),
    TsType.IPV6_ADDR_RANGE: (40, 16, ipaddress.IPv6Address),
}


@dataclass(frozen=True, slots=True)
class TrafficSelector:
    """An address range, a port range and an IP protocol (0 = any).

    Ports are a range too; RFC 7296 3.13.1 uses start 65535 / end 0 for OPAQUE ports,
    which `intersect` treats as empty.
    """

    ts_type: TsType
    ip_protocol: int
    start_port: int
    end_port: int
    start_address: IPAddress
    end_address: IPAddress

    @classmethod
    def from_network(
        cls, net: IPNetwork, ip_protocol: int = 0, ports: tuple[int, int] = (0, 65535)
    ) -> Self:
        ts_type = TsType.IPV4_ADDR_RANGE if net.version == 4 else TsType.IPV6_ADDR_RANGE
        return cls(
            ts_type, ip_protocol, ports[0], ports[1], net.network_address, net.broadcast_address
        )

    @classmethod
    def from_range(
        cls,
        start: IPAddress,
        end: IPAddress,
        ip_protocol: int = 0,
        ports: tuple[int, int] = (0, 65535),
    ) -> Self:
        if start.version != end.version:
            raise LocalProtocolError(f"address range {start} - {end} mixes IP versions")
        ts_type = TsType.IPV4_ADDR_RANGE if start.version == 4 else TsType.IPV6_ADDR_RANGE
        return cls(ts_type, ip_protocol, ports[0], ports[1], start, end)

    def to_networks(self) -> list[IPNetwork]:
        """The address range as the shortest list of CIDR networks (empty if start > end)."""
        start, end = self.start_address, self.end_address
        if start.version != end.version or start > end:  # type: ignore[operator]
            return []
        return list(ipaddress.summarize_address_range(start, end))  # type: ignore[arg-type]

    def intersect(self, other: TrafficSelector) -> TrafficSelector | None:
        """The selector both sides accept (RFC 7296 2.9 narrowing), or None if disjoint."""
        if self.ts_type != other.ts_type:
            return None
        if not self.ip_protocol:
            protocol = other.ip_protocol
        elif not other.ip_protocol or other.ip_protocol == self.ip_protocol:
            protocol = self.ip_protocol
        else:
            return None
        start_port = max(self.start_port, other.start_port)
        end_port = min(self.end_port, other.end_port)
        if start_port > end_port:
            return None
        try:
            start = max(self.start_address, other.start_address)  # type: ignore[type-var]
            end = min(self.end_address, other.end_address)  # type: ignore[type-var]
        except TypeError:  # mixed IP versions in hand-built selectors
            return None
        if start > end:
            return None
        return TrafficSelector(self.ts_type, protocol, start_port, end_port, start, end)

    def encode(self) -> bytes:
        layout = _LAYOUT.get(self.ts_type)
        if layout is None:
            raise LocalProtocolError(f"traffic selector type {self.ts_type} not supported")
        length, _, address_class = layout
        if not (
            isinstance(self.start_address, address_class)
            and isinstance(self.end_address, address_class)
        ):
            raise LocalProtocolError(f"{self.ts_type!r} selector with addresses of another family")
        header = _SELECTOR.pack(
            self.ts_type, self.ip_protocol, length, self.start_port, self.end_port
        )
        return header + self.start_address.packed + self.end_address.packed

    def __str__(self) -> str:
        nets = self.to_networks()
        addresses = str(nets[0]) if len(nets) == 1 else f"{self.start_address}-{self.end_address}"
        proto = f" proto {self.ip_protocol}" if self.ip_protocol else ""
        if (self.start_port, self.end_port) == (0, 65535):
            ports = ""
        elif self.start_port == self.end_port:
            ports = f" port {self.start_port}"
        else:
            ports = f" ports {self.start_port}-{self.end_port}"
        return f"{addresses}{proto}{ports}"


@dataclass(frozen=True, slots=True)
class TsPayload:
    """A list of traffic selectors; TsiPayload and TsrPayload only differ in payload type."""

    payload_type: ClassVar[PayloadType]

    selectors: tuple[TrafficSelector, ...]

    def encode_body(self) -> bytes:
        count = len(self.selectors)
        if not 0 < count < 256:
            raise LocalProtocolError(f"a TS payload carries 1..255 selectors, not {count}")
        return bytes((count, 0, 0, 0)) + b"".join(ts.encode() for ts in self.selectors)

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        end = len(body)
        if end < 4:
            raise MalformedMessage(f"TS payload body of {end} bytes, need at least 4")
        count = body[0]
        if not count:
            raise MalformedMessage("TS payload without traffic selectors")
        selectors = []
        offset = 4
        unpack = _SELECTOR.unpack_from
        for index in range(count):
            if end - offset < 8:
                raise MalformedMessage(f"TS payload announces {count} selectors but has {index}")
            ts_type, protocol, length, start_port, end_port = unpack(body, offset)
            layout = _LAYOUT.get(ts_type)
            if layout is None:
                raise MalformedMessage(f"unknown traffic selector type {ts_type}")
            expected, size, address_class = layout
            if length != expected:
                raise MalformedMessage(f"traffic selector of type {ts_type} with length {length}")
            if length > end - offset:
                raise MalformedMessage(f"traffic selector length {length} exceeds the payload")
            start = offset + 8
            selectors.append(
                TrafficSelector(
                    _TS_TYPES[ts_type],
                    protocol,
                    start_port,
                    end_port,
                    address_class(body[start : start + size]),
                    address_class(body[start + size : start + 2 * size]),
                )
            )
            offset += length
        if offset != end:
            raise MalformedMessage(f"{end - offset} bytes after the last traffic selector")
        return cls(tuple(selectors))


@dataclass(frozen=True, slots=True)
class TsiPayload(TsPayload):
    payload_type: ClassVar[PayloadType] = PayloadType.TSi


@dataclass(frozen=True, slots=True)
class TsrPayload(TsPayload):
    payload_type: ClassVar[PayloadType] = PayloadType.TSr
