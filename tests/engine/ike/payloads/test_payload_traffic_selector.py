"""Traffic selectors: wire format, CIDR conversion and narrowing by intersection."""

from __future__ import annotations

import struct
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

import pytest

from engine.ike.constants import TsType
from engine.ike.errors import LocalProtocolError, MalformedMessage
from engine.ike.payloads import (
    TrafficSelector,
    TsiPayload,
    TsrPayload,
    decode_payload_body,
    encode_payload_body,
)

TS = TrafficSelector.from_network


def test_round_trip_ipv4_and_ipv6() -> None:
    payload = TsiPayload(
        (
            TS(IPv4Network("10.0.0.0/8")),
            TS(IPv4Network("192.168.1.7/32"), 6, (443, 443)),
            TS(IPv6Network("2001:db8::/32"), 17, (500, 4500)),
            TrafficSelector.from_range(IPv4Address("10.0.0.5"), IPv4Address("10.0.0.9")),
        )
    )
    decoded = TsiPayload.decode_body(payload.encode_body())
    assert decoded == payload
    assert type(decoded) is TsiPayload
    assert type(decode_payload_body(45, False, payload.encode_body())) is TsrPayload


def test_wire_layout_matches_rfc() -> None:
    body = TsrPayload((TS(IPv4Network("10.1.0.0/16"), 6, (80, 80)),)).encode_body()
    assert body == bytes.fromhex("01000000" + "07060010" + "00500050" + "0a010000" + "0a01ffff")
    body6 = TsrPayload((TS(IPv6Network("::/0")),)).encode_body()
    assert body6 == bytes.fromhex("01000000" + "08000028" + "0000ffff") + bytes(16) + b"\xff" * 16


def test_from_network() -> None:
    ts = TS(IPv4Network("10.1.0.0/16"))
    assert ts.ts_type is TsType.IPV4_ADDR_RANGE
    assert (ts.start_address, ts.end_address) == (
        IPv4Address("10.1.0.0"),
        IPv4Address("10.1.255.255"),
    )
    assert (ts.ip_protocol, ts.start_port, ts.end_port) == (0, 0, 65535)
    assert TS(IPv6Network("2001:db8::/64")).ts_type is TsType.IPV6_ADDR_RANGE


def test_narrowing_8_vs_16() -> None:
    wide = TS(IPv4Network("10.0.0.0/8"))
    narrow = TS(IPv4Network("10.1.0.0/16"))
    assert wide.intersect(narrow) == narrow
    assert narrow.intersect(wide) == narrow
    assert narrow.intersect(wide).to_networks() == [IPv4Network("10.1.0.0/16")]  # type: ignore[union-attr]


def test_disjoint_is_none() -> None:
    assert TS(IPv4Network("10.0.0.0/8")).intersect(TS(IPv4Network("192.168.0.0/16"))) is None
    assert (
        TS(IPv4Network("10.0.0.0/8"), 6, (80, 80)).intersect(
            TS(IPv4Network("10.0.0.0/8"), 6, (443, 443))
        )
        is None
    )
    assert TS(IPv4Network("0.0.0.0/0")).intersect(TS(IPv6Network("::/0"))) is None


def test_protocol_any_vs_tcp() -> None:
    any_proto = TS(IPv4Network("10.0.0.0/8"))
    tcp = TS(IPv4Network("10.0.0.0/24"), 6, (1024, 65535))
    expected = TS(IPv4Network("10.0.0.0/24"), 6, (1024, 65535))
    assert any_proto.intersect(tcp) == expected
    assert tcp.intersect(any_proto) == expected
    udp = TS(IPv4Network("10.0.0.0/24"), 17)
    assert tcp.intersect(udp) is None


def test_partial_overlap_of_ranges() -> None:
    a = TrafficSelector.from_range(IPv4Address("10.0.0.0"), IPv4Address("10.0.0.100"), 0, (0, 1000))
    b = TrafficSelector.from_range(
        IPv4Address("10.0.0.50"), IPv4Address("10.0.1.0"), 0, (500, 2000)
    )
    result = a.intersect(b)
    assert result == TrafficSelector.from_range(
        IPv4Address("10.0.0.50"), IPv4Address("10.0.0.100"), 0, (500, 1000)
    )
    assert result is not None
    assert result.to_networks() == [
        ip_network("10.0.0.50/31"),
        ip_network("10.0.0.52/30"),
        ip_network("10.0.0.56/29"),
        ip_network("10.0.0.64/27"),
        ip_network("10.0.0.96/30"),
        ip_network("10.0.0.100/32"),
    ]


def test_to_networks() -> None:
    assert TS(IPv6Network("2001:db8::/48")).to_networks() == [IPv6Network("2001:db8::/48")]
    everything = TrafficSelector.from_range(IPv4Address("0.0.0.0"), IPv4Address("255.255.255.255"))
    assert everything.to_networks() == [IPv4Network("0.0.0.0/0")]
    backwards = TrafficSelector.from_range(IPv6Address("::5"), IPv6Address("::1"))
    assert backwards.to_networks() == []


def test_opaque_ports_are_empty_for_intersection() -> None:
    opaque = TS(IPv4Network("10.0.0.0/8"), 6, (65535, 0))
    assert opaque.intersect(TS(IPv4Network("10.0.0.0/8"))) is None


def test_str() -> None:
    assert str(TS(IPv4Network("10.0.0.0/8"))) == "10.0.0.0/8"
    assert str(TS(IPv4Network("10.0.0.0/8"), 6, (80, 80))) == "10.0.0.0/8 proto 6 port 80"
    ts = TrafficSelector.from_range(IPv4Address("10.0.0.1"), IPv4Address("10.0.0.2"), 17, (1, 2))
    assert str(ts) == "10.0.0.1-10.0.0.2 proto 17 ports 1-2"


def selector(ts_type: int, length: int, addresses: bytes) -> bytes:
    return struct.pack("!BBHHH", ts_type, 0, length, 0, 65535) + addresses


V4 = selector(7, 16, bytes(4) + b"\xff" * 4)
V6 = selector(8, 40, bytes(16) + b"\xff" * 16)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x01\x00\x00", "need at least 4"),
        (b"\x00\x00\x00\x00", "without traffic selectors"),
        (b"\x02\x00\x00\x00" + V4, "announces 2 selectors but has 1"),
        (b"\x01\x00\x00\x00" + V4 + V4, "16 bytes after the last"),
        (b"\x01\x00\x00\x00" + V4[:-1], "length 16 exceeds"),
        (b"\x01\x00\x00\x00" + V6[:20], "length 40 exceeds"),
        (b"\x01\x00\x00\x00" + V4[:6], "announces 1 selectors but has 0"),
        (b"\x01\x00\x00\x00" + selector(7, 17, bytes(9)), "type 7 with length 17"),
        (b"\x01\x00\x00\x00" + selector(7, 15, bytes(7)), "type 7 with length 15"),
        (b"\x01\x00\x00\x00" + selector(8, 16, bytes(8)), "type 8 with length 16"),
        (b"\x01\x00\x00\x00" + selector(9, 16, bytes(8)), "unknown traffic selector type 9"),
    ],
)
def test_malformed_ts(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        TsiPayload.decode_body(body)
    with pytest.raises(MalformedMessage, match=reason):
        decode_payload_body(44, False, body)


def test_encode_rejects_inconsistent_selectors() -> None:
    mixed = TrafficSelector(
        TsType.IPV4_ADDR_RANGE, 0, 0, 65535, IPv6Address("::"), IPv6Address("::1")
    )
    with pytest.raises(LocalProtocolError):
        encode_payload_body(TsiPayload((mixed,)))
    with pytest.raises(LocalProtocolError):
        encode_payload_body(TsiPayload(()))
    with pytest.raises(LocalProtocolError):
        TrafficSelector.from_range(IPv4Address("10.0.0.1"), IPv6Address("::1"))
    bad_port = TS(IPv4Network("10.0.0.0/8"), 6, (0, 70000))
    with pytest.raises(LocalProtocolError):
        encode_payload_body(TsrPayload((bad_port,)))
