"""NAT detection (RFC 7296 section 2.23): SHA-1 of SPIs, address and port."""

from __future__ import annotations

import functools
import hashlib

from engine.events import Address
from engine.ike.constants import NotifyType
from engine.ike.message import IkeMessage
from engine.ike.payloads import NotifyPayload
from engine.ike.policy import parse_ip


@functools.lru_cache(maxsize=4096)
def _packed(address: str) -> bytes:
    return parse_ip(address).packed


def nat_hash(spi_i: bytes, spi_r: bytes, addr: Address) -> bytes:
    packed = _packed(addr[0])
    return hashlib.sha1(spi_i + spi_r + packed + addr[1].to_bytes(2, "big")).digest()


def nat_notifies(
    spi_i: bytes, spi_r: bytes, local: Address, remote: Address
) -> list[NotifyPayload]:
    return [
        NotifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, nat_hash(spi_i, spi_r, local)),
        NotifyPayload(NotifyType.NAT_DETECTION_DESTINATION_IP, nat_hash(spi_i, spi_r, remote)),
    ]


def detect(message: IkeMessage, local: Address, remote: Address) -> tuple[bool, bool]:
    """(we are behind NAT, the peer is behind NAT); (False, False) without NAT-D payloads."""
    sources = [
        n.data for n in message.notifies() if n.notify_type == NotifyType.NAT_DETECTION_SOURCE_IP
    ]
    dest = message.get_notify(NotifyType.NAT_DETECTION_DESTINATION_IP)
    nat_local = dest is not None and dest.data != nat_hash(message.spi_i, message.spi_r, local)
    nat_remote = bool(sources) and nat_hash(message.spi_i, message.spi_r, remote) not in sources
    return nat_local, nat_remote
