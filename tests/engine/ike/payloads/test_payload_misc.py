"""Round trips and length checks of the small payloads (everything but SA and TS)."""

from __future__ import annotations

import ipaddress

import pytest

from engine.crypto.algorithms import DhId
from engine.ike.constants import (
    AuthMethod,
    CfgType,
    ConfigAttribute,
    IdType,
    NotifyType,
    PayloadType,
    ProtocolId,
)
from engine.ike.errors import (
    LocalProtocolError,
    MalformedMessage,
    UnsupportedCriticalPayload,
)
from engine.ike.payloads import (
    DECODERS,
    AuthPayload,
    CertPayload,
    CertReqPayload,
    ConfigPayload,
    DeletePayload,
    EapPayload,
    IdiPayload,
    IdPayload,
    IdrPayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    UnknownPayload,
    VendorIdPayload,
    decode_payload_body,
    encode_payload_body,
    payload_type_of,
)

ROUND_TRIP: list[Payload] = [
    KePayload(DhId.CURVE25519, bytes(range(32))),
    KePayload(1234, b""),
    IdiPayload.from_address(ipaddress.IPv4Address("10.1.1.1")),
    IdrPayload.from_address("2001:db8::1"),
    IdiPayload.from_fqdn("vpn.example.com"),
    IdrPayload.from_email("user@example.com"),
    IdiPayload(IdType.DER_ASN1_DN, b"\x30\x00"),
    IdrPayload(77, b"opaque"),
    AuthPayload(AuthMethod.SHARED_KEY_MIC, b"\x01" * 32),
    AuthPayload(99, b"x"),
    NoncePayload(b"n" * 16),
    NoncePayload(b"n" * 256),
    NotifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, b"\x01" * 20),
    NotifyPayload(NotifyType.INVALID_KE_PAYLOAD, b"\x00\x13"),
    NotifyPayload(NotifyType.REKEY_SA, b"", ProtocolId.ESP, b"\xc0\x00\x00\x01"),
    NotifyPayload(40000, b"private"),
    DeletePayload(ProtocolId.IKE),
    DeletePayload(ProtocolId.ESP, (b"\x01\x02\x03\x04", b"\x05\x06\x07\x08")),
    DeletePayload(ProtocolId.AH, (b"\x01\x02\x03\x04",)),
    VendorIdPayload(b"strongSwan"),
    VendorIdPayload(b""),
    ConfigPayload(
        CfgType.CFG_REQUEST,
        ((ConfigAttribute.INTERNAL_IP4_ADDRESS, b""), (ConfigAttribute.INTERNAL_IP4_DNS, b"")),
    ),
    ConfigPayload(
        CfgType.CFG_REPLY,
        ((ConfigAttribute.INTERNAL_IP4_ADDRESS, b"\x0a\x00\x00\x02"), (300, b"?")),
    ),
    ConfigPayload(CfgType.CFG_ACK),
    CertPayload(4, b"\x30\x82"),
    CertReqPayload(4, b"\xaa" * 40),
    CertReqPayload(4, b""),
    EapPayload(b"\x01\x02\x00\x05\x01"),
]


@pytest.mark.parametrize("payload", ROUND_TRIP, ids=repr)
def test_round_trip(payload: Payload) -> None:
    body = encode_payload_body(payload)
    decoded = decode_payload_body(payload_type_of(payload), False, body)
    assert decoded == payload
    assert type(decoded) is type(payload)
    # the critical bit is ignored for the types RFC 7296 defines
    assert decode_payload_body(payload_type_of(payload), True, body) == payload


def test_every_known_type_has_a_decoder() -> None:
    defined = {int(t) for t in PayloadType} - {0, PayloadType.SK, PayloadType.SKF}
    assert set(DECODERS) == defined


def test_decoded_enums() -> None:
    n = NotifyPayload.decode_body(b"\x03\x00\x40\x04")
    assert n.notify_type is NotifyType.NAT_DETECTION_SOURCE_IP
    assert n.protocol == 0  # no SPI: the protocol id is ignored on receipt
    assert n.name == "NAT_DETECTION_SOURCE_IP"
    assert not n.is_error
    assert NotifyPayload.decode_body(b"\x00\x00\x00\x0e").is_error
    assert AuthPayload.decode_body(b"\x02\x00\x00\x00").method is AuthMethod.SHARED_KEY_MIC
    assert IdiPayload.decode_body(b"\x02\x00\x00\x00a.b").id_type is IdType.FQDN
    cp = ConfigPayload.decode_body(b"\x02\x00\x00\x00\x80\x01\x00\x04\x0a\x00\x00\x02")
    assert cp.cfg_type is CfgType.CFG_REPLY
    # the reserved top bit of the attribute type is ignored
    assert cp.get_all(ConfigAttribute.INTERNAL_IP4_ADDRESS) == [b"\x0a\x00\x00\x02"]


def test_id_body_is_what_auth_signs() -> None:
    idi = IdiPayload.from_address("10.1.1.1")
    assert idi.body == b"\x01\x00\x00\x00\x0a\x01\x01\x01"
    assert idi.encode_body() == idi.body
    assert IdiPayload.from_fqdn("a.b").body == b"\x02\x00\x00\x00a.b"


@pytest.mark.parametrize(
    ("payload", "shown"),
    [
        (IdiPayload.from_address("10.1.1.1"), "10.1.1.1"),
        (IdiPayload.from_address("2001:db8::1"), "2001:db8::1"),
        (IdiPayload.from_fqdn("vpn.example.com"), "vpn.example.com"),
        (IdrPayload.from_email("user@example.com"), "user@example.com"),
        (IdrPayload(IdType.KEY_ID, b"\x01\xab"), "01:ab"),
        (IdrPayload(IdType.FQDN, b"bad\x00name\xff"), "62:61:64:00:6e:61:6d:65:ff"),
        (IdrPayload(IdType.FQDN, b""), "(empty)"),
    ],
)
def test_id_display(payload: IdPayload, shown: str) -> None:
    assert payload.display() == shown


def test_id_parse_helpers() -> None:
    assert IdiPayload.from_address("10.1.1.1").address() == ipaddress.IPv4Address("10.1.1.1")
    assert IdiPayload.from_fqdn("a.b").address() is None
    assert IdiPayload.from_fqdn("a.b").text() == "a.b"
    assert IdiPayload.from_address("10.1.1.1").text() is None
    assert isinstance(IdrPayload.from_fqdn("x"), IdrPayload)
    assert IdiPayload.from_fqdn("x") != IdrPayload.from_fqdn("x")


@pytest.mark.parametrize(
    ("payload_type", "body", "reason"),
    [
        (PayloadType.KE, b"\x00\x13\x00", "need at least 4"),
        (PayloadType.IDi, b"\x01\x00\x00", "need at least 4"),
        (PayloadType.IDr, b"\x01\x00\x00\x00\x0a\x00\x00", "IPV4_ADDR identity of 3 bytes"),
        (PayloadType.IDr, b"\x01\x00\x00\x00\x0a\x00\x00\x00\x00", "IPV4_ADDR identity of 5"),
        (PayloadType.IDi, b"\x05\x00\x00\x00" + bytes(15), "IPV6_ADDR identity of 15"),
        (PayloadType.AUTH, b"\x02", "need at least 4"),
        (PayloadType.NONCE, b"n" * 15, "nonce of 15 bytes"),
        (PayloadType.NONCE, b"n" * 257, "nonce of 257 bytes"),
        (PayloadType.NONCE, b"", "nonce of 0 bytes"),
        (PayloadType.NOTIFY, b"\x00\x00\x40", "need at least 4"),
        (PayloadType.NOTIFY, b"\x03\x04\x40\x09\x01\x02\x03", "SPI size 4 exceeds"),
        (PayloadType.DELETE, b"\x03\x04\x00", "need at least 4"),
        (PayloadType.DELETE, b"\x03\x04\x00\x02\x01\x02\x03\x04", "announces 2 SPIs"),
        (PayloadType.DELETE, b"\x03\x04\x00\x01\x01\x02\x03\x04\x05", "announces 1 SPIs"),
        (PayloadType.DELETE, b"\x03\x08\x00\x01" + bytes(8), "ESP with SPI size 8"),
        (PayloadType.DELETE, b"\x01\x08\x00\x01" + bytes(8), "IKE with SPI size 8"),
        (PayloadType.DELETE, b"\x01\x00\x00\x01", "must not list SPIs"),
        (PayloadType.DELETE, b"\x00\x00\x00\x00", "protocol id 0"),
        (PayloadType.DELETE, b"\x09\x00\x00\x03", "SPIs of size 0"),
        (PayloadType.CP, b"\x01\x00\x00", "need at least 4"),
        (PayloadType.CP, b"\x01\x00\x00\x00\x00\x01\x00", "truncated configuration attr"),
        (PayloadType.CP, b"\x01\x00\x00\x00\x00\x01\x00\x04\x0a", "length 4 exceeds"),
        (PayloadType.CERT, b"", "without certificate encoding"),
        (PayloadType.CERTREQ, b"", "without certificate encoding"),
        (PayloadType.SK, b"\x00" * 40, "SK payload"),
        (PayloadType.SKF, b"\x00" * 40, "fragmentation not supported"),
    ],
)
def test_malformed(payload_type: int, body: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        decode_payload_body(payload_type, False, body)
    decoder = DECODERS.get(payload_type)
    if decoder is not None:  # the classmethod itself checks too, not only the dispatcher
        with pytest.raises(MalformedMessage, match=reason):
            decoder(body)


def test_unknown_payload_non_critical_is_kept() -> None:
    payload = decode_payload_body(200, False, b"whatever")
    assert payload == UnknownPayload(200, False, b"whatever")
    assert payload_type_of(payload) == 200
    assert encode_payload_body(payload) == b"whatever"


@pytest.mark.parametrize("payload_type", [0, 1, 32, 49, 52, 54, 128, 255])
def test_unknown_payload_critical_is_rejected(payload_type: int) -> None:
    with pytest.raises(UnsupportedCriticalPayload) as info:
        decode_payload_body(payload_type, True, b"\x01\x02")
    assert info.value.payload_type == payload_type
    assert info.value.notify == NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD
    assert info.value.notify_data == bytes([payload_type])


@pytest.mark.parametrize(
    "payload",
    [
        NoncePayload(b"short"),
        NoncePayload(b"x" * 257),
        KePayload(70000, b""),
        AuthPayload(256, b""),
        DeletePayload(ProtocolId.ESP, (b"123",)),
        DeletePayload(ProtocolId.IKE, (b"12345678",)),
        DeletePayload(9, (b"12", b"123")),
        ConfigPayload(CfgType.CFG_REPLY, ((0x8001, b""),)),
        NotifyPayload(NotifyType.REKEY_SA, b"", ProtocolId.ESP, b"x" * 256),
    ],
    ids=repr,
)
def test_encode_rejects_values_that_do_not_fit(payload: Payload) -> None:
    with pytest.raises(LocalProtocolError):
        encode_payload_body(payload)
