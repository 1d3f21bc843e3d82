"""Algorithm identities shared by every protocol here: the IANA "IKEv2 Transform
Attribute" numbers for ciphers, PRFs, integrity and Diffie-Hellman groups.

IKEv2 negotiates ESP with the same numbers, and IKEv1 shares the group numbers, so the
crypto objects are keyed by these; a protocol with other numbers maps its own to them.
"""

from __future__ import annotations

from enum import IntEnum


class EncrId(IntEnum):
    DES_3DES = 3
    NULL = 11
    AES_CBC = 12
    AES_GCM_16 = 20
    CHACHA20_POLY1305 = 28


class PrfId(IntEnum):
    HMAC_MD5 = 1
    HMAC_SHA1 = 2
    HMAC_SHA2_256 = 5
    HMAC_SHA2_384 = 6
    HMAC_SHA2_512 = 7


class IntegId(IntEnum):
    NONE = 0
    HMAC_MD5_96 = 1
    HMAC_SHA1_96 = 2
    HMAC_SHA2_256_128 = 12
    HMAC_SHA2_384_192 = 13
    HMAC_SHA2_512_256 = 14


class DhId(IntEnum):
    NONE = 0
    MODP_768 = 1
    MODP_1024 = 2
    MODP_1536 = 5
    MODP_2048 = 14
    MODP_3072 = 15
    MODP_4096 = 16
    ECP_256 = 19
    ECP_384 = 20
    ECP_521 = 21
    MODP_2048_256 = 24
    CURVE25519 = 31


# Deployed peers still offer these, so they are negotiated, but every use is pointed
# out: RFC 8247 (IKEv2) and RFC 8221 (ESP) demote or forbid them. 3DES has a 64-bit
# block (Sweet32); MD5 and SHA-1 are broken hashes; MODP groups under 2048 bits are
# within reach of precomputation (Logjam); group 24's subgroup origin is unexplained
# and RFC 8247 demotes it to SHOULD NOT; ESP NULL gives no confidentiality at all.
WEAK_ENCRYPTIONS: frozenset[int] = frozenset({EncrId.DES_3DES, EncrId.NULL})
WEAK_PRFS: frozenset[int] = frozenset({PrfId.HMAC_MD5, PrfId.HMAC_SHA1})
WEAK_INTEGRITIES: frozenset[int] = frozenset({IntegId.HMAC_MD5_96, IntegId.HMAC_SHA1_96})
WEAK_DH_GROUPS: frozenset[int] = frozenset(
    {DhId.MODP_768, DhId.MODP_1024, DhId.MODP_1536, DhId.MODP_2048_256}
)
