"""The ID payload (RFC 2407 section 4.6.2): phase 1 identities and quick mode's
client identities (the IKEv1 traffic selectors)."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from engine.ikev1.constants import IdType, PayloadType
from engine.ikev1.errors import MalformedMessage

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class IdPayload:
    payload_type = PayloadType.ID
    id_type: int
    data: bytes
    protocol: int = 0
    port: int = 0

    def encode(self) -> bytes:
        return struct.pack("!BBH", self.id_type, self.protocol, self.port) + self.data

    @classmethod
    def decode(cls, body: bytes) -> IdPayload:
        if len(body) < 4:
            raise MalformedMessage("ID payload too short")
        id_type, protocol, port = struct.unpack_from("!BBH", body)
        return cls(id_type, bytes(body[4:]), protocol, port)

    @property
    def identity_body(self) -> bytes:
        """What HASH_I / HASH_R cover: the ID payload without its generic header."""
        return self.encode()

    def text(self) -> str:
        """The identity as `show crypto isakmp sa detail` and sessions show it."""
        try:
            if self.id_type in (IdType.IPV4_ADDR, IdType.IPV6_ADDR):
                return str(ipaddress.ip_address(self.data))
            if self.id_type in (IdType.IPV4_ADDR_SUBNET, IdType.IPV6_ADDR_SUBNET):
                return str(self.network())
        except ValueError:
            return self.data.hex()
        return self.data.decode("utf-8", "replace")

    def network(self) -> IPNetwork:
        """The selector as a network; raises MalformedMessage for what is not one."""
        try:
            if self.id_type == IdType.IPV4_ADDR and len(self.data) == 4:
                return ipaddress.IPv4Network(self.data)
            if self.id_type == IdType.IPV6_ADDR and len(self.data) == 16:
                return ipaddress.IPv6Network(self.data)
            if self.id_type == IdType.IPV4_ADDR_SUBNET and len(self.data) == 8:
                return ipaddress.IPv4Network(
                    (self.data[:4], ipaddress.IPv4Address(self.data[4:]).exploded), strict=False
                )
            if self.id_type == IdType.IPV6_ADDR_SUBNET and len(self.data) == 32:
                mask = int.from_bytes(self.data[16:], "big")
                return ipaddress.IPv6Network((self.data[:16], bin(mask).count("1")), strict=False)
            if self.id_type == IdType.IPV4_ADDR_RANGE and len(self.data) == 8:
                first = ipaddress.IPv4Address(self.data[:4])
                last = ipaddress.IPv4Address(self.data[4:])
                nets = list(ipaddress.summarize_address_range(first, last))
                if len(nets) == 1:
                    return nets[0]
        except ValueError as err:
            raise MalformedMessage(f"ID payload is not a valid network: {err}") from None
        raise MalformedMessage(f"ID type {self.id_type} is not a usable traffic selector")


def network_id(net: IPNetwork, protocol: int = 0, port: int = 0) -> IdPayload:
    """A selector as peers expect it: a host as ID_IPV4_ADDR, a subnet as _SUBNET."""
    if net.num_addresses == 1:
        kind = IdType.IPV4_ADDR if net.version == 4 else IdType.IPV6_ADDR
        return IdPayload(kind, net.network_address.packed, protocol, port)
    kind = IdType.IPV4_ADDR_SUBNET if net.version == 4 else IdType.IPV6_ADDR_SUBNET
    return IdPayload(kind, net.network_address.packed + net.netmask.packed, protocol, port)
