"""The 4-byte generic payload header and the payload chain walk (RFC 7296 section 3.2).

Every payload starts with next-payload, critical bit, reserved and length. All code that
walks a chain goes through `walk_chain` so that the bounds checks live in one place.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from engine.ike.constants import GENERIC_PAYLOAD_HEADER_SIZE, PayloadType
from engine.ike.errors import MalformedMessage

GENERIC_HEADER = struct.Struct("!BBH")
CRITICAL_BIT = 0x80

_SK = int(PayloadType.SK)
_SKF = int(PayloadType.SKF)


class RawPayload(NamedTuple):
    """One payload located in a buffer; `body` is data[start + 4:end]."""

    payload_type: int
    critical: bool
    #: the next payload field; for SK/SKF it names the first payload *inside* it
    next_payload: int
    start: int
    end: int


def encode_generic_header(next_payload: int, length: int, critical: bool = False) -> bytes:
    """Pack a generic header; `length` includes the header itself."""
    return GENERIC_HEADER.pack(next_payload, CRITICAL_BIT if critical else 0, length)


def walk_chain(data: bytes, first_type: int, offset: int, end: int) -> Iterator[RawPayload]:
    """Yield the payloads of the chain in data[offset:end] starting with `first_type`.

    Checks that every length fits, that the chain ends exactly at `end`, and that an SK
    payload is the last one. The walk stops after SK/SKF: their next-payload field names
    the first payload of the inner chain, not a following one.
    The reserved bits next to the critical bit are ignored as RFC 7296 requires.
    """
    ptype = first_type
    unpack = GENERIC_HEADER.unpack_from
    while ptype:
        if end - offset < GENERIC_PAYLOAD_HEADER_SIZE:
            raise MalformedMessage(f"payload type {ptype}: truncated generic payload header")
        next_payload, flags, length = unpack(data, offset)
        if length < GENERIC_PAYLOAD_HEADER_SIZE:
            raise MalformedMessage(f"payload type {ptype}: length {length} is below 4")
        payload_end = offset + length
        if payload_end > end:
            raise MalformedMessage(
                f"payload type {ptype}: length {length} runs {payload_end - end} bytes past the end"
            )
        if ptype == _SK and payload_end != end:
            raise MalformedMessage("the encrypted (SK) payload is not the last payload")
        yield RawPayload(ptype, bool(flags & CRITICAL_BIT), next_payload, offset, payload_end)
        if ptype in (_SK, _SKF):
            return
        offset = payload_end
        ptype = next_payload
    if offset != end:
        raise MalformedMessage(f"{end - offset} bytes of trailing data after the last payload")
