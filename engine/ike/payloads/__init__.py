"""IKEv2 payloads: one module, and one encode/decode place, per payload type.

`decode_payload_body` / `encode_payload_body` dispatch on the payload type; the
generic header and the chain walk live in `generic`, the message around it in
`engine.ike.message`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from engine.ike.constants import PayloadType
from engine.ike.errors import (
    IkeError,
    LocalProtocolError,
    MalformedMessage,
    UnsupportedCriticalPayload,
)
from engine.ike.payloads.auth import AuthPayload
from engine.ike.payloads.cert import CertPayload
from engine.ike.payloads.certreq import CertReqPayload
from engine.ike.payloads.configuration import ConfigPayload
from engine.ike.payloads.delete import DeletePayload
from engine.ike.payloads.eap import EapPayload
from engine.ike.payloads.identification import IdiPayload, IdPayload, IdrPayload
from engine.ike.payloads.ke import KePayload
from engine.ike.payloads.nonce import NoncePayload
from engine.ike.payloads.notify import NotifyPayload
from engine.ike.payloads.sa import Proposal, SaPayload, Transform
from engine.ike.payloads.traffic_selector import (
    TrafficSelector,
    TsiPayload,
    TsPayload,
    TsrPayload,
)
from engine.ike.payloads.unknown import UnknownPayload
from engine.ike.payloads.vendor import VendorIdPayload

Payload = (
    SaPayload
    | KePayload
    | IdiPayload
    | IdrPayload
    | CertPayload
    | CertReqPayload
    | AuthPayload
    | NoncePayload
    | NotifyPayload
    | DeletePayload
    | VendorIdPayload
    | TsiPayload
    | TsrPayload
    | ConfigPayload
    | EapPayload
    | UnknownPayload
)

_PAYLOAD_CLASSES: tuple[type[Payload], ...] = (
    SaPayload,
    KePayload,
    IdiPayload,
    IdrPayload,
    CertPayload,
    CertReqPayload,
    AuthPayload,
    NoncePayload,
    NotifyPayload,
    DeletePayload,
    VendorIdPayload,
    TsiPayload,
    TsrPayload,
    ConfigPayload,
    EapPayload,
)

#: payload type -> decoder of the body (the bytes after the generic header)
DECODERS: dict[int, Callable[[bytes], Payload]] = {
    int(cls.payload_type): cls.decode_body for cls in _PAYLOAD_CLASSES
}

_SK = int(PayloadType.SK)
_SKF = int(PayloadType.SKF)


def payload_type_of(payload: Payload) -> int:
    """The wire payload type, which for an UnknownPayload is per instance."""
    if type(payload) is UnknownPayload:
        return payload.raw_type
    return payload.payload_type


def decode_payload_body(payload_type: int, critical: bool, body: bytes) -> Payload:
    """Decode one payload body; raises only `RemoteProtocolError` subclasses.

    The critical bit is ignored for known types (RFC 7296 2.5); an unknown payload is
    kept as UnknownPayload, or rejects the message when it is critical.
    """
    decoder = DECODERS.get(payload_type)
    if decoder is None:
        if payload_type == _SK:
            raise MalformedMessage("SK payload inside an SK payload or decoded on its own")
        if payload_type == _SKF:
            raise MalformedMessage("IKE fragmentation not supported")
        if critical:
            raise UnsupportedCriticalPayload(payload_type)
        return UnknownPayload(payload_type, False, bytes(body))
    try:
        return decoder(body)
    except IkeError:
        raise
    except (
        struct.error,
        ValueError,
        IndexError,
        TypeError,
    ) as exc:  # a missed check: still the peer's
        raise MalformedMessage(f"payload type {payload_type}: {exc}") from exc


def encode_payload_body(payload: Payload) -> bytes:
    """Encode one payload body; a value that does not fit its field is a LocalProtocolError."""
    try:
        return payload.encode_body()
    except IkeError:
        raise
    except (struct.error, ValueError, OverflowError, TypeError) as exc:
        raise LocalProtocolError(f"cannot encode {type(payload).__name__}: {exc}") from exc


__all__ = [
    "DECODERS",
    "AuthPayload",
    "CertPayload",
    "CertReqPayload",
    "ConfigPayload",
    "DeletePayload",
    "EapPayload",
    "IdPayload",
    "IdiPayload",
    "IdrPayload",
    "KePayload",
    "NoncePayload",
    "NotifyPayload",
    "Payload",
    "Proposal",
    "SaPayload",
    "TrafficSelector",
    "Transform",
    "TsPayload",
    "TsiPayload",
    "TsrPayload",
    "UnknownPayload",
    "VendorIdPayload",
    "decode_payload_body",
    "encode_payload_body",
    "payload_type_of",
]
