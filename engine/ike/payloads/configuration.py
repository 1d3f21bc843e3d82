"""Configuration payload (RFC 7296 section 3.15): mode-config for remote access clients."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import CfgType, ConfigAttribute, PayloadType
from engine.ike.errors import LocalProtocolError, MalformedMessage

# reserved bit + attribute type, length
_ATTRIBUTE = struct.Struct("!HH")
_CFG_TYPES = {t.value: t for t in CfgType}
_ATTRIBUTES = {a.value: a for a in ConfigAttribute}


@dataclass(frozen=True, slots=True)
class ConfigPayload:
    """A CP of `cfg_type` with (attribute type, value) pairs; an empty value asks for one."""

    payload_type: ClassVar[PayloadType] = PayloadType.CP

    cfg_type: CfgType | int
    attributes: tuple[tuple[int, bytes], ...] = ()

    def get_all(self, attribute: int) -> list[bytes]:
        return [value for atype, value in self.attributes if atype == attribute]

    def encode_body(self) -> bytes:
        parts = [bytes((self.cfg_type, 0, 0, 0))]
        for atype, value in self.attributes:
            if not 0 <= atype < 0x8000:
                raise LocalProtocolError(f"configuration attribute type {atype} exceeds 15 bits")
            parts.append(_ATTRIBUTE.pack(atype, len(value)))
            parts.append(value)
        return b"".join(parts)

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        end = len(body)
        if end < 4:
            raise MalformedMessage(f"CP payload body of {end} bytes, need at least 4")
        attributes = []
        offset = 4
        unpack = _ATTRIBUTE.unpack_from
        while offset < end:
            if end - offset < 4:
                raise MalformedMessage("truncated configuration attribute header")
            atype, length = unpack(body, offset)
            offset += 4
            if length > end - offset:
                raise MalformedMessage(f"configuration attribute length {length} exceeds the CP")
            atype &= 0x7FFF  # the top bit is reserved and ignored on receipt
            attributes.append((_ATTRIBUTES.get(atype, atype), body[offset : offset + length]))
            offset += length
        return cls(_CFG_TYPES.get(body[0], body[0]), tuple(attributes))
