"""EAP payload (RFC 7296 section 3.16): the EAP message is opaque to the codec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from engine.ike.constants import PayloadType


@dataclass(frozen=True, slots=True)
class EapPayload:
    payload_type: ClassVar[PayloadType] = PayloadType.EAP

    data: bytes

    def encode_body(self) -> bytes:
        return self.data

    @classmethod
    def decode_body(cls, body: bytes) -> Self:
        return cls(bytes(body))
