"""IKE message framing: header, payload chain, SK payload plumbing, and fuzzing."""

from __future__ import annotations

import contextlib
import hashlib
import struct
from ipaddress import IPv4Network, IPv6Network

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.crypto.algorithms import DhId, EncrId, IntegId, PrfId
from engine.ike.constants import (
    AuthMethod,
    ExchangeType,
    HeaderFlag,
    NotifyType,
    PayloadType,
    ProtocolId,
    TransformType,
)
from engine.ike.errors import (
    IntegrityError,
    InvalidMajorVersion,
    LocalProtocolError,
    MalformedMessage,
    RemoteProtocolError,
    UnsupportedCriticalPayload,
)
from engine.ike.message import (
    IkeMessage,
    decode_header,
    decode_message,
    encode_message,
    encode_plain_response_notify,
)
from engine.ike.payloads import (
    AuthPayload,
    ConfigPayload,
    DeletePayload,
    IdiPayload,
    IdPayload,
    IdrPayload,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsiPayload,
    TsPayload,
    TsrPayload,
    UnknownPayload,
    VendorIdPayload,
)

SPI_I = bytes.fromhex("0102030405060708")
SPI_R = bytes.fromhex("a1a2a3a4a5a6a7a8")

# An IKE_SA_INIT request written field by field from RFC 7296 section 3 (not by the encoder).
CAPTURED_SA_INIT = bytes.fromhex(
    # IKE header: SPIi, SPIr = 0, next = SA(33), version 2.0, IKE_SA_INIT(34), flags I,
    # message id 0, length 240
    "0102030405060708"
    "0000000000000000"
    "21"
    "20"
    "22"
    "08"
    "00000000"
    "000000f0"
    # SA: next KE(34), length 48
    "22000030"
    # proposal: last, length 44, #1, IKE, SPI size 0, 4 transforms
    "0000002c"
    "01010004"
    # ENCR AES-CBC (12) with key length attribute 128 (TV 0x800e)
    "0300000c"
    "0100000c"
    "800e0080"
    # INTEG HMAC-SHA2-256-128 (12)
    "03000008"
    "0300000c"
    # PRF HMAC-SHA2-256 (5)
    "03000008"
    "02000005"
    # DH ECP-256 (19), last transform
    "00000008"
    "04000013"
    # KE: next Nonce(40), length 72, group 19, reserved, 64 bytes of public value
    "28000048"
    "00130000"
    + "11" * 64
    +
    # Nonce: next Notify(41), length 36, 32 bytes
    "29000024"
    + "22" * 32
    +
    # Notify NAT_DETECTION_SOURCE_IP (16388): next Notify, length 28, proto 0, SPI size 0
    "2900001c"
    "00004004" + "33" * 20 +
    # Notify NAT_DETECTION_DESTINATION_IP (16389): last payload
    "0000001c"
    "00004005" + "44" * 20
)


def test_decode_captured_sa_init() -> None:
    assert len(CAPTURED_SA_INIT) == 240
    msg = decode_message(CAPTURED_SA_INIT)
    assert msg.spi_i == SPI_I
    assert msg.spi_r == bytes(8)
    assert msg.exchange is ExchangeType.IKE_SA_INIT
    assert msg.message_id == 0
    assert msg.is_initiator and not msg.is_response and not msg.encrypted
    assert [type(p) for p in msg.payloads] == [
        SaPayload,
        KePayload,
        NoncePayload,
        NotifyPayload,
        NotifyPayload,
    ]
    sa = msg.get(SaPayload)
    assert sa is not None
    (proposal,) = sa.proposals
    assert (proposal.number, proposal.protocol, proposal.spi) == (1, ProtocolId.IKE, b"")
    assert proposal.transforms == (
        Transform(TransformType.ENCR, EncrId.AES_CBC, 128),
        Transform(TransformType.INTEG, IntegId.HMAC_SHA2_256_128),
        Transform(TransformType.PRF, PrfId.HMAC_SHA2_256),
        Transform(TransformType.DH, DhId.ECP_256),
    )
    assert msg.get(KePayload) == KePayload(19, b"\x11" * 64)
    assert msg.get(NoncePayload) == NoncePayload(b"\x22" * 32)
    src = msg.get_notify(NotifyType.NAT_DETECTION_SOURCE_IP)
    dst = msg.get_notify(NotifyType.NAT_DETECTION_DESTINATION_IP)
    assert src is not None and src.data == b"\x33" * 20
    assert dst is not None and dst.data == b"\x44" * 20
    assert msg.error_notify() is None
    # and the encoder reproduces the capture byte for byte
    assert encode_message(msg) == CAPTURED_SA_INIT


def test_decode_header() -> None:
    header = decode_header(CAPTURED_SA_INIT)
    assert header.next_payload == PayloadType.SA
    assert header.exchange == ExchangeType.IKE_SA_INIT
    assert header.flags == HeaderFlag.INITIATOR
    assert header.is_initiator and not header.is_response
    assert header.length == 240


def with_header_byte(data: bytes, index: int, value: int) -> bytes:
    return data[:index] + bytes([value]) + data[index + 1 :]


def test_minor_version_and_reserved_flag_bits_are_ignored() -> None:
    data = with_header_byte(CAPTURED_SA_INIT, 17, 0x2F)
    data = with_header_byte(data, 19, 0x08 | 0x01 | 0x02 | 0x04 | 0x40 | 0x80)
    header = decode_header(data)
    assert header.flags == HeaderFlag.INITIATOR
    assert decode_message(data).payloads == decode_message(CAPTURED_SA_INIT).payloads


@pytest.mark.parametrize("version", [0x10, 0x30, 0x00, 0xF0])
def test_bad_major_version(version: int) -> None:
    with pytest.raises(InvalidMajorVersion) as info:
        decode_message(with_header_byte(CAPTURED_SA_INIT, 17, version))
    assert info.value.notify == NotifyType.INVALID_MAJOR_VERSION


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "shorter than the IKE header"),
        (CAPTURED_SA_INIT[:27], "shorter than the IKE header"),
        (CAPTURED_SA_INIT[:-1], "header length 240 but the message has 239"),
        (CAPTURED_SA_INIT + b"\x00", "header length 240 but the message has 241"),
    ],
)
def test_header_length_mismatch(data: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        decode_message(data)


def header(next_payload: int, body: bytes, flags: int = 0x08, exchange: int = 37) -> bytes:
    """An IKE header (built by hand) followed by `body`."""
    return (
        SPI_I
        + SPI_R
        + struct.pack("!BBBBII", next_payload, 0x20, exchange, flags, 7, 28 + len(body))
        + body
    )


def gen(next_payload: int, body: bytes, critical: bool = False, length: int | None = None) -> bytes:
    """A payload with a hand-built generic header."""
    return (
        struct.pack(
            "!BBH",
            next_payload,
            0x80 if critical else 0,
            4 + len(body) if length is None else length,
        )
        + body
    )


VID = b"vendor"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (header(43, b"\x00\x00\x00"), "truncated generic payload header"),
        (header(43, gen(0, VID, length=3)), "length 3 is below 4"),
        (header(43, gen(0, VID, length=11)), "runs 1 bytes past the end"),
        (header(43, gen(0, VID, length=9)), "1 bytes of trailing data"),
        (header(43, gen(43, VID)), "truncated generic payload header"),
        (header(0, VID), "6 bytes of trailing data"),
        (header(43, gen(40, VID) + gen(0, b"short")), "nonce of 5 bytes"),
        (header(46, gen(43, b"x" * 20) + gen(0, VID)), "payload is not the last payload"),
        (header(53, gen(43, b"x" * 20)), "fragmentation not supported"),
        (header(53, gen(43, b"x" * 20) + gen(0, VID)), "fragmentation not supported"),
        (header(46, gen(43, b"x" * 20)), "encrypted payload but no keys"),
    ],
)
def test_malformed_chains(data: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        decode_message(data)


def test_unknown_payloads_in_chain() -> None:
    kept = decode_message(header(200, gen(43, b"\x99\x98", critical=False) + gen(0, VID)))
    assert kept.payloads == [UnknownPayload(200, False, b"\x99\x98"), VendorIdPayload(VID)]
    assert kept.unknown_payloads() == [UnknownPayload(200, False, b"\x99\x98")]
    with pytest.raises(UnsupportedCriticalPayload) as info:
        decode_message(header(43, gen(200, VID) + gen(0, b"\x99", critical=True)))
    assert info.value.payload_type == 200
    assert info.value.notify_data == b"\xc8"
    assert info.value.notify == NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD


def test_critical_bit_ignored_for_rfc_payloads() -> None:
    msg = decode_message(header(43, gen(0, VID, critical=True)))
    assert msg.payloads == [VendorIdPayload(VID)]


def test_unknown_payload_round_trips_with_critical_bit() -> None:
    msg = IkeMessage(SPI_I, SPI_R, 37, 1, False, True, [UnknownPayload(201, False, b"x")])
    assert decode_message(encode_message(msg)) == msg
    crit = IkeMessage(SPI_I, SPI_R, 37, 1, False, True, [UnknownPayload(201, True, b"x")])
    with pytest.raises(UnsupportedCriticalPayload):
        decode_message(encode_message(crit))


class FakeProtection:
    """XOR "cipher" with a 4-byte truncated SHA-256 ICV over associated || iv || ct."""

    iv_size = 4
    icv_size = 4

    def __init__(self, key: int = 0x5A) -> None:
        self.key = key
        self.sealed_with: list[bytes] = []
        self.opened_with: list[bytes] = []

    def sealed_length(self, plaintext_len: int) -> int:
        return self.iv_size + plaintext_len + self.icv_size

    def _icv(self, associated: bytes, iv_ct: bytes) -> bytes:
        return hashlib.sha256(associated + iv_ct).digest()[: self.icv_size]

    def seal(self, associated: bytes, plaintext: bytes, iv: bytes) -> bytes:
        assert len(iv) == self.iv_size
        self.sealed_with.append(associated)
        iv_ct = iv + bytes(b ^ self.key for b in plaintext)
        return iv_ct + self._icv(associated, iv_ct)

    def open(self, associated: bytes, body: bytes) -> bytes:
        self.opened_with.append(associated)
        if len(body) < self.iv_size + self.icv_size:
            raise IntegrityError("SK body too short")
        iv_ct, icv = body[: -self.icv_size], body[-self.icv_size :]
        if self._icv(associated, iv_ct) != icv:
            raise IntegrityError("ICV mismatch")
        return bytes(b ^ self.key for b in iv_ct[self.iv_size :])


class IdentityProtection:
    """No crypto at all, so fuzzed bytes reach the inner chain decoder."""

    iv_size = 0

    def sealed_length(self, plaintext_len: int) -> int:
        return plaintext_len + 1

    def seal(self, associated: bytes, plaintext: bytes, iv: bytes) -> bytes:
        return plaintext + b"\x00"

    def open(self, associated: bytes, body: bytes) -> bytes:
        return body[:-1]


AUTH_PAYLOADS: list[Payload] = [
    IdiPayload.from_fqdn("client.example.com"),
    IdrPayload.from_address("192.0.2.1"),
    AuthPayload(AuthMethod.SHARED_KEY_MIC, b"\xaa" * 32),
    ConfigPayload(1, ((1, b""), (3, b""))),
    SaPayload(
        (
            Proposal(
                1,
                ProtocolId.ESP,
                b"\xc1\xc2\xc3\xc4",
                (Transform(TransformType.ENCR, EncrId.AES_GCM_16, 256), Transform(5, 0)),
            ),
        )
    ),
    TsiPayload((TrafficSelector.from_network(IPv4Network("10.0.0.0/8")),)),
    TsrPayload((TrafficSelector.from_network(IPv6Network("2001:db8::/32"), 6, (22, 22)),)),
    NotifyPayload(NotifyType.INITIAL_CONTACT),
]


def test_encrypted_round_trip_and_associated_data() -> None:
    msg = IkeMessage(
        SPI_I, SPI_R, ExchangeType.IKE_AUTH, 1, False, True, list(AUTH_PAYLOADS), encrypted=True
    )
    protection = FakeProtection()
    data = encode_message(msg, protection, iv=b"\x01\x02\x03\x04")
    # header says SK and the whole length; the SK header names the first inner payload
    hdr = decode_header(data)
    assert hdr.next_payload == PayloadType.SK
    assert hdr.length == len(data)
    assert data[28] == PayloadType.IDi
    sk_length = struct.unpack_from("!H", data, 30)[0]
    assert 28 + sk_length == len(data)
    assert data[32:36] == b"\x01\x02\x03\x04"
    (associated,) = protection.sealed_with
    assert associated == data[:32]

    decoded = decode_message(data, protection)
    assert protection.opened_with == protection.sealed_with
    assert decoded == msg
    assert decoded.encrypted


def test_empty_encrypted_informational() -> None:
    """A liveness check: an SK payload with an empty inner chain (next payload 0)."""
    msg = IkeMessage(SPI_I, SPI_R, ExchangeType.INFORMATIONAL, 9, True, False, [], encrypted=True)
    protection = FakeProtection()
    data = encode_message(msg, protection, iv=bytes(4))
    assert len(data) == 28 + 4 + 8
    assert data[28] == 0
    assert decode_message(data, protection) == msg


def test_tampered_encrypted_message_fails_integrity() -> None:
    msg = IkeMessage(SPI_I, SPI_R, 37, 2, False, True, [DeletePayload(ProtocolId.IKE)], True)
    protection = FakeProtection()
    data = encode_message(msg, protection, iv=bytes(4))
    for index in (19, 28, 35, len(data) - 1):  # header flags, SK next payload, ciphertext, ICV
        tampered = with_header_byte(data, index, data[index] ^ 0x01)
        with pytest.raises(IntegrityError):
            decode_message(tampered, protection)


def test_inner_chain_errors() -> None:
    identity = IdentityProtection()
    # plaintext inner chain: a nonce that is too short, then padding removed by open()
    inner = gen(0, b"short")
    data = header(46, gen(40, inner + b"\x00"))
    with pytest.raises(MalformedMessage, match="nonce of 5 bytes"):
        decode_message(data, identity)
    nested = header(46, gen(46, gen(43, VID) + b"\x00"))
    with pytest.raises(MalformedMessage, match="SK payload"):
        decode_message(nested, identity)
    trailing = header(46, gen(43, gen(0, VID) + b"xx" + b"\x00"))
    with pytest.raises(MalformedMessage, match="2 bytes of trailing data"):
        decode_message(trailing, identity)
    in_front = header(43, gen(46, VID) + gen(43, gen(0, VID) + b"\x00"))
    with pytest.raises(MalformedMessage, match="in front of the SK payload"):
        decode_message(in_front, identity)
    with pytest.raises(IntegrityError):
        decode_message(header(46, gen(0, b"")), identity)


def test_encode_errors() -> None:
    msg = IkeMessage(SPI_I, SPI_R, 37, 1, False, True, [], encrypted=True)
    with pytest.raises(LocalProtocolError, match="no SK protection"):
        encode_message(msg)
    with pytest.raises(LocalProtocolError, match="SPIs must be 8 bytes"):
        encode_message(IkeMessage(b"short", SPI_R, 37, 1, False, True))
    with pytest.raises(LocalProtocolError):
        encode_message(IkeMessage(SPI_I, SPI_R, 37, 2**32, False, True))
    with pytest.raises(LocalProtocolError):
        encode_message(
            IkeMessage(SPI_I, SPI_R, 37, 1, False, True, [VendorIdPayload(bytes(70000))])
        )


def test_plain_response_notify() -> None:
    request = decode_header(CAPTURED_SA_INIT)
    data = encode_plain_response_notify(request, NotifyType.INVALID_KE_PAYLOAD, b"\x00\x13")
    assert data == bytes.fromhex(
        "010203040506070800000000000000002920222000000000000000260000000a000000110013"
    )
    msg = decode_message(data)
    assert msg.is_response and not msg.is_initiator
    assert msg.message_id == 0
    assert msg.error_notify() == NotifyPayload(NotifyType.INVALID_KE_PAYLOAD, b"\x00\x13")
    cookie = decode_message(encode_plain_response_notify(request, NotifyType.COOKIE, b"c" * 16))
    assert cookie.error_notify() is None
    assert cookie.get_notify(NotifyType.COOKIE) == NotifyPayload(NotifyType.COOKIE, b"c" * 16)


def test_message_helpers() -> None:
    msg = IkeMessage(
        SPI_I,
        SPI_R,
        ExchangeType.IKE_AUTH,
        1,
        True,
        False,
        [
            NotifyPayload(NotifyType.INITIAL_CONTACT),
            IdrPayload.from_fqdn("gw"),
            NotifyPayload(NotifyType.AUTHENTICATION_FAILED),
            NotifyPayload(NotifyType.TS_UNACCEPTABLE),
            TsiPayload((TrafficSelector.from_network(IPv4Network("10.0.0.0/8")),)),
        ],
    )
    assert msg.get(IdrPayload) == IdrPayload.from_fqdn("gw")
    assert msg.get(IdPayload) == IdrPayload.from_fqdn("gw")
    assert msg.get(IdiPayload) is None
    assert msg.get(TsPayload) is msg.payloads[4]
    assert len(msg.get_all(NotifyPayload)) == 3
    assert [n.notify_type for n in msg.notifies()] == [16384, 24, 38]
    assert msg.get_notify(NotifyType.TS_UNACCEPTABLE) is msg.payloads[3]
    assert msg.get_notify(NotifyType.COOKIE) is None
    assert msg.error_notify() is msg.payloads[2]


# ---------------------------------------------------------------- property tests

FUZZ = settings(
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

SAMPLE_PAYLOADS: list[Payload] = [
    *AUTH_PAYLOADS,
    *decode_message(CAPTURED_SA_INIT).payloads,
    NoncePayload(b"n" * 16),
    NotifyPayload(NotifyType.REKEY_SA, b"", ProtocolId.ESP, b"\x01\x02\x03\x04"),
    DeletePayload(ProtocolId.ESP, (b"\x01\x02\x03\x04", b"\x05\x06\x07\x08")),
    UnknownPayload(222, False, b"?"),
    VendorIdPayload(b""),
]

messages = st.builds(
    IkeMessage,
    st.binary(min_size=8, max_size=8),
    st.binary(min_size=8, max_size=8),
    st.sampled_from(list(ExchangeType)) | st.integers(0, 255),
    st.integers(0, 2**32 - 1),
    st.booleans(),
    st.booleans(),
    st.lists(st.sampled_from(SAMPLE_PAYLOADS), max_size=8),
    st.booleans(),
)


def must_be_remote_error(data: bytes, protection: object | None = None) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode_message(data, protection)  # type: ignore[arg-type]


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    must_be_remote_error(data)
    # the same bytes behind a valid header, so they reach the chain walk
    if data:
        must_be_remote_error(header(data[0], data[1:]), IdentityProtection())


PAYLOAD_TYPES = st.sampled_from([0, *range(33, 49), 53, 99, 200])


@st.composite
def raw_chains(draw: st.DrawFn) -> bytes:
    """Well-formed generic headers around random bodies, so the body decoders get fuzzed."""
    items = draw(
        st.lists(st.tuples(PAYLOAD_TYPES, st.booleans(), st.binary(max_size=60)), max_size=5)
    )
    first = items[0][0] if items else 0
    parts = []
    for index, (_, critical, body) in enumerate(items):
        nxt = items[index + 1][0] if index + 1 < len(items) else draw(PAYLOAD_TYPES)
        parts.append(gen(nxt, body, critical))
    return header(first, b"".join(parts))


@FUZZ
@given(raw_chains())
def test_fuzz_raw_chains(data: bytes) -> None:
    must_be_remote_error(data, IdentityProtection())
    must_be_remote_error(data, FakeProtection())


@st.composite
def mutated_messages(draw: st.DrawFn) -> tuple[bytes, bool]:
    msg = draw(messages)
    data = bytearray(encode_message(msg, IdentityProtection()))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "set", "truncate", "extend", "delete"]))
        # mostly behind the header, where the payload decoders are
        low = 0 if len(data) <= 28 or not draw(st.integers(0, 9)) else 28
        i = draw(st.integers(low, max(len(data) - 1, low)))
        if action == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif action == "set" and data:
            data[i] = draw(st.sampled_from([0, 1, 3, 4, 8, 0x20, 33, 46, 0x7F, 0x80, 0xFF]))
        elif action == "truncate":
            del data[i:]
        elif action == "delete":
            del data[i : i + draw(st.integers(1, 8))]
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
    fix_length = draw(st.integers(0, 4)) > 0
    if fix_length and len(data) >= 28:  # so the mutation reaches the payloads
        struct.pack_into("!I", data, 24, len(data))
    return bytes(data), fix_length


@FUZZ
@given(mutated_messages())
def test_fuzz_mutated_messages(case: tuple[bytes, bool]) -> None:
    data, _ = case
    must_be_remote_error(data, IdentityProtection())
    must_be_remote_error(data)


@settings(max_examples=300, deadline=None, database=None)
@given(messages)
def test_message_round_trip(msg: IkeMessage) -> None:
    protection = FakeProtection()
    data = encode_message(msg, protection, iv=b"abcd")
    assert decode_message(data, protection) == msg
    assert protection.opened_with == protection.sealed_with
