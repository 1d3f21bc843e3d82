"""GRE (RFC 2784) for tunnel interfaces in `tunnel mode gre ip` with tunnel protection:
the inner packet in a GRE header and an outer IPv4 header from the tunnel source to the
tunnel destination, which the interface's ESP SA then protects (as IOS's GRE over
IPsec does). Done here rather than by a kernel GRE device, which not every host has,
and so that the GRE packets never meet the host's routing.

Hand-written: two fixed headers per packet; a packet library would cost more than the
ESP work itself. Received packets with GRE checksum, key or sequence fields are
understood (RFC 2890); we send none, as IOS does by default.
"""

from __future__ import annotations

import struct

from engine.dataplane.packets import checksum

GRE = 47
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
#: IOS's TTL for the delivery header
OUTER_TTL = 255
_OUTER = struct.Struct("!BBHHHBBH4s4s")
_GRE = struct.Struct("!HH")
_CHECKSUM_BIT, _KEY_BIT, _SEQUENCE_BIT = 0x8000, 0x2000, 0x1000
_RESERVED = 0x4FF8  # routing present, strict source route, recursion, flags: RFC 2784 says 0


def encapsulate(inner: bytes, source: bytes, destination: bytes, ident: int) -> bytes | None:
    """The GRE packet for `inner` (an IPv4 or IPv6 packet); None for anything else."""
    if not inner:
        return None
    version = inner[0] >> 4
    if version == 4:
        ethertype = ETHERTYPE_IPV4
    elif version == 6:
        ethertype = ETHERTYPE_IPV6
    else:
        return None
    length = 20 + 4 + len(inner)
    if length > 0xFFFF:
        return None
    header = bytearray(
        _OUTER.pack(0x45, 0, length, ident & 0xFFFF, 0, OUTER_TTL, GRE, 0, source, destination)
    )
    struct.pack_into("!H", header, 10, checksum(bytes(header)))
    return bytes(header) + _GRE.pack(0, ethertype) + inner


def decapsulate(outer: bytes) -> bytes | None:
    """The inner packet of a GRE-in-IPv4 packet; None if it is not one we can read."""
    if len(outer) < 24 or outer[0] >> 4 != 4 or outer[9] != GRE:
        return None
    ihl = (outer[0] & 0x0F) * 4
    if ihl < 20 or len(outer) < ihl + 4:
        return None
    flags, ethertype = _GRE.unpack_from(outer, ihl)
    if flags & _RESERVED or flags & 0x7:  # version must be 0
        return None
    if ethertype not in (ETHERTYPE_IPV4, ETHERTYPE_IPV6):
        return None
    at = ihl + 4
    at += 4 * bool(flags & _CHECKSUM_BIT) + 4 * bool(flags & _KEY_BIT)
    at += 4 * bool(flags & _SEQUENCE_BIT)
    total = struct.unpack_from("!H", outer, 2)[0]
    inner = outer[at:total] if total <= len(outer) else b""
    return inner or None
