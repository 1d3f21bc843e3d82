"""Group 14, the 2048-bit MODP group (RFC 3526 section 3).

cryptography 50 deprecated its finite-field DH and may remove it. While it imports,
OpenSSL does the exponentiations (about 8x faster than Python's `pow()`); otherwise,
or when a caller forces it with `ModpGroup(use_ffdh=False)`, `pow()` does. Both paths
give the same bytes for the same random input.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

from engine.crypto.algorithms import DhId
from engine.crypto.dh import DhGroup, DhKeyPair, RandomBytes, draw
from engine.crypto.errors import CryptoError, InvalidPublicValue

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import dh

P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
    16,
)
G = 2
SIZE = 256
#: 256-bit private exponents: twice the group's ~112-bit strength (RFC 3526 section 8).
EXPONENT_SIZE = 32

_FFDH_MODULE = "cryptography.hazmat.primitives.asymmetric.dh"


class _Ffdh:
    """The few parts of cryptography's FFDH API we use, fetched once with its warning muted."""

    __slots__ = ("_generator", "_parameters", "_private_numbers", "_public_numbers")

    def __init__(self, module: ModuleType) -> None:
        # The deprecation warning fires on attribute access, so calls below stay quiet.
        self._private_numbers: type[dh.DHPrivateNumbers] = module.DHPrivateNumbers
        self._public_numbers: type[dh.DHPublicNumbers] = module.DHPublicNumbers
        self._parameters: dh.DHParameterNumbers = module.DHParameterNumbers(P, G)
        self._generator = self._public_numbers(G, self._parameters).public_key()

    def private_key(self, x: int) -> tuple[dh.DHPrivateKey, bytes]:
        """The OpenSSL key for exponent x, and g^x as KE data.

        DHPrivateNumbers insists on y = g^x as well; OpenSSL's exchange() only uses x,
        so a placeholder y lets it compute g^x as the "shared secret" with g.
        """
        try:
            probe = self._private_numbers(x, self._public_numbers(G, self._parameters))
            public = probe.private_key().exchange(self._generator).rjust(SIZE, b"\x00")
        except ValueError:  # a backend that checks y against x: do it the slow way
            public = pow(G, x, P).to_bytes(SIZE, "big")
        y = self._public_numbers(int.from_bytes(public, "big"), self._parameters)
        return self._private_numbers(x, y).private_key(), public

    def exchange(self, key: dh.DHPrivateKey, peer_y: int) -> bytes:
        peer = self._public_numbers(peer_y, self._parameters).public_key()
        return key.exchange(peer).rjust(SIZE, b"\x00")


def _load_ffdh() -> _Ffdh | None:
    """cryptography's finite-field DH if this installation still has a working one."""
    try:
        from cryptography.utils import CryptographyDeprecationWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return _Ffdh(importlib.import_module(_FFDH_MODULE))
    except (ImportError, AttributeError, TypeError, ValueError):
        return None


_FFDH = _load_ffdh()
#: whether `ModpGroup()` uses OpenSSL by default
FFDH_AVAILABLE = _FFDH is not None


class ModpGroup(DhGroup):
    """Group 14. `use_ffdh`: None = OpenSSL when available, False = force `pow()`.

    `exponent_size` is the number of random bytes per private exponent (default 32).
    """

    __slots__ = ("_exponent_size", "_ffdh")

    group_id = DhId.MODP_2048
    public_length = SIZE
    secret_length = SIZE

    def __init__(self, *, use_ffdh: bool | None = None, exponent_size: int = EXPONENT_SIZE) -> None:
        if use_ffdh and _FFDH is None:
            raise CryptoError("cryptography's finite-field DH is not available")
        if not EXPONENT_SIZE <= exponent_size <= SIZE:
            raise CryptoError(f"MODP exponent size {exponent_size} outside 32..256 bytes")
        self._ffdh = None if use_ffdh is False else _FFDH
        self._exponent_size = exponent_size

    @property
    def uses_ffdh(self) -> bool:
        return self._ffdh is not None

    def generate(self, random_bytes: RandomBytes) -> DhKeyPair:
        x = 0
        while x < 2:  # 0 and 1 would give the trivial public values 1 and g
            x = int.from_bytes(draw(random_bytes, self._exponent_size), "big")
        if self._ffdh is None:
            return _PowKeyPair(x)
        return _FfdhKeyPair(self._ffdh, x)


def _peer_value(peer_public: bytes) -> int:
    """RFC 7296 section 3.4 / NIST SP 800-56A: reject values outside 1 < y < p-1."""
    if len(peer_public) != SIZE:
        raise InvalidPublicValue(f"MODP-2048 public value is {len(peer_public)} bytes, not 256")
    y = int.from_bytes(peer_public, "big")
    if not 1 < y < P - 1:
        raise InvalidPublicValue("MODP-2048 public value is not in 1 < y < p-1")
    return y


class _PowKeyPair(DhKeyPair):
    __slots__ = ("_x", "public")

    group_id = DhId.MODP_2048

    def __init__(self, x: int) -> None:
        self._x = x
        self.public = pow(G, x, P).to_bytes(SIZE, "big")

    def shared_secret(self, peer_public: bytes) -> bytes:
        return pow(_peer_value(peer_public), self._x, P).to_bytes(SIZE, "big")


class _FfdhKeyPair(DhKeyPair):
    __slots__ = ("_ffdh", "_key", "public")

    group_id = DhId.MODP_2048

    def __init__(self, ffdh: _Ffdh, x: int) -> None:
        self._ffdh = ffdh
        self._key, self.public = ffdh.private_key(x)

    def shared_secret(self, peer_public: bytes) -> bytes:
        y = _peer_value(peer_public)
        try:
            return self._ffdh.exchange(self._key, y)
        except ValueError:
            raise InvalidPublicValue("MODP-2048 public value refused by OpenSSL") from None
