"""ESP transport mode (RFC 4303 section 3.1.1) between two SA tables in memory: the
upper-layer payload is encrypted with the packet's protocol as next header, and the
receiver rebuilds the IP header from the SA's host selectors."""

from __future__ import annotations

import ipaddress
import random
import struct
from collections.abc import Callable

import pytest

from engine.crypto.keys import ChildKeys
from engine.esp import Drop, DropReason, EspConfigError, SaTable
from engine.esp.sa import ipv4_checksum
from engine.events import EspTransforms

A, B = "192.0.2.1", "192.0.2.2"
A6, B6 = "2001:db8::1", "2001:db8::2"
GRE, TCP, ICMP = 47, 6, 1
#: a GRE header (no flags, protocol 0x0800) and an ICMP echo inside it
GRE_PAYLOAD = b"\x00\x00\x08\x00" + bytes(range(60))

Builder = Callable[..., bytes]
Keys = Callable[..., ChildKeys]


def transport_link(
    make_keys: Keys,
    encryption: str = "aes-gcm-256",
    integrity: str = "none",
    *,
    hosts: tuple[str, str] = (A, B),
    protocols: tuple[int, int] = (GRE, GRE),
) -> tuple[SaTable, SaTable]:
    """left = host A (initiator, child 1), right = host B (child 2)."""
    keys = make_keys(encryption, integrity)
    rng = random.Random(3)
    left, right = SaTable(rng.randbytes), SaTable(rng.randbytes)
    bits = "/128" if ":" in hosts[0] else "/32"
    a, b = hosts[0] + bits, hosts[1] + bits
    for table, child, spi_in, spi_out, initiator, local, remote, protocol in (
        (left, 1, 0x101, 0x202, True, a, b, protocols[0]),
        (right, 2, 0x202, 0x101, False, b, a, protocols[1]),
    ):
        table.install(
            child,
            spi_in,
            spi_out,
            transforms=EspTransforms.named(encryption, integrity, transport=True),
            keys=keys,
            initiator=initiator,
            local_ts=(local,),
            remote_ts=(remote,),
            now=0.0,
            protocol=protocol,
        )
    return left, right


def ok(result: object) -> tuple[bytes, int]:
    assert isinstance(result, tuple), result
    return result  # type: ignore[return-value]


def header_sum_ok(header: bytes) -> bool:
    total = sum(struct.unpack(f">{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def tcp_checksum(src: str, dst: str, segment: bytes) -> int:
    pseudo = (
        ipaddress.ip_address(src).packed
        + ipaddress.ip_address(dst).packed
        + struct.pack(">BBH", 0, TCP, len(segment))
    )
    data = pseudo + segment + b"\x00" * (len(segment) % 2)
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return 0xFFFF - total


@pytest.mark.parametrize(
    ("encryption", "integrity"),
    [("aes-gcm-128", "none"), ("aes-cbc-256", "sha256"), ("chacha20-poly1305", "none")],
)
def test_gre_round_trip_both_ways(
    make_keys: Keys, ipv4: Builder, encryption: str, integrity: str
) -> None:
    left, right = transport_link(make_keys, encryption, integrity)
    for size in range(0, 40, 3):  # across pad lengths
        payload = GRE_PAYLOAD[: 4 + size]
        there = ipv4(A, B, payload, proto=GRE)
        esp, child = ok(left.outbound(there, 1.0))
        assert child == 1
        # only the payload is inside: header, IV, payload + trailer padded, ICV
        iv, block = (8, 4) if integrity == "none" else (16, 16)
        assert len(esp) == 8 + iv + -(-(len(payload) + 2) // block) * block + 16
        inner, child = ok(right.inbound(esp, 1.0))
        assert child == 2
        # same packet, header rebuilt: identification 0 and TTL 64 as rebuilt
        expected = ipv4(A, B, payload, proto=GRE)
        expected = expected[:4] + b"\x00\x00" + expected[6:]
        expected = (
            expected[:10]
            + ipv4_checksum(expected[:10] + b"\0\0" + expected[12:20]).to_bytes(2, "big")
            + expected[12:]
        )
        assert inner == expected
        assert inner[9] == GRE and struct.unpack(">H", inner[2:4])[0] == len(there)
        assert header_sum_ok(inner[:20])
        back = ipv4(B, A, payload, proto=GRE)
        esp_back, _ = ok(right.outbound(back, 1.0))
        inner_back, _ = ok(left.inbound(esp_back, 1.0))
        assert inner_back[12:20] == back[12:20] and inner_back[20:] == payload


def test_the_payload_is_encrypted_with_the_protocol_as_next_header(
    make_keys: Keys, ipv4: Builder
) -> None:
    left, right = transport_link(make_keys)
    esp, _ = ok(left.outbound(ipv4(A, B, GRE_PAYLOAD, proto=GRE), 0.0))
    pair = right.get(2)
    assert pair is not None
    # mode-independent ESP processing: what the ciphertext held
    assert pair.inbound.unprotect(esp, 0.0) == (GRE_PAYLOAD, GRE)


def test_ipv6_round_trip(make_keys: Keys, ipv6: Builder) -> None:
    left, right = transport_link(make_keys, hosts=(A6, B6), protocols=(0, 0))
    packet = ipv6(A6, B6, b"tcp segment bytes", proto=TCP)
    esp, _ = ok(left.outbound(packet, 0.0))
    assert right.get(2).inbound.unprotect(esp, 0.0) == (b"tcp segment bytes", TCP)  # type: ignore[union-attr]
    left, right = transport_link(make_keys, hosts=(A6, B6), protocols=(0, 0))
    inner, _ = ok(right.inbound(ok(left.outbound(packet, 0.0))[0], 0.0))
    assert inner == packet


def test_inner_tcp_checksum_still_verifies(make_keys: Keys, ipv4: Builder) -> None:
    """Without NAT the rebuilt addresses are the sender's: nothing to fix up."""
    left, right = transport_link(make_keys, protocols=(TCP, TCP))
    segment = bytearray(struct.pack(">HHIIBBHHH", 40000, 22, 1, 0, 0x50, 0x02, 1024, 0, 0))
    segment += b"data"
    struct.pack_into(">H", segment, 16, tcp_checksum(A, B, bytes(segment)))
    inner, _ = ok(
        right.inbound(ok(left.outbound(ipv4(A, B, bytes(segment), proto=TCP), 0.0))[0], 0.0)
    )
    received = inner[20:]
    assert (
        tcp_checksum(A, B, received[:16] + b"\0\0" + received[18:])
        == struct.unpack(">H", received[16:18])[0]
    )


def test_counters_count_whole_packets_on_both_sides(make_keys: Keys, ipv4: Builder) -> None:
    left, right = transport_link(make_keys)
    packet = ipv4(A, B, GRE_PAYLOAD, proto=GRE)
    for _ in range(3):
        right.inbound(ok(left.outbound(packet, 0.0))[0], 0.0)
    assert left.counters(1).packets_out == right.counters(2).packets_in == 3
    assert left.counters(1).bytes_out == right.counters(2).bytes_in == 3 * len(packet)


def test_other_protocols_are_not_this_sas_to_protect(make_keys: Keys, ipv4: Builder) -> None:
    left, _ = transport_link(make_keys)
    assert left.outbound(ipv4(A, B, b"\x08\x00ping", proto=ICMP), 0.0) is None
    assert left.lookup_outbound(ipv4(A, B, GRE_PAYLOAD, proto=GRE)) is not None


def test_a_packet_of_another_protocol_from_the_peer_is_dropped(
    make_keys: Keys, ipv4: Builder
) -> None:
    # the sender's SA allows any protocol, the receiver's only GRE
    left, right = transport_link(make_keys, protocols=(0, GRE))
    esp, _ = ok(left.outbound(ipv4(A, B, b"\x08\x00ping", proto=ICMP), 0.0))
    result = right.inbound(esp, 0.0)
    assert isinstance(result, Drop) and result.reason is DropReason.OUTSIDE_SELECTORS
    assert right.counters(2).drops_in == 1


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda p: p[:6] + b"\x20\x00" + p[8:], DropReason.NOT_FOR_TRANSPORT),  # MF
        (lambda p: p[:6] + b"\x00\x10" + p[8:], DropReason.NOT_FOR_TRANSPORT),  # offset
        (lambda p: p[:2] + (len(p) + 1).to_bytes(2, "big") + p[4:], DropReason.MALFORMED),
        (
            lambda p: (
                b"\x46" + p[1:2] + (len(p) + 4).to_bytes(2, "big") + p[4:20] + b"\x01" * 4 + p[20:]
            ),
            DropReason.NOT_FOR_TRANSPORT,
        ),  # options
        (lambda p: b"\x70" + p[1:], DropReason.MALFORMED),
    ],
    ids=["more-fragments", "fragment-offset", "bad-length", "ipv4-options", "not-ip"],
)
def test_what_transport_mode_cannot_carry_is_a_counted_drop(
    make_keys: Keys, ipv4: Builder, mangle: Callable[[bytes], bytes], reason: DropReason
) -> None:
    left, _ = transport_link(make_keys, protocols=(0, 0))
    result = left.outbound(mangle(ipv4(A, B, GRE_PAYLOAD, proto=GRE)), 0.0)
    assert isinstance(result, Drop) and result.reason is reason
    assert left.drop_counts()[reason] == 1


def test_transport_mode_needs_host_selectors(make_keys: Keys) -> None:
    table = SaTable()
    with pytest.raises(EspConfigError, match="one host address on each side"):
        table.install(
            1,
            0x1,
            0x2,
            transforms=EspTransforms.named("aes-gcm-256", "none", transport=True),
            keys=make_keys("aes-gcm-256", "none"),
            initiator=True,
            local_ts=("10.1.0.0/16",),
            remote_ts=(f"{B}/32",),
            now=0.0,
        )
