"""Notify payload (RFC 7296 section 3.10)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import NotifyType, PayloadType, ProtocolId, notify_name
from engine.ike.errors import MalformedMessage

# protocol id, spi size, notify message type
_NOTIFY = struct.Struct("!BBH")

_PROTOCOLS = {p.value: p for p in ProtocolId}
_NOTIFY_TYPES = {n.value: n for n in NotifyType}


@dataclass(frozen=True, slots=True)
class NotifyPayload:
    """An error or status notification; `spi` names a Child SA for the few types using it.

    Known notify types decode to `NotifyType` members, others stay plain ints.
    """

    payload_type: ClassVar[PayloadType] = PayloadType.NOTIFY

    notify_type: int
    data: bytes = b""
    protocol: ProtocolId | int = 0
    spi: bytes = b""

    @property
    def is_error(self) -> bool:
        return self.notify_type < 16384

    @property
    def name(self) -> str:
        return notify_name(self.notify_type)

    def encode_body(self) -> bytes:
        spi = self.spi
        return _NOTIFY.pack(self.protocol, len(spi), self.notify_type) + spi + self.data

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        if len(body) < 4:
            raise MalformedMessage(f"notify payload body of {len(body)} bytes, need at least 4")
        protocol, spi_size, ntype = _NOTIFY.unpack_from(body)
        if spi_size > len(body) - 4:
            raise MalformedMessage(f"notify SPI size {spi_size} exceeds the payload")
        # RFC 7296 3.10: with no SPI the protocol id "MUST be ignored on receipt"
        proto = _PROTOCOLS.get(protocol, protocol) if spi_size else ProtocolId.NONE
        spi_end = 4 + spi_size
        return cls(_NOTIFY_TYPES.get(ntype, ntype), body[spi_end:], proto, body[4:spi_end])
