"""Cryptography shared by IKEv2, IKEv1 and ESP: Diffie-Hellman groups, PRFs, integrity,
ciphers and key material, on `cryptography`.

Everything here is sans-IO: no clock, no global randomness. Randomness is always an
injected `random_bytes(n)` callable, and no key ever appears in a repr. Algorithms are
typed values (`Encryption`, `Integrity`, `Prf`, `DhGroup`) handed from negotiation to the
data plane as they are, never as display strings.
"""

from engine.crypto.algorithms import DhId, EncrId, IntegId, PrfId
from engine.crypto.curve25519 import Curve25519Group
from engine.crypto.dh import (
    STRONG_DH_GROUPS,
    SUPPORTED_DH_GROUPS,
    DhGroup,
    DhKeyPair,
    RandomBytes,
    dh_group,
)
from engine.crypto.ecp import EcpGroup
from engine.crypto.encryption import AeadCipher, Encryption, encryption, encryption_named
from engine.crypto.errors import CryptoError, InvalidPublicValue, UnsupportedAlgorithm
from engine.crypto.integrity import Integrity, integrity, integrity_named
from engine.crypto.keys import (
    ChildKeys,
    IkeKeys,
    derive_child_keys,
    derive_ike_keys,
    derive_rekeyed_ike_keys,
)
from engine.crypto.modp import FFDH_AVAILABLE, ModpGroup
from engine.crypto.prf import Prf, prf

__all__ = [
    "FFDH_AVAILABLE",
    "STRONG_DH_GROUPS",
    "SUPPORTED_DH_GROUPS",
    "AeadCipher",
    "ChildKeys",
    "CryptoError",
    "Curve25519Group",
    "DhGroup",
    "DhId",
    "DhKeyPair",
    "EcpGroup",
    "EncrId",
    "Encryption",
    "IkeKeys",
    "IntegId",
    "Integrity",
    "InvalidPublicValue",
    "ModpGroup",
    "Prf",
    "PrfId",
    "RandomBytes",
    "UnsupportedAlgorithm",
    "derive_child_keys",
    "derive_ike_keys",
    "derive_rekeyed_ike_keys",
    "dh_group",
    "encryption",
    "encryption_named",
    "integrity",
    "integrity_named",
    "prf",
]
