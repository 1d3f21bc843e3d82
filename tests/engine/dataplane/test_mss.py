"""`ip tcp adjust-mss`: SYNs through a tunnel interface leave with at most that MSS, with
a TCP checksum that still verifies; everything else passes untouched."""

from __future__ import annotations

import ipaddress
import struct

from engine.dataplane.mss import clamp_mss
from engine.dataplane.packets import checksum, ipv4

SRC, DST = "10.1.0.5", "10.2.0.9"


def tcp_segment(flags: int, options: bytes) -> bytes:
    offset = (20 + len(options)) // 4
    header = struct.pack("!HHIIBBHHH", 40000, 443, 1, 0, offset << 4, flags, 65535, 0, 0)
    segment = header + options
    pseudo = (
        ipaddress.IPv4Address(SRC).packed
        + ipaddress.IPv4Address(DST).packed
        + struct.pack("!BBH", 0, 6, len(segment))
    )
    return segment[:16] + struct.pack("!H", checksum(pseudo + segment)) + segment[18:]


def verifies(packet: bytes) -> bool:
    segment = packet[20:]
    pseudo = packet[12:20] + struct.pack("!BBH", 0, 6, len(segment))
    return checksum(pseudo + segment) == 0


def mss_of(packet: bytes) -> int:
    at = packet.index(b"\x02\x04", 40)
    return struct.unpack_from("!H", packet, at + 2)[0]


SYN_OPTIONS = b"\x01\x01\x04\x02" + b"\x02\x04\x05\xb4" + b"\x01\x03\x03\x07"  # NOP NOP SACK MSS WS


def test_a_syn_offering_more_is_clamped_and_still_verifies() -> None:
    packet = ipv4(SRC, DST, 6, tcp_segment(0x02, SYN_OPTIONS))
    assert verifies(packet) and mss_of(packet) == 1460
    clamped = clamp_mss(packet, 1360)
    assert mss_of(clamped) == 1360
    assert verifies(clamped)
    assert len(clamped) == len(packet) and clamped[:20] == packet[:20]


def test_a_syn_ack_is_clamped_too_and_a_smaller_offer_is_left() -> None:
    syn_ack = ipv4(SRC, DST, 6, tcp_segment(0x12, SYN_OPTIONS))
    assert mss_of(clamp_mss(syn_ack, 1300)) == 1300
    assert clamp_mss(syn_ack, 1500) is syn_ack


def test_other_packets_pass_untouched() -> None:
    ack = ipv4(SRC, DST, 6, tcp_segment(0x10, b""))
    udp = ipv4(SRC, DST, 17, b"\x00" * 20)
    broken = ipv4(SRC, DST, 6, tcp_segment(0x02, b"\x02\x00\x00\x00"))  # option length 0
    for packet in (ack, udp, broken, b"", b"\x45" * 10):
        assert clamp_mss(packet, 1200) is packet
