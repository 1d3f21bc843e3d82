"""Identification payloads IDi and IDr (RFC 7296 section 3.5)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import IdType, PayloadType
from engine.ike.errors import MalformedMessage

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ID_TYPES = {t.value: t for t in IdType}
_ADDRESS_SIZES = {IdType.IPV4_ADDR: 4, IdType.IPV6_ADDR: 16}
_TEXT_TYPES = (IdType.FQDN, IdType.RFC822_ADDR)


@dataclass(frozen=True, slots=True)
class IdPayload:
    """An identity; IdiPayload and IdrPayload only differ in their payload type."""

    payload_type: ClassVar[PayloadType]

    id_type: IdType | int
    data: bytes

    @property
    def body(self) -> bytes:
        """The encoded body (type, 3 reserved bytes, data): what RFC 7296 2.15 has AUTH sign."""
        return bytes((self.id_type, 0, 0, 0)) + self.data

    def encode_body(self) -> bytes:
        return self.body

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        if len(body) < 4:
            raise MalformedMessage(f"ID payload body of {len(body)} bytes, need at least 4")
        id_type = _ID_TYPES.get(body[0], body[0])
        data = body[4:]
        size = _ADDRESS_SIZES.get(id_type)
        if size is not None and len(data) != size:
            raise MalformedMessage(f"{id_type.name} identity of {len(data)} bytes")
        return cls(id_type, data)

    @classmethod
    def from_address(cls, address: IPAddress | str) -> Self:
        addr = ipaddress.ip_address(address)
        id_type = IdType.IPV4_ADDR if addr.version == 4 else IdType.IPV6_ADDR
        return cls(id_type, addr.packed)

    @classmethod
    def from_fqdn(cls, name: str) -> Self:
        return cls(IdType.FQDN, name.encode("ascii"))

    @classmethod
    def from_email(cls, address: str) -> Self:
        return cls(IdType.RFC822_ADDR, address.encode("ascii"))

    def address(self) -> IPAddress | None:
        """The IP address of an IPV4_ADDR/IPV6_ADDR identity, else None."""
        if self.id_type == IdType.IPV4_ADDR and len(self.data) == 4:
            return ipaddress.IPv4Address(self.data)
        if self.id_type == IdType.IPV6_ADDR and len(self.data) == 16:
            return ipaddress.IPv6Address(self.data)
        return None

    def text(self) -> str | None:
        """The name of an FQDN/RFC822 identity if it is non-empty printable ASCII, else None."""
        if self.id_type in _TEXT_TYPES and self.data.isascii():
            text = self.data.decode("ascii")
            if text and text.isprintable():
                return text
        return None

    def display(self) -> str:
        """A human string for logs and the console; never raises on peer input."""
        addr = self.address()
        if addr is not None:
            return str(addr)
        text = self.text()
        if text is not None:
            return text
        return self.data.hex(":") if self.data else "(empty)"


@dataclass(frozen=True, slots=True)
class IdiPayload(IdPayload):
    payload_type: ClassVar[PayloadType] = PayloadType.IDi


@dataclass(frozen=True, slots=True)
class IdrPayload(IdPayload):
    payload_type: ClassVar[PayloadType] = PayloadType.IDr
