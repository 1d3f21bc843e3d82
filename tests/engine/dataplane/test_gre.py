"""GRE between a tunnel interface's two ends: the inner packet comes back as it was, the
delivery header is a valid IPv4 header, and what is not GRE we can read is refused."""

from __future__ import annotations

import ipaddress
import struct

from engine.dataplane import gre
from engine.dataplane.packets import checksum, echo_request

A = ipaddress.IPv4Address("198.51.100.7").packed
B = ipaddress.IPv4Address("192.0.2.1").packed


def test_round_trip_and_delivery_header() -> None:
    inner = echo_request("10.1.0.5", "10.2.0.9", 7, 1, b"x" * 100)
    outer = gre.encapsulate(inner, A, B, 42)
    assert outer is not None
    assert outer[9] == gre.GRE and outer[12:16] == A and outer[16:20] == B
    assert outer[8] == gre.OUTER_TTL
    assert struct.unpack_from("!H", outer, 2)[0] == len(outer) == 24 + len(inner)
    assert checksum(outer[:20]) == 0
    assert outer[20:24] == b"\x00\x00\x08\x00"
    assert gre.decapsulate(outer) == inner


def test_optional_fields_are_skipped_and_bad_headers_refused() -> None:
    inner = echo_request("10.1.0.5", "10.2.0.9", 7, 1)
    outer = bytearray(gre.encapsulate(inner, A, B, 1) or b"")
    # with a key (RFC 2890): flags 0x2000 and four more bytes
    keyed = bytes(outer[:20]) + b"\x20\x00\x08\x00" + b"KEY!" + inner
    keyed = keyed[:2] + struct.pack("!H", len(keyed)) + keyed[4:]
    assert gre.decapsulate(keyed) == inner
    version_1 = bytes(outer[:20]) + b"\x00\x01\x08\x00" + inner
    routing = bytes(outer[:20]) + b"\x40\x00\x08\x00" + inner
    not_ip = bytes(outer[:20]) + b"\x00\x00\x88\x0b" + inner
    for packet in (version_1, routing, not_ip, bytes(outer[:22]), inner, b""):
        assert gre.decapsulate(packet) is None
    assert gre.encapsulate(b"\x00" * 20, A, B, 1) is None
