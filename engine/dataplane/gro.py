"""Runs of TCP segments joined into one packet for the TUN device (receive offload).

Every decrypted packet costs a write to the TUN device, and the write runs the host's
receive path for it: IP, TCP, an ACK every second segment (which we then encrypt and
send back). A device opened with IFF_VNET_HDR takes a virtio_net_hdr ahead of each
packet, and with it a GSO packet: many segments of one TCP flow as one packet and one
pass through the host's stack, as a NIC's GRO would make them. Within one batch of
decrypted packets (one event-loop turn), segments of one IPv4 TCP flow in sequence with
the same headers (addresses, ports, ACK number, window, options such as timestamps;
flags ACK, PSH allowed on the last) are joined; everything else goes as it came, behind
a zero header. The joined packet carries the pseudo-header sum in its TCP checksum
(NEEDS_CSUM, the partial checksum offload convention): the ESP ICV has verified every
segment, so nothing is lost by not checking the TCP checksum again.
"""

from __future__ import annotations

import struct

#: struct virtio_net_hdr (the legacy header is in the host's byte order: little-endian
#: on every platform this runs on)
VNET_HEADER = struct.Struct("<BBHHHH")
VNET_HEADER_SIZE = VNET_HEADER.size
#: the header of a packet as it is: no offload, checksums complete
PLAIN = bytes(VNET_HEADER_SIZE)
NEEDS_CSUM = 1
GSO_TCPV4 = 1
_TCP = 6
_ACK, _PSH = 0x10, 0x08
_MAX_IP_SIZE = 65535
_TCP_CHECKSUM_OFFSET = 16


def _segment(packet: bytes) -> tuple[int, int] | None:
    """(IP + TCP header length, TCP flags) of a plain IPv4 TCP data segment that may
    be joined, or None."""
    if (
        len(packet) <= 40
        or packet[0] != 0x45  # IPv4 without options
        or packet[9] != _TCP
        or packet[6] & 0x3F  # MF or a fragment offset
        or packet[7]
    ):
        return None
    header = 20 + (packet[32] >> 4) * 4
    flags = packet[33]
    if header < 40 or len(packet) <= header or flags & ~_PSH != _ACK:
        return None
    if (packet[2] << 8 | packet[3]) != len(packet):
        return None
    return header, flags


def _checksum_fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _joined(first: bytes, header: int, parts: list[bytes], size: int, flags: int) -> bytes:
    """One GSO packet of `parts` (payloads, the first one `first`'s) behind `first`'s
    headers, `size` bytes of IP packet in all; `flags`: the last segment's TCP flags."""
    ip = bytearray(first[:header])
    ip[2:4] = size.to_bytes(2, "big")
    ip[10:12] = b"\x00\x00"
    ip_sum = _checksum_fold(sum(struct.unpack_from(">10H", ip)))
    ip[10:12] = (0xFFFF - ip_sum).to_bytes(2, "big")
    ip[33] |= flags & _PSH
    # partial checksum: the pseudo header's sum, not complemented (the kernel finishes it)
    src_dst = struct.unpack_from(">4H", ip, 12)
    pseudo = _checksum_fold(sum(src_dst) + _TCP + size - 20)
    ip[36:38] = pseudo.to_bytes(2, "big")
    segment = len(parts[0])
    vnet = VNET_HEADER.pack(NEEDS_CSUM, GSO_TCPV4, header, segment, 20, _TCP_CHECKSUM_OFFSET)
    return vnet + bytes(ip) + b"".join(parts)


def coalesce(packets: list[bytes]) -> list[bytes]:
    """The packets for an IFF_VNET_HDR device: each behind its virtio_net_hdr, runs of
    joinable TCP segments of one flow as one GSO packet. Order is kept."""
    out: list[bytes] = []
    append = out.append
    count = len(packets)
    i = 0
    while i < count:
        first = packets[i]
        i += 1
        seg = _segment(first)
        if seg is None or seg[1] != _ACK or i == count:
            append(PLAIN + first)
            continue
        header = seg[0]
        gso_size = len(first) - header
        same = first[12:24], first[28:32], first[32], first[34:36], first[40:header]
        next_seq = (int.from_bytes(first[24:28], "big") + gso_size) & 0xFFFFFFFF
        size = len(first)
        parts = [first[header:]]
        flags = _ACK
        while i < count:
            packet = packets[i]
            seg = _segment(packet)
            if (
                seg is None
                or seg[0] != header
                or int.from_bytes(packet[24:28], "big") != next_seq
                or (packet[12:24], packet[28:32], packet[32], packet[34:36], packet[40:header])
                != same
                or packet[1] != first[1]
                or packet[8] != first[8]
            ):
                break
            payload = len(packet) - header
            if payload > gso_size or size + payload > _MAX_IP_SIZE:
                break
            parts.append(packet[header:])
            size += payload
            next_seq = (next_seq + payload) & 0xFFFFFFFF
            flags = seg[1]
            i += 1
            if payload < gso_size or flags != _ACK:
                break  # a short segment or PSH ends the run, as in the kernel's GRO
        if len(parts) == 1:
            append(PLAIN + first)
        else:
            append(_joined(first, header, parts, size, flags))
    return out
