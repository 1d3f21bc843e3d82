"""The SA payload with its proposals and transforms (RFC 2408 sections 3.4-3.6), for
phase 1 (protocol ISAKMP) and quick mode (protocol ESP) alike."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from engine.ikev1.constants import DOI_IPSEC, SIT_IDENTITY_ONLY, PayloadType
from engine.ikev1.errors import MalformedMessage
from engine.ikev1.payloads.attributes import DataAttribute, decode_attributes, encode_attributes


@dataclass(frozen=True, slots=True)
class Transform:
    number: int
    transform_id: int
    attributes: tuple[DataAttribute, ...] = ()

    def attribute(self, kind: int) -> DataAttribute | None:
        for attr in self.attributes:
            if attr.kind == kind:
                return attr
        return None


@dataclass(frozen=True, slots=True)
class Proposal:
    number: int
    protocol: int
    spi: bytes
    transforms: tuple[Transform, ...]


@dataclass(frozen=True, slots=True)
class SaPayload:
    payload_type = PayloadType.SA
    proposals: tuple[Proposal, ...]
    doi: int = DOI_IPSEC
    situation: int = SIT_IDENTITY_ONLY
    #: the body as received: phase 1 hashes cover the initiator's SA payload exactly
    raw: bytes = field(default=b"", compare=False, repr=False)

    def encode(self) -> bytes:
        out = [struct.pack("!II", self.doi, self.situation)]
        for index, proposal in enumerate(self.proposals):
            transforms = []
            for t_index, transform in enumerate(proposal.transforms):
                body = struct.pack("!BBH", transform.number, transform.transform_id, 0)
                body += encode_attributes(transform.attributes)
                more = PayloadType.TRANSFORM if t_index + 1 < len(proposal.transforms) else 0
                transforms.append(struct.pack("!BBH", more, 0, len(body) + 4) + body)
            body = struct.pack(
                "!BBBB",
                proposal.number,
                proposal.protocol,
                len(proposal.spi),
                len(proposal.transforms),
            )
            body += proposal.spi + b"".join(transforms)
            more = PayloadType.PROPOSAL if index + 1 < len(self.proposals) else 0
            out.append(struct.pack("!BBH", more, 0, len(body) + 4) + body)
        return b"".join(out)

    @classmethod
    def decode(cls, body: bytes) -> SaPayload:
        if len(body) < 8:
            raise MalformedMessage("SA payload too short")
        doi, situation = struct.unpack_from("!II", body)
        offset = 8
        proposals: list[Proposal] = []
        more = PayloadType.PROPOSAL if len(body) > 8 else 0
        while more:
            if more != PayloadType.PROPOSAL:
                raise MalformedMessage("SA payload holds something other than a proposal")
            chunk, more, offset = _sub_payload(body, offset)
            if len(chunk) < 4:
                raise MalformedMessage("proposal too short")
            number, protocol, spi_size, count = struct.unpack_from("!BBBB", chunk)
            spi = bytes(chunk[4 : 4 + spi_size])
            if len(spi) != spi_size:
                raise MalformedMessage("proposal SPI truncated")
            proposals.append(
                Proposal(number, protocol, spi, _transforms(chunk[4 + spi_size :], count))
            )
        return cls(tuple(proposals), doi, situation, raw=bytes(body))


def _sub_payload(data: bytes, offset: int) -> tuple[bytes, int, int]:
    if offset + 4 > len(data):
        raise MalformedMessage("truncated proposal or transform")
    more, _, length = struct.unpack_from("!BBH", data, offset)
    if length < 4 or offset + length > len(data):
        raise MalformedMessage("bad proposal or transform length")
    return data[offset + 4 : offset + length], more, offset + length


def _transforms(data: bytes, count: int) -> tuple[Transform, ...]:
    out: list[Transform] = []
    offset = 0
    more = PayloadType.TRANSFORM if count else 0
    while more:
        if more != PayloadType.TRANSFORM:
            raise MalformedMessage("proposal holds something other than a transform")
        chunk, more, offset = _sub_payload(data, offset)
        if len(chunk) < 4:
            raise MalformedMessage("transform too short")
        number, transform_id = chunk[0], chunk[1]
        out.append(Transform(number, transform_id, tuple(decode_attributes(chunk[4:]))))
    if len(out) != count:
        raise MalformedMessage(f"proposal announces {count} transforms, holds {len(out)}")
    return tuple(out)
