"""Security Association payload: proposals of transforms (RFC 7296 section 3.3)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import ATTRIBUTE_KEY_LENGTH, PayloadType, ProtocolId, TransformType
from engine.ike.errors import LocalProtocolError, MalformedMessage

# last substructure, reserved, length, number, protocol id, spi size, number of transforms
_PROPOSAL = struct.Struct("!BBHBBBB")
# last substructure, reserved, length, transform type, reserved, transform id
_TRANSFORM = struct.Struct("!BBHBBH")
# the same followed by the key length attribute in TV format
_TRANSFORM_KEY = struct.Struct("!BBHBBHHH")
_ATTRIBUTE = struct.Struct("!HH")

_MORE_PROPOSALS = 2
_MORE_TRANSFORMS = 3
_AF_TV = 0x8000
_KEY_LENGTH_TV = _AF_TV | ATTRIBUTE_KEY_LENGTH

_PROTOCOLS = {p.value: p for p in ProtocolId}
_TRANSFORM_TYPES = {t.value: t for t in TransformType}
# RFC 7296 3.3.1: SPI size is 0 (initial IKE SA) or 8 for IKE, 4 for AH and ESP
_SPI_SIZES = {ProtocolId.IKE: (0, 8), ProtocolId.AH: (4,), ProtocolId.ESP: (4,)}


@dataclass(frozen=True, slots=True)
class Transform:
    """One algorithm choice; `key_length` is the key length attribute in bits, if any."""

    transform_type: TransformType | int
    transform_id: int
    key_length: int | None = None

    def encode(self, last: bool) -> bytes:
        more = 0 if last else _MORE_TRANSFORMS
        if self.key_length is None:
            return _TRANSFORM.pack(more, 0, 8, self.transform_type, 0, self.transform_id)
        return _TRANSFORM_KEY.pack(
            more, 0, 12, self.transform_type, 0, self.transform_id, _KEY_LENGTH_TV, self.key_length
        )


@dataclass(frozen=True, slots=True)
class Proposal:
    """A set of transforms for one protocol; `spi` is empty for an initial IKE SA."""

    number: int
    protocol: ProtocolId | int
    spi: bytes
    transforms: tuple[Transform, ...]

    def encode(self, last: bool) -> bytes:
        count = len(self.transforms)
        parts = [t.encode(i == count - 1) for i, t in enumerate(self.transforms)]
        transforms = b"".join(parts)
        spi = self.spi
        header = _PROPOSAL.pack(
            0 if last else _MORE_PROPOSALS,
            0,
            8 + len(spi) + len(transforms),
            self.number,
            self.protocol,
            len(spi),
            count,
        )
        return header + spi + transforms

    def transforms_of(self, transform_type: TransformType) -> tuple[Transform, ...]:
        """The transforms of one type, in the peer's order of preference."""
        return tuple(t for t in self.transforms if t.transform_type == transform_type)


def _decode_key_length(body: bytes, offset: int, end: int) -> int | None:
    """Walk the attributes of one transform, keeping the key length and skipping others."""
    key_length = None
    unpack = _ATTRIBUTE.unpack_from
    while offset < end:
        if end - offset < 4:
            raise MalformedMessage("truncated transform attribute")
        attr_type, value = unpack(body, offset)
        offset += 4
        if attr_type & _AF_TV:
            if attr_type == _KEY_LENGTH_TV:
                if key_length is not None:
                    raise MalformedMessage("duplicate key length attribute")
                key_length = value
        else:
            if attr_type == ATTRIBUTE_KEY_LENGTH:
                raise MalformedMessage("key length attribute in TLV format")
            if value > end - offset:
                raise MalformedMessage(f"transform attribute length {value} exceeds the transform")
            offset += value
    return key_length


def _decode_transforms(body: bytes, offset: int, end: int, count: int) -> tuple[Transform, ...]:
    transforms = []
    unpack = _TRANSFORM.unpack_from
    for index in range(count):
        if end - offset < 8:
            raise MalformedMessage(f"proposal announces {count} transforms but has {index}")
        more, _, length, ttype, _, tid = unpack(body, offset)
        expected = 0 if index == count - 1 else _MORE_TRANSFORMS
        if more != expected:
            raise MalformedMessage(
                f"transform {index + 1}/{count}: last-substructure {more}, expected {expected}"
            )
        if length < 8 or length > end - offset:
            raise MalformedMessage(f"transform length {length} does not fit its proposal")
        key_length = _decode_key_length(body, offset + 8, offset + length) if length > 8 else None
        transforms.append(Transform(_TRANSFORM_TYPES.get(ttype, ttype), tid, key_length))
        offset += length
    if offset != end:
        raise MalformedMessage(f"{end - offset} bytes after the transforms of a proposal")
    return tuple(transforms)


@dataclass(frozen=True, slots=True)
class SaPayload:
    """The ordered list of proposals offered (request) or the one chosen (response)."""

    payload_type: ClassVar[PayloadType] = PayloadType.SA

    proposals: tuple[Proposal, ...]

    def encode_body(self) -> bytes:
        count = len(self.proposals)
        if not count:
            raise LocalProtocolError("an SA payload needs at least one proposal")
        return b"".join(p.encode(i == count - 1) for i, p in enumerate(self.proposals))

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        end = len(body)
        if not end:
            raise MalformedMessage("SA payload without proposals")
        proposals = []
        offset = 0
        unpack = _PROPOSAL.unpack_from
        while True:
            if end - offset < 8:
                raise MalformedMessage("truncated proposal header")
            more, _, length, number, protocol, spi_size, count = unpack(body, offset)
            if more != 0 and more != _MORE_PROPOSALS:
                raise MalformedMessage(f"proposal last-substructure value {more}")
            if length < 8 + spi_size or length > end - offset:
                raise MalformedMessage(f"proposal length {length} does not fit the SA payload")
            if number == 0:
                raise MalformedMessage("proposal number 0")
            if proposals and number != proposals[-1].number + 1:
                raise MalformedMessage(
                    f"proposal number {number} follows {proposals[-1].number}, not +1"
                )
            proto = _PROTOCOLS.get(protocol, protocol)
            if proto == ProtocolId.NONE:
                raise MalformedMessage("proposal with protocol id 0")
            sizes = _SPI_SIZES.get(proto)
            if sizes is not None and spi_size not in sizes:
                raise MalformedMessage(f"SPI size {spi_size} for protocol {proto.name}")
            spi_end = offset + 8 + spi_size
            transforms = _decode_transforms(body, spi_end, offset + length, count)
            proposals.append(Proposal(number, proto, body[offset + 8 : spi_end], transforms))
            offset += length
            if not more:
                break
            if offset >= end:
                raise MalformedMessage("a proposal announces more proposals but the SA ends")
        if offset != end:
            raise MalformedMessage(f"{end - offset} bytes after the last proposal")
        if len(proposals) > 1 and proposals[0].number != 1:
            raise MalformedMessage(f"first of several proposals is number {proposals[0].number}")
        return cls(tuple(proposals))
