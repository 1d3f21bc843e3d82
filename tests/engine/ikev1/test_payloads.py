"""ISAKMP payloads: their wire form (RFC 2408 section 3), round trips, and decoders that
only ever raise `Ikev1Error` (a counted drop) for whatever bytes arrive."""

from __future__ import annotations

import contextlib
import ipaddress
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.ikev1.constants import CfgAttr, CfgType, IdType, NotifyType, PayloadType, ProtocolId
from engine.ikev1.errors import Ikev1Error, MalformedMessage
from engine.ikev1.message import Header, decode_header
from engine.ikev1.payloads import (
    AttributePayload,
    DeletePayload,
    IdPayload,
    NotifyPayload,
    OpaquePayload,
    SaPayload,
    decode_chain,
    decode_chain_with_tail,
    encode_chain,
)
from engine.ikev1.payloads.attributes import DataAttribute, decode_attributes, encode_attributes
from engine.ikev1.payloads.identification import network_id
from engine.ikev1.payloads.sa import Proposal, Transform

FUZZ = settings(
    max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

attributes = st.builds(
    DataAttribute,
    st.integers(0, 0x7FFF),
    st.integers(0, 0xFFFF) | st.binary(max_size=24),
)
transforms = st.builds(
    Transform,
    st.integers(0, 255),
    st.integers(0, 255),
    st.lists(attributes, max_size=6).map(tuple),
)
proposals = st.builds(
    Proposal,
    st.integers(0, 255),
    st.sampled_from([ProtocolId.ISAKMP, ProtocolId.ESP]),
    st.sampled_from([b"", b"\x01\x02\x03\x04"]),
    st.lists(transforms, min_size=1, max_size=4).map(tuple),
)
sa_payloads = st.builds(SaPayload, st.lists(proposals, min_size=1, max_size=3).map(tuple))
payloads = st.one_of(
    sa_payloads,
    st.builds(IdPayload, st.integers(0, 255), st.binary(max_size=32), st.integers(0, 255)),
    st.builds(NotifyPayload, st.integers(0, 0xFFFF), st.integers(0, 255), st.binary(max_size=16)),
    st.builds(
        DeletePayload,
        st.integers(0, 255),
        st.lists(st.binary(min_size=4, max_size=4), max_size=4).map(tuple),
    ),
    st.builds(
        AttributePayload,
        st.integers(1, 4),
        st.integers(0, 0xFFFF),
        st.lists(attributes, max_size=5).map(tuple),
    ),
    st.builds(OpaquePayload, st.sampled_from([4, 8, 10, 13, 20, 130, 200]), st.binary(max_size=40)),
)


# ------------------------------------------------------------------ wire form
def test_sa_payload_wire_form_of_one_phase1_transform() -> None:
    """DOI, situation, then proposal and transform sub-payloads with their generic headers
    (RFC 2408 sections 3.4-3.6); the transform's attributes in TV form."""
    sa = SaPayload(
        (
            Proposal(
                1,
                ProtocolId.ISAKMP,
                b"",
                (Transform(1, 1, (DataAttribute(1, 7), DataAttribute(14, 256))),),
            ),
        )
    )
    body = sa.encode()
    assert body[:8] == struct.pack("!II", 1, 1)
    # proposal: last (0), length 4+4+transform, number 1, protocol 1, SPI size 0, 1 transform
    transform = (
        struct.pack("!BBH", 0, 0, 16) + bytes([1, 1, 0, 0]) + bytes.fromhex("80010007800e0100")
    )
    proposal = struct.pack("!BBH", 0, 0, 8 + len(transform)) + bytes([1, 1, 0, 1]) + transform
    assert body[8:] == proposal
    assert SaPayload.decode(body) == sa


def test_long_values_travel_as_variable_attributes() -> None:
    """A basic attribute holds 16 bits; a longer life duration goes as TLV (RFC 2408 3.3)."""
    encoded = encode_attributes([DataAttribute(12, 86400), DataAttribute(12, 3600)])
    assert encoded == bytes.fromhex("000c0003015180" + "800c0e10")
    decoded = decode_attributes(encoded)
    assert [a.number for a in decoded] == [86400, 3600]


def test_attribute_truncated_is_malformed() -> None:
    with pytest.raises(MalformedMessage):
        decode_attributes(bytes.fromhex("000c0004000151"))
    with pytest.raises(MalformedMessage):
        decode_attributes(b"\x80")


def test_proposal_announcing_more_transforms_than_it_holds_is_malformed() -> None:
    body = bytearray(
        SaPayload((Proposal(1, ProtocolId.ESP, b"\x00\x00\x01\x00", (Transform(1, 12),)),)).encode()
    )
    body[8 + 7] = 2  # the proposal's transform count
    with pytest.raises(MalformedMessage):
        SaPayload.decode(bytes(body))


def test_sa_payload_keeps_the_bytes_received() -> None:
    """Phase 1 hashes cover the initiator's SA body exactly as it came."""
    body = SaPayload((Proposal(1, 1, b"", (Transform(1, 1, (DataAttribute(1, 5),)),)),)).encode()
    assert SaPayload.decode(body).raw == body


def test_notify_and_delete_wire_form() -> None:
    notify = NotifyPayload(NotifyType.R_U_THERE, ProtocolId.ISAKMP, b"C" * 16, b"\x00\x00\x00\x07")
    assert (
        notify.encode() == struct.pack("!IBBH", 1, 1, 16, 36136) + b"C" * 16 + b"\x00\x00\x00\x07"
    )
    assert NotifyPayload.decode(notify.encode()) == notify
    delete = DeletePayload(ProtocolId.ESP, (b"\x00\x00\x10\x01", b"\x00\x00\x10\x02"))
    assert delete.encode() == struct.pack("!IBBH", 1, 3, 4, 2) + b"\x00\x00\x10\x01\x00\x00\x10\x02"
    assert DeletePayload.decode(delete.encode()) == delete
    with pytest.raises(MalformedMessage):
        DeletePayload.decode(delete.encode()[:-1])
    with pytest.raises(MalformedMessage):
        NotifyPayload.decode(struct.pack("!IBBH", 1, 1, 16, 1) + b"short")


@pytest.mark.parametrize(
    ("payload", "network"),
    [
        (IdPayload(IdType.IPV4_ADDR, bytes([10, 1, 2, 3])), "10.1.2.3/32"),
        (IdPayload(IdType.IPV4_ADDR_SUBNET, bytes([10, 1, 0, 0, 255, 255, 0, 0])), "10.1.0.0/16"),
        (IdPayload(IdType.IPV4_ADDR_RANGE, bytes([10, 1, 0, 0, 10, 1, 0, 255])), "10.1.0.0/24"),
        (
            IdPayload(IdType.IPV6_ADDR_SUBNET, bytes(16) + b"\xff" * 8 + bytes(8)),
            "::/64",
        ),
    ],
)
def test_client_ids_as_networks(payload: IdPayload, network: str) -> None:
    assert payload.network() == ipaddress.ip_network(network)


@pytest.mark.parametrize(
    "payload",
    [
        IdPayload(IdType.FQDN, b"vpn.example.test"),
        IdPayload(IdType.IPV4_ADDR, b"\x01\x02"),
        IdPayload(IdType.IPV4_ADDR_RANGE, bytes([10, 1, 0, 0, 10, 1, 0, 254])),
    ],
)
def test_ids_that_are_no_selector_are_malformed(payload: IdPayload) -> None:
    with pytest.raises(MalformedMessage):
        payload.network()


def test_network_id_sends_hosts_as_addresses_and_nets_as_subnets() -> None:
    assert network_id(ipaddress.ip_network("192.0.2.9/32")).id_type == IdType.IPV4_ADDR
    subnet = network_id(ipaddress.ip_network("10.2.0.0/16"))
    assert subnet.id_type == IdType.IPV4_ADDR_SUBNET
    assert subnet.data == bytes([10, 2, 0, 0, 255, 255, 0, 0])


def test_chain_tail_is_what_the_protected_hashes_cover() -> None:
    """The bytes after the first payload, generic headers included, padding excluded."""
    chain = [OpaquePayload(PayloadType.HASH, b"h" * 20), NotifyPayload(NotifyType.INITIAL_CONTACT)]
    first, body = encode_chain(chain)
    assert first == PayloadType.HASH
    decoded, tail = decode_chain_with_tail(first, body + b"\x00" * 11)
    assert decoded == chain
    assert tail == body[24:]


def test_chain_limits() -> None:
    with pytest.raises(MalformedMessage):
        decode_chain(PayloadType.NONCE, b"\x0a\x00\x00\x05x")  # truncated second header
    with pytest.raises(MalformedMessage):
        decode_chain(PayloadType.NONCE, b"\x00\x00\x00\x03")  # length under 4
    looping = b"\x0a\x00\x00\x04" * 100  # nonce after nonce: more than MAX_PAYLOADS
    with pytest.raises(MalformedMessage):
        decode_chain(PayloadType.NONCE, looping)


def test_attribute_payload_repr_hides_the_values() -> None:
    """An XAUTH reply carries the password: only attribute types are shown."""
    payload = AttributePayload(
        CfgType.REPLY,
        7,
        (
            DataAttribute(CfgAttr.XAUTH_USER_NAME, b"joe"),
            DataAttribute(CfgAttr.XAUTH_USER_PASSWORD, b"hunter2-password"),
        ),
    )
    text = repr(payload) + str(payload)
    assert "hunter2" not in text and "joe" not in text
    assert str(int(CfgAttr.XAUTH_USER_PASSWORD)) in text


def test_header_checks() -> None:
    header = Header(b"i" * 8, b"r" * 8, 1, 2, 0, 0, 28)
    assert decode_header(header.encode()) == header
    with pytest.raises(MalformedMessage):
        decode_header(header.encode()[:27])
    with pytest.raises(Ikev1Error) as unequal:
        decode_header(header.encode() + b"x")  # length in the header says 28
    assert unequal.value.notify is NotifyType.UNEQUAL_PAYLOAD_LENGTHS
    with pytest.raises(Ikev1Error):
        decode_header(Header(b"i" * 8, b"r" * 8, 1, 2, 0, 0, 28, version=0x20).encode())


# ------------------------------------------------------------------ properties
@FUZZ
@given(st.lists(payloads, max_size=6))
def test_chains_round_trip(chain: list) -> None:
    first, body = encode_chain(chain)
    assert decode_chain(first, body) == chain


@FUZZ
@given(st.integers(0, 255), st.binary(max_size=300))
def test_decode_chain_only_raises_ikev1_errors(first: int, data: bytes) -> None:
    with contextlib.suppress(Ikev1Error):
        decode_chain(first, data)


@FUZZ
@given(st.binary(max_size=300))
def test_sa_decode_only_raises_ikev1_errors(data: bytes) -> None:
    with contextlib.suppress(Ikev1Error):
        SaPayload.decode(data)


@FUZZ
@given(sa_payloads, st.data())
def test_mutated_sa_payloads_only_raise_ikev1_errors(sa: SaPayload, data: st.DataObject) -> None:
    body = bytearray(sa.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(body) - 1))
        body[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(body)))
    with contextlib.suppress(Ikev1Error):
        SaPayload.decode(bytes(body[:cut]))
