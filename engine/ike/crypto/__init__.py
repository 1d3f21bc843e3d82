"""Cryptography for the IKE engine: Diffie-Hellman, PRFs, ciphers, key derivation.

Everything here is sans-IO: no clock, no global randomness. Randomness is always an
injected `random_bytes(n)` callable, and no key ever appears in a repr.
"""

from engine.ike.crypto.auth import KEY_PAD, auth_matches, psk_auth
from engine.ike.crypto.curve25519 import Curve25519Group
from engine.ike.crypto.dh import SUPPORTED_DH_GROUPS, DhGroup, DhKeyPair, RandomBytes, dh_group
from engine.ike.crypto.ecp import EcpGroup
from engine.ike.crypto.encryption import AeadCipher, Encryption, encryption
from engine.ike.crypto.integrity import Integrity, integrity
from engine.ike.crypto.keys import (
    ChildKeys,
    IkeKeys,
    derive_child_keys,
    derive_ike_keys,
    derive_rekeyed_ike_keys,
)
from engine.ike.crypto.modp import FFDH_AVAILABLE, ModpGroup
from engine.ike.crypto.prf import Prf, prf
from engine.ike.crypto.sk import SkCipher

__all__ = [
    "FFDH_AVAILABLE",
    "KEY_PAD",
    "SUPPORTED_DH_GROUPS",
    "AeadCipher",
    "ChildKeys",
    "Curve25519Group",
    "DhGroup",
    "DhKeyPair",
    "EcpGroup",
    "Encryption",
    "IkeKeys",
    "Integrity",
    "ModpGroup",
    "Prf",
    "RandomBytes",
    "SkCipher",
    "auth_matches",
    "derive_child_keys",
    "derive_ike_keys",
    "derive_rekeyed_ike_keys",
    "dh_group",
    "encryption",
    "integrity",
    "prf",
    "psk_auth",
]
