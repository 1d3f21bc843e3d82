"""The Notification and Delete payloads (RFC 2408 sections 3.14 and 3.15)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from engine.ikev1.constants import DOI_IPSEC, PayloadType
from engine.ikev1.errors import MalformedMessage


@dataclass(frozen=True, slots=True)
class NotifyPayload:
    payload_type = PayloadType.NOTIFY
    notify_type: int
    protocol: int = 1
    spi: bytes = b""
    data: bytes = b""
    doi: int = DOI_IPSEC

    def encode(self) -> bytes:
        head = struct.pack("!IBBH", self.doi, self.protocol, len(self.spi), self.notify_type)
        return head + self.spi + self.data

    @classmethod
    def decode(cls, body: bytes) -> NotifyPayload:
        if len(body) < 8:
            raise MalformedMessage("notification payload too short")
        doi, protocol, spi_size, notify_type = struct.unpack_from("!IBBH", body)
        spi = bytes(body[8 : 8 + spi_size])
        if len(spi) != spi_size:
            raise MalformedMessage("notification SPI truncated")
        return cls(notify_type, protocol, spi, bytes(body[8 + spi_size :]), doi)


@dataclass(frozen=True, slots=True)
class DeletePayload:
    payload_type = PayloadType.DELETE
    protocol: int
    spis: tuple[bytes, ...]
    doi: int = DOI_IPSEC

    def encode(self) -> bytes:
        size = len(self.spis[0]) if self.spis else 0
        return struct.pack("!IBBH", self.doi, self.protocol, size, len(self.spis)) + b"".join(
            self.spis
        )

    @classmethod
    def decode(cls, body: bytes) -> DeletePayload:
        if len(body) < 8:
            raise MalformedMessage("delete payload too short")
        doi, protocol, size, count = struct.unpack_from("!IBBH", body)
        if len(body) != 8 + size * count:
            raise MalformedMessage("delete payload length does not match its SPIs")
        spis = tuple(bytes(body[8 + i * size : 8 + (i + 1) * size]) for i in range(count))
        return cls(protocol, spis, doi)
