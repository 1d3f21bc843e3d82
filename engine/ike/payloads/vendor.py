"""Vendor ID payload (RFC 7296 section 3.12): opaque, only logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import PayloadType


@dataclass(frozen=True, slots=True)
class VendorIdPayload:
    payload_type: ClassVar[PayloadType] = PayloadType.VENDOR

    data: bytes

    def encode_body(self) -> bytes:
        return self.data

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        return cls(bytes(body))
