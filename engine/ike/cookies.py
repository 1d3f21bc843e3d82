"""Stateless cookies (RFC 7296 section 2.6) against floods of half-open IKE SAs."""

from __future__ import annotations

import hashlib
import hmac

from engine.crypto import RandomBytes
from engine.ike.policy import parse_ip

VERSION = b"\x00\x01"


class CookieJar:
    """Cookie = version | SHA-256(Ni | IPi | SPIi | secret): nothing is stored per request."""

    def __init__(self, random_bytes: RandomBytes) -> None:
        self._secret = random_bytes(32)

    def make(self, nonce_i: bytes, address: str, spi_i: bytes) -> bytes:
        packed = parse_ip(address).packed
        return VERSION + hashlib.sha256(nonce_i + packed + spi_i + self._secret).digest()

    def check(self, cookie: bytes, nonce_i: bytes, address: str, spi_i: bytes) -> bool:
        return hmac.compare_digest(cookie, self.make(nonce_i, address, spi_i))
