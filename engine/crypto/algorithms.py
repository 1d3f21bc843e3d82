"""Algorithm identities shared by every protocol here: the IANA "IKEv2 Transform
Attribute" numbers for ciphers, PRFs, integrity and Diffie-Hellman groups.

IKEv2 negotiates ESP with the same numbers, and IKEv1 shares the group numbers, so the
crypto objects are keyed by these; a protocol with other numbers maps its own to them.
"""

from __future__ import annotations

from enum import IntEnum


class EncrId(IntEnum):
    AES_CBC = 12
    AES_GCM_16 = 20
    CHACHA20_POLY1305 = 28


class PrfId(IntEnum):
    HMAC_SHA2_256 = 5
    HMAC_SHA2_384 = 6
    HMAC_SHA2_512 = 7


class IntegId(IntEnum):
    NONE = 0
    HMAC_SHA2_256_128 = 12
    HMAC_SHA2_384_192 = 13
    HMAC_SHA2_512_256 = 14


class DhId(IntEnum):
    NONE = 0
    MODP_2048 = 14
    ECP_256 = 19
    ECP_384 = 20
    ECP_521 = 21
    CURVE25519 = 31
