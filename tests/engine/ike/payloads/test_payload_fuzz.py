"""Property tests: payload decoders only ever raise RemoteProtocolError, and round trip."""

from __future__ import annotations

import contextlib
from ipaddress import IPv4Address, IPv6Address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.ike.constants import PayloadType, TransformType, TsType
from engine.ike.errors import RemoteProtocolError
from engine.ike.payloads import (
    DECODERS,
    Payload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsiPayload,
    decode_payload_body,
    encode_payload_body,
    payload_type_of,
)

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

transforms = st.builds(
    Transform,
    st.sampled_from(list(TransformType)) | st.integers(0, 255),
    st.integers(0, 0xFFFF),
    st.none() | st.integers(0, 0xFFFF),
)


@st.composite
def sa_payloads(draw: st.DrawFn) -> SaPayload:
    count = draw(st.integers(1, 4))
    first = 1 if count > 1 else draw(st.integers(1, 255))
    proposals = []
    for number in range(first, first + count):
        protocol, spi_size = draw(st.sampled_from([(1, 0), (1, 8), (2, 4), (3, 4), (77, 5)]))
        spi = draw(st.binary(min_size=spi_size, max_size=spi_size))
        proposals.append(
            Proposal(number, protocol, spi, tuple(draw(st.lists(transforms, max_size=6))))
        )
    return SaPayload(tuple(proposals))


@st.composite
def selectors(draw: st.DrawFn) -> TrafficSelector:
    v6 = draw(st.booleans())
    address = (
        st.builds(IPv6Address, st.integers(0, 2**128 - 1))
        if v6
        else st.builds(IPv4Address, st.integers(0, 2**32 - 1))
    )
    return TrafficSelector(
        TsType.IPV6_ADDR_RANGE if v6 else TsType.IPV4_ADDR_RANGE,
        draw(st.integers(0, 255)),
        draw(st.integers(0, 0xFFFF)),
        draw(st.integers(0, 0xFFFF)),
        draw(address),
        draw(address),
    )


@FUZZ
@given(st.integers(0, 255), st.booleans(), st.binary(max_size=300))
def test_decode_payload_body_never_raises_anything_else(
    payload_type: int, critical: bool, body: bytes
) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode_payload_body(payload_type, critical, body)


@FUZZ
@given(st.sampled_from(sorted(DECODERS)), st.binary(max_size=300))
def test_class_decoders_check_lengths_themselves(payload_type: int, body: bytes) -> None:
    """Without the dispatcher's safety net: no struct.error, IndexError, ValueError..."""
    with contextlib.suppress(RemoteProtocolError):
        DECODERS[payload_type](body)


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[Payload]) -> tuple[int, bytes]:
    payload = draw(valid)
    body = bytearray(encode_payload_body(payload))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "truncate", "extend", "set"]))
        if action == "flip" and body:
            i = draw(st.integers(0, len(body) - 1))
            body[i] ^= 1 << draw(st.integers(0, 7))
        elif action == "set" and body:
            i = draw(st.integers(0, len(body) - 1))
            body[i] = draw(st.sampled_from([0, 1, 2, 3, 4, 8, 16, 0x7F, 0x80, 0xFF]))
        elif action == "truncate" and body:
            del body[draw(st.integers(0, len(body) - 1)) :]
        else:
            body += draw(st.binary(min_size=1, max_size=12))
    return payload_type_of(payload), bytes(body)


@FUZZ
@given(
    mutated(
        sa_payloads()
        | st.builds(lambda s: TsiPayload(tuple(s)), st.lists(selectors(), min_size=1, max_size=4))
    )
)
def test_mutated_structured_payloads(case: tuple[int, bytes]) -> None:
    payload_type, body = case
    with contextlib.suppress(RemoteProtocolError):
        DECODERS[payload_type](body)


@settings(max_examples=300, deadline=None, database=None)
@given(sa_payloads())
def test_sa_round_trip(sa: SaPayload) -> None:
    assert decode_payload_body(PayloadType.SA, False, encode_payload_body(sa)) == sa


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(selectors(), min_size=1, max_size=5))
def test_ts_round_trip(items: list[TrafficSelector]) -> None:
    payload = TsiPayload(tuple(items))
    assert decode_payload_body(PayloadType.TSi, False, encode_payload_body(payload)) == payload


@settings(max_examples=300, deadline=None, database=None)
@given(selectors(), selectors())
def test_intersection_is_contained_in_both(a: TrafficSelector, b: TrafficSelector) -> None:
    result = a.intersect(b)
    assert result == b.intersect(a)
    if result is None:
        return
    for side in (a, b):
        assert side.start_address <= result.start_address <= result.end_address <= side.end_address  # type: ignore[operator]
        assert side.start_port <= result.start_port <= result.end_port <= side.end_port
        assert side.ip_protocol in (0, result.ip_protocol)
