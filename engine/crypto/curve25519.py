"""Group 31, Curve25519 (RFC 8031): 32-byte public values and shared secrets."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from engine.crypto.algorithms import DhId
from engine.crypto.dh import DhGroup, DhKeyPair, RandomBytes, draw
from engine.crypto.errors import InvalidPublicValue

_SIZE = 32


class Curve25519Group(DhGroup):
    """The 32 drawn bytes are the private key as-is (X25519 clamps it itself, RFC 7748 5)."""

    __slots__ = ()

    group_id = DhId.CURVE25519
    public_length = _SIZE
    secret_length = _SIZE

    def generate(self, random_bytes: RandomBytes) -> DhKeyPair:
        return _X25519KeyPair(X25519PrivateKey.from_private_bytes(draw(random_bytes, _SIZE)))


class _X25519KeyPair(DhKeyPair):
    __slots__ = ("_key", "public")

    group_id = DhId.CURVE25519

    def __init__(self, key: X25519PrivateKey) -> None:
        self._key = key
        self.public = key.public_key().public_bytes_raw()

    def shared_secret(self, peer_public: bytes) -> bytes:
        if len(peer_public) != _SIZE:
            raise InvalidPublicValue(f"Curve25519 public value is {len(peer_public)} bytes, not 32")
        try:
            return self._key.exchange(X25519PublicKey.from_public_bytes(peer_public))
        except ValueError:
            # cryptography refuses an all-zero result, which RFC 8031 section 2 requires us to.
            raise InvalidPublicValue("Curve25519 shared secret is all zero") from None
