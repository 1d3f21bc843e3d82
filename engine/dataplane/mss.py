"""`ip tcp adjust-mss N`: TCP SYNs through a tunnel interface carry at most MSS N, so
that hosts behind it send segments that fit the tunnel without fragments.

Hand-written: a packet library would cost more per packet than the check itself, and
only SYNs (one byte test on the fast path) are ever touched. The TCP checksum is
updated incrementally (RFC 1624), so the payload is never summed again.
"""

from __future__ import annotations

import struct

TCP = 6
SYN = 0x02
MSS_OPTION = 2
_U16 = struct.Struct("!H")


def clamp_mss(packet: bytes, mss: int) -> bytes:
    """`packet` with its MSS option lowered to `mss` when it is an IPv4 TCP SYN that
    offers more; any other packet comes back as it was."""
    if len(packet) < 40 or packet[0] >> 4 != 4 or packet[9] != TCP:
        return packet
    ihl = (packet[0] & 0x0F) * 4
    if packet[6] & 0x1F or packet[7]:  # a fragment other than the first: no TCP header
        return packet
    tcp = ihl
    if len(packet) < tcp + 20 or not packet[tcp + 13] & SYN:
        return packet
    options_end = tcp + (packet[tcp + 12] >> 4) * 4
    at = tcp + 20
    while at < min(options_end, len(packet)):
        kind = packet[at]
        if kind == 0:
            break
        if kind == 1:
            at += 1
            continue
        if at + 1 >= len(packet) or packet[at + 1] < 2:
            return packet  # a malformed option list: leave it to the host
        if kind == MSS_OPTION and packet[at + 1] == 4 and at + 4 <= len(packet):
            offered = _U16.unpack_from(packet, at + 2)[0]
            if offered <= mss:
                return packet
            out = bytearray(packet)
            _U16.pack_into(out, at + 2, mss)
            old_sum = _U16.unpack_from(packet, tcp + 16)[0]
            _U16.pack_into(out, tcp + 16, _adjust(old_sum, offered, mss))
            return bytes(out)
        at += packet[at + 1]
    return packet


def _adjust(checksum: int, old: int, new: int) -> int:
    """RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')."""
    total = (~checksum & 0xFFFF) + (~old & 0xFFFF) + new
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
