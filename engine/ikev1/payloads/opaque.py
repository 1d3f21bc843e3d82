"""Payloads whose body is one opaque value: KE, NONCE, HASH, SIG, VID, NAT-D, CERT,
CERTREQ, and anything we do not know (kept to be skipped, never interpreted)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.ikev1.constants import PayloadType


@dataclass(frozen=True, slots=True)
class OpaquePayload:
    payload_type: int
    data: bytes

    def encode(self) -> bytes:
        return self.data

    def __repr__(self) -> str:
        # KE values and hashes are long and say nothing to a reader: their size will do.
        try:
            kind = PayloadType(self.payload_type).name
        except ValueError:
            kind = str(self.payload_type)
        return f"OpaquePayload({kind}, {len(self.data)} bytes)"


def ke(data: bytes) -> OpaquePayload:
    return OpaquePayload(PayloadType.KE, data)


def nonce(data: bytes) -> OpaquePayload:
    return OpaquePayload(PayloadType.NONCE, data)


def hash_payload(data: bytes) -> OpaquePayload:
    return OpaquePayload(PayloadType.HASH, data)


def vendor(data: bytes) -> OpaquePayload:
    return OpaquePayload(PayloadType.VENDOR, data)


def nat_d(data: bytes, draft: bool = False) -> OpaquePayload:
    return OpaquePayload(PayloadType.NAT_D_DRAFT if draft else PayloadType.NAT_D, data)
