"""Runs of TCP segments joined for the TUN device: what the kernel gets is one GSO
packet whose headers, lengths and checksums match the segments it stands for; anything
that cannot be joined goes as it came, behind a zero virtio_net_hdr, in order."""

from __future__ import annotations

import ipaddress
import struct

from engine.dataplane.gro import GSO_TCPV4, NEEDS_CSUM, PLAIN, VNET_HEADER, coalesce
from engine.dataplane.packets import checksum

SRC, DST = "10.98.1.1", "10.98.2.1"
OPTIONS = bytes([1, 1, 8, 10]) + struct.pack(">II", 1000, 2000)  # NOP NOP timestamps
MSS = 1348


def segment(seq: int, payload: bytes, flags: int = 0x10, sport: int = 5201, ttl: int = 64) -> bytes:
    tcp = struct.pack(">HHIIBBHHH", sport, 40000, seq, 777, (20 + len(OPTIONS)) // 4 << 4,
                      flags, 512, 0, 0) + OPTIONS  # fmt: skip
    size = 20 + len(tcp) + len(payload)
    src, dst = ipaddress.IPv4Address(SRC).packed, ipaddress.IPv4Address(DST).packed
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, size, seq & 0xFFFF, 0x4000, ttl, 6, 0, src, dst)
    ip = ip[:10] + struct.pack(">H", checksum(ip)) + ip[12:]
    pseudo = ip[12:20] + struct.pack(">BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack(">H", checksum(pseudo + tcp + payload)) + tcp[18:]
    return ip + tcp + payload


def payloads(count: int, size: int = MSS) -> list[bytes]:
    return [bytes([n]) * size for n in range(count)]


def run(start: int, parts: list[bytes], last_flags: int = 0x10) -> list[bytes]:
    out, seq = [], start
    for n, part in enumerate(parts):
        out.append(segment(seq, part, last_flags if n == len(parts) - 1 else 0x10))
        seq += len(part)
    return out


def test_a_run_of_segments_becomes_one_gso_packet_true_to_them() -> None:
    parts = [*payloads(4), b"z" * 300]
    (joined,) = coalesce(run(1000, parts, last_flags=0x18))
    flags, gso_type, hdr_len, gso_size, csum_start, csum_offset = VNET_HEADER.unpack_from(joined)
    header = 20 + 20 + len(OPTIONS)
    assert (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset) == (
        NEEDS_CSUM, GSO_TCPV4, header, MSS, 20, 16,
    )  # fmt: skip
    packet = joined[VNET_HEADER.size :]
    first = segment(1000, parts[0])
    assert packet[header:] == b"".join(parts)
    assert struct.unpack_from(">H", packet, 2)[0] == len(packet)
    assert checksum(packet[:20]) == 0  # a valid IP header checksum
    assert packet[24:28] == first[24:28]  # the first segment's sequence number
    assert packet[33] == 0x18  # the last segment's PSH
    assert packet[12:20] == first[12:20] and packet[40:header] == first[40:header]
    # the kernel finishes the partial checksum: the sum over the TCP segment, with the
    # pseudo header's sum in the checksum field, complemented, is the true checksum
    tcp = bytearray(packet[20:])
    partial = tcp[16:18]
    tcp[16:18] = b"\x00\x00"
    pseudo = packet[12:20] + struct.pack(">BBH", 0, 6, len(tcp))
    true = checksum(pseudo + bytes(tcp))
    tcp[16:18] = partial
    assert checksum(bytes(tcp)) == true


def test_what_cannot_be_joined_goes_as_it_came_in_order() -> None:
    a = run(1000, payloads(2))
    gap = segment(1000 + 3 * MSS, b"g" * MSS)  # a segment missing before it
    other = segment(50, b"o" * MSS, sport=6000)  # another flow
    udp = bytearray(segment(9, b"u" * 100))
    udp[9] = 17
    syn = segment(5, b"s" * 10, flags=0x02)
    out = coalesce([*a, gap, other, bytes(udp), syn])
    assert len(out) == 5
    assert VNET_HEADER.unpack_from(out[0])[1] == GSO_TCPV4
    assert out[1:] == [PLAIN + gap, PLAIN + other, PLAIN + bytes(udp), PLAIN + syn]


def test_a_short_segment_or_a_different_ttl_ends_a_run() -> None:
    parts = [b"a" * MSS, b"b" * 100, b"c" * MSS]
    out = coalesce(run(1, parts))
    assert len(out) == 2  # a+b joined, c alone
    assert out[1] == PLAIN + segment(1 + MSS + 100, parts[2])
    first, second = segment(1, b"a" * MSS), segment(1 + MSS, b"b" * MSS, ttl=63)
    assert coalesce([first, second]) == [PLAIN + first, PLAIN + second]


def test_a_single_packet_is_plain() -> None:
    one = segment(1, b"x" * MSS)
    assert coalesce([one]) == [PLAIN + one]
