"""ISAKMP data attributes (RFC 2408 section 3.3): the TV/TLV pairs of SA transforms and
of the mode-config ATTR payload, which share the encoding."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from engine.ikev1.errors import MalformedMessage

AF_TV = 0x8000


@dataclass(frozen=True, slots=True)
class DataAttribute:
    kind: int
    #: the value: an int for a basic (TV) attribute, bytes for a variable (TLV) one
    value: int | bytes

    @property
    def number(self) -> int:
        """The value as an unsigned integer, whichever form it took (life durations may
        come either way, RFC 2409 appendix A)."""
        if isinstance(self.value, int):
            return self.value
        return int.from_bytes(self.value, "big")

    def encode(self) -> bytes:
        if isinstance(self.value, int):
            if self.value < 0x10000:
                return struct.pack("!HH", AF_TV | self.kind, self.value)
            data = self.value.to_bytes((self.value.bit_length() + 7) // 8, "big")
        else:
            data = self.value
        return struct.pack("!HH", self.kind, len(data)) + data


def basic(kind: int, value: int) -> DataAttribute:
    return DataAttribute(kind, value)


def encode_attributes(attributes: list[DataAttribute] | tuple[DataAttribute, ...]) -> bytes:
    return b"".join(a.encode() for a in attributes)


def decode_attributes(data: bytes) -> list[DataAttribute]:
    out: list[DataAttribute] = []
    offset = 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise MalformedMessage("truncated data attribute")
        head, length_or_value = struct.unpack_from("!HH", data, offset)
        offset += 4
        if head & AF_TV:
            out.append(DataAttribute(head & 0x7FFF, length_or_value))
            continue
        if offset + length_or_value > len(data):
            raise MalformedMessage("data attribute longer than its payload")
        out.append(DataAttribute(head, bytes(data[offset : offset + length_or_value])))
        offset += length_or_value
    return out
