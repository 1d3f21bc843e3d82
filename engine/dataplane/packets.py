"""The few IPv4/ICMP packet operations the lab needs: echo requests and their replies.

Hand-written because they are a dozen lines each and the hot path must not pay for a
general packet library; anything that is not an IPv4 echo request is left alone.
"""

from __future__ import annotations

import ipaddress
import struct

IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
ICMP_HEADER = struct.Struct("!BBHHH")
ICMP = 1
ECHO_REQUEST = 8
ECHO_REPLY = 0


def checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ipv4(src: str, dst: str, protocol: int, payload: bytes, ttl: int = 64, ident: int = 0) -> bytes:
    header = IPV4_HEADER.pack(
        0x45,
        0,
        20 + len(payload),
        ident,
        0,
        ttl,
        protocol,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def echo_request(src: str, dst: str, ident: int, seq: int, payload: bytes = b"") -> bytes:
    icmp = ICMP_HEADER.pack(ECHO_REQUEST, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    return ipv4(src, dst, ICMP, icmp, ident=seq & 0xFFFF)


def addresses(packet: bytes) -> tuple[str, str] | None:
    """(source, destination) of an IPv4 packet."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    return (str(ipaddress.IPv4Address(packet[12:16])), str(ipaddress.IPv4Address(packet[16:20])))


def echo_reply(packet: bytes) -> bytes | None:
    """The reply to an IPv4 ICMP echo request, or None for any other packet."""
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != ICMP:
        return None
    header_len = (packet[0] & 0x0F) * 4
    icmp = packet[header_len:]
    if len(icmp) < 8 or icmp[0] != ECHO_REQUEST:
        return None
    reply = bytes([ECHO_REPLY, 0, 0, 0]) + icmp[4:]
    reply = reply[:2] + struct.pack("!H", checksum(reply)) + reply[4:]
    src, dst = packet[12:16], packet[16:20]
    return ipv4(str(ipaddress.IPv4Address(dst)), str(ipaddress.IPv4Address(src)), ICMP, reply)


def is_echo_reply(packet: bytes) -> bool:
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != ICMP:
        return False
    return packet[(packet[0] & 0x0F) * 4] == ECHO_REPLY
