"""SA payload: proposals, transforms, attributes and every substructure length."""

from __future__ import annotations

import struct

import pytest

from engine.crypto.algorithms import DhId, EncrId, IntegId, PrfId
from engine.ike.constants import EsnId, ProtocolId, TransformType
from engine.ike.errors import LocalProtocolError, MalformedMessage
from engine.ike.payloads import Proposal, SaPayload, Transform, decode_payload_body

IKE_PROPOSAL = Proposal(
    1,
    ProtocolId.IKE,
    b"",
    (
        Transform(TransformType.ENCR, EncrId.AES_GCM_16, 256),
        Transform(TransformType.PRF, PrfId.HMAC_SHA2_256),
        Transform(TransformType.DH, DhId.CURVE25519),
        Transform(TransformType.DH, DhId.ECP_256),
    ),
)


def transform(
    more: int, ttype: int, tid: int, attrs: bytes = b"", length: int | None = None
) -> bytes:
    """A transform substructure built field by field, independent of the encoder."""
    if length is None:
        length = 8 + len(attrs)
    return struct.pack("!BBHBBH", more, 0, length, ttype, 0, tid) + attrs


def proposal(
    more: int,
    number: int,
    protocol: int,
    spi: bytes,
    transforms: list[bytes],
    count: int | None = None,
    length: int | None = None,
    spi_size: int | None = None,
) -> bytes:
    body = spi + b"".join(transforms)
    return (
        struct.pack(
            "!BBHBBBB",
            more,
            0,
            8 + len(body) if length is None else length,
            number,
            protocol,
            len(spi) if spi_size is None else spi_size,
            len(transforms) if count is None else count,
        )
        + body
    )


GOOD_TRANSFORMS = [transform(3, 1, 20, b"\x80\x0e\x01\x00"), transform(0, 2, 5)]


def test_round_trip_single_ike_proposal() -> None:
    sa = SaPayload((IKE_PROPOSAL,))
    assert SaPayload.decode_body(sa.encode_body()) == sa


def test_round_trip_multi_proposal_esp_with_spis_and_esn() -> None:
    sa = SaPayload(
        (
            Proposal(
                1,
                ProtocolId.ESP,
                b"\xc0\x01\x02\x03",
                (
                    Transform(TransformType.ENCR, EncrId.AES_GCM_16, 128),
                    Transform(TransformType.ESN, EsnId.ESN),
                    Transform(TransformType.ESN, EsnId.NO_ESN),
                ),
            ),
            Proposal(
                2,
                ProtocolId.ESP,
                b"\xc0\x01\x02\x03",
                (
                    Transform(TransformType.ENCR, EncrId.AES_CBC, 256),
                    Transform(TransformType.INTEG, IntegId.HMAC_SHA2_256_128),
                    Transform(TransformType.DH, DhId.MODP_2048),
                    Transform(TransformType.ESN, EsnId.NO_ESN),
                ),
            ),
            Proposal(
                3,
                ProtocolId.ESP,
                b"\xc0\x01\x02\x03",
                (Transform(TransformType.ENCR, EncrId.CHACHA20_POLY1305),),
            ),
        )
    )
    decoded = SaPayload.decode_body(sa.encode_body())
    assert decoded == sa
    assert decoded.proposals[1].transforms[0].key_length == 256
    assert decoded.proposals[2].transforms[0].key_length is None
    assert isinstance(decoded.proposals[0].protocol, ProtocolId)
    assert isinstance(decoded.proposals[0].transforms[1].transform_type, TransformType)
    assert decoded.proposals[0].transforms_of(TransformType.ESN) == sa.proposals[0].transforms[1:]


def test_rekey_ike_proposal_with_8_byte_spi() -> None:
    sa = SaPayload((Proposal(1, ProtocolId.IKE, b"12345678", IKE_PROPOSAL.transforms),))
    assert SaPayload.decode_body(sa.encode_body()) == sa


def test_response_with_single_proposal_number_other_than_one() -> None:
    sa = SaPayload((Proposal(3, ProtocolId.IKE, b"", IKE_PROPOSAL.transforms),))
    assert SaPayload.decode_body(sa.encode_body()).proposals[0].number == 3


def test_unknown_transform_type_and_protocol_kept_as_int() -> None:
    body = proposal(0, 1, 200, b"\x01\x02", [transform(0, 240, 999)])
    sa = SaPayload.decode_body(body)
    assert sa.proposals[0].protocol == 200
    assert sa.proposals[0].spi == b"\x01\x02"
    assert sa.proposals[0].transforms == (Transform(240, 999),)


def test_encoding_matches_hand_built_bytes() -> None:
    sa = SaPayload(
        (
            Proposal(
                1,
                ProtocolId.IKE,
                b"",
                (
                    Transform(TransformType.ENCR, EncrId.AES_GCM_16, 256),
                    Transform(TransformType.PRF, PrfId.HMAC_SHA2_256),
                ),
            ),
        )
    )
    assert sa.encode_body() == proposal(0, 1, 1, b"", GOOD_TRANSFORMS)


def test_unknown_attributes_are_skipped_tv_and_tlv() -> None:
    attrs = (
        b"\x80\x07\x12\x34"  # unknown TV attribute 7
        + b"\x00\x08\x00\x03abc"  # unknown TLV attribute 8 with 3 bytes of value
        + b"\x80\x0e\x00\xc0"  # key length 192
        + b"\x00\x09\x00\x00"  # unknown TLV attribute with empty value
    )
    body = proposal(0, 1, 1, b"", [transform(0, 1, 12, attrs)])
    sa = SaPayload.decode_body(body)
    assert sa.proposals[0].transforms == (Transform(TransformType.ENCR, 12, 192),)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "without proposals"),
        (b"\x00\x00\x00\x08\x01\x01\x00", "truncated proposal header"),
        # proposal length field too big / too small
        (proposal(0, 1, 1, b"", GOOD_TRANSFORMS, length=200), "does not fit"),
        (proposal(0, 1, 1, b"", GOOD_TRANSFORMS, length=7), "does not fit"),
        (proposal(0, 1, 1, b"", GOOD_TRANSFORMS, length=30), "does not fit"),
        (proposal(0, 1, 1, b"", GOOD_TRANSFORMS, length=16), "transform length 12"),
        (proposal(0, 1, 1, b"", GOOD_TRANSFORMS, length=24), "announces 2 transforms but has 1"),
        # SPI size larger than the proposal
        (proposal(0, 1, 200, b"", [], spi_size=9), "does not fit"),
        # SPI size not allowed for the protocol
        (proposal(0, 1, 3, b"\x01\x02\x03", GOOD_TRANSFORMS), "SPI size 3"),
        (proposal(0, 1, 3, b"", GOOD_TRANSFORMS), "SPI size 0"),
        (proposal(0, 1, 1, b"1234", GOOD_TRANSFORMS), "SPI size 4"),
        (proposal(0, 1, 0, b"", GOOD_TRANSFORMS), "protocol id 0"),
        # transform counts
        (proposal(0, 1, 1, b"", GOOD_TRANSFORMS, count=3), "last-substructure 0, expected 3"),
        (
            proposal(0, 1, 1, b"", [transform(3, 1, 12), transform(3, 2, 5)], count=3),
            "announces 3 transforms but has 2",
        ),
        (proposal(0, 1, 1, b"", GOOD_TRANSFORMS, count=1), "last-substructure 3"),
        (proposal(0, 1, 1, b"", GOOD_TRANSFORMS, count=0), "after the transforms"),
        # last-substructure flags
        (proposal(1, 1, 1, b"", GOOD_TRANSFORMS), "last-substructure value 1"),
        (proposal(2, 1, 1, b"", GOOD_TRANSFORMS), "SA ends"),
        (
            proposal(0, 1, 1, b"", GOOD_TRANSFORMS) + proposal(0, 2, 1, b"", GOOD_TRANSFORMS),
            "after the last proposal",
        ),
        (
            proposal(0, 1, 1, b"", [transform(0, 1, 12), transform(0, 2, 5)]),
            "last-substructure 0, expected 3",
        ),
        (
            proposal(0, 1, 1, b"", [transform(3, 1, 12), transform(3, 2, 5)]),
            "last-substructure 3, expected 0",
        ),
        # transform length field too big / too small
        (
            proposal(0, 1, 1, b"", [transform(0, 1, 12, b"\x80", length=9)]),
            "truncated transform attr",
        ),
        (proposal(0, 1, 1, b"", [transform(0, 1, 12, length=7)]), "transform length 7"),
        (proposal(0, 1, 1, b"", [transform(0, 1, 12, length=40)]), "transform length 40"),
        # attributes
        (
            proposal(0, 1, 1, b"", [transform(0, 1, 12, b"\x00\x08\x00\x09abc")]),
            "attribute length 9",
        ),
        (
            proposal(0, 1, 1, b"", [transform(0, 1, 12, b"\x00\x0e\x00\x02\x01\x00")]),
            "TLV format",
        ),
        (
            proposal(0, 1, 1, b"", [transform(0, 1, 12, b"\x80\x0e\x00\x80\x80\x0e\x01\x00")]),
            "duplicate key length",
        ),
        (proposal(0, 1, 1, b"", [transform(0, 1, 12, b"\x80\x0e\x00")]), "truncated transform"),
    ],
)
def test_malformed_sa(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        SaPayload.decode_body(body)
    with pytest.raises(MalformedMessage, match=reason):
        decode_payload_body(33, False, body)


@pytest.mark.parametrize(
    ("numbers", "reason"),
    [
        ((1, 3), "proposal number 3 follows 1"),
        ((1, 1), "proposal number 1 follows 1"),
        ((2, 3), "first of several proposals is number 2"),
        ((0,), "proposal number 0"),
        ((1, 2, 2), "proposal number 2 follows 2"),
    ],
)
def test_bad_proposal_number_sequence(numbers: tuple[int, ...], reason: str) -> None:
    body = b"".join(
        proposal(0 if i == len(numbers) - 1 else 2, n, 1, b"", GOOD_TRANSFORMS)
        for i, n in enumerate(numbers)
    )
    with pytest.raises(MalformedMessage, match=reason):
        SaPayload.decode_body(body)


def test_encode_rejects_empty_sa() -> None:
    with pytest.raises(LocalProtocolError):
        SaPayload(()).encode_body()
