"""A payload type this codec does not know, kept so callers can log it (RFC 7296 2.5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import PayloadType


@dataclass(frozen=True, slots=True)
class UnknownPayload:
    """Only non-critical unknown payloads get here; critical ones reject the message."""

    #: not meaningful for this class: the wire type is `raw_type`
    payload_type: ClassVar[PayloadType] = PayloadType.NONE

    raw_type: int
    critical: bool
    data: bytes

    def encode_body(self) -> bytes:
        return self.data

    @classmethod
    def decode_body(cls, body: bytes, raw_type: int = 0, critical: bool = False) -> Self:
        return cls(raw_type, critical, bytes(body))
