"""Delete payload (RFC 7296 section 3.11)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import PayloadType, ProtocolId
from engine.ike.errors import LocalProtocolError, MalformedMessage

# protocol id, spi size, number of spis
_DELETE = struct.Struct("!BBH")

_PROTOCOLS = {p.value: p for p in ProtocolId}
_SPI_SIZES = {ProtocolId.IKE: 0, ProtocolId.AH: 4, ProtocolId.ESP: 4}


@dataclass(frozen=True, slots=True)
class DeletePayload:
    """Deletes the IKE SA carrying it (protocol IKE, no SPIs) or the listed Child SAs."""

    payload_type: ClassVar[PayloadType] = PayloadType.DELETE

    protocol: ProtocolId | int
    spis: tuple[bytes, ...] = ()

    def encode_body(self) -> bytes:
        size = _SPI_SIZES.get(self.protocol)
        if size is None:
            size = len(self.spis[0]) if self.spis else 0
        if any(len(spi) != size for spi in self.spis):
            raise LocalProtocolError(
                f"delete of protocol {self.protocol}: SPIs must be {size} bytes"
            )
        return _DELETE.pack(self.protocol, size, len(self.spis)) + b"".join(self.spis)

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        if len(body) < 4:
            raise MalformedMessage(f"delete payload body of {len(body)} bytes, need at least 4")
        protocol, spi_size, count = _DELETE.unpack_from(body)
        proto = _PROTOCOLS.get(protocol, protocol)
        if proto == ProtocolId.NONE:
            raise MalformedMessage("delete payload with protocol id 0")
        expected = _SPI_SIZES.get(proto)
        if expected is not None and spi_size != expected:
            raise MalformedMessage(f"delete of {proto.name} with SPI size {spi_size}")
        if proto == ProtocolId.IKE and count:
            raise MalformedMessage("delete of the IKE SA must not list SPIs")
        if spi_size * count != len(body) - 4:
            raise MalformedMessage(
                f"delete payload announces {count} SPIs of {spi_size} bytes "
                f"but carries {len(body) - 4} bytes"
            )
        if not spi_size and count:
            raise MalformedMessage("delete payload lists SPIs of size 0")
        spis = tuple(body[i : i + spi_size] for i in range(4, len(body), spi_size)) if count else ()
        return cls(proto, spis)
