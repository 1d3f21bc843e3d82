"""Diffie-Hellman for the KE payload (RFC 7296 sections 2.10 and 3.4).

Every group sits behind the same two small interfaces, so the exchanges never care
which math is underneath. Private values always come from the caller's
`random_bytes`: the engine stays sans-IO and the tests stay deterministic.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import cache

from engine.crypto.algorithms import WEAK_DH_GROUPS, DhId
from engine.crypto.errors import CryptoError, UnsupportedAlgorithm

RandomBytes = Callable[[int], bytes]

#: Our preference order: the fastest strong group first, the slow MODP groups after the
#: curves, and the weak ones (WEAK_DH_GROUPS) last of all.
SUPPORTED_DH_GROUPS: tuple[int, ...] = (
    DhId.CURVE25519,
    DhId.ECP_256,
    DhId.ECP_384,
    DhId.ECP_521,
    DhId.MODP_2048,
    DhId.MODP_3072,
    DhId.MODP_4096,
    DhId.MODP_2048_256,
    DhId.MODP_1536,
    DhId.MODP_1024,
    DhId.MODP_768,
)
#: what a peer may add unasked (a DH group in an ESP proposal without PFS configured):
#: the supported groups without the weak ones, which must be configured to be used
STRONG_DH_GROUPS: tuple[int, ...] = tuple(g for g in SUPPORTED_DH_GROUPS if g not in WEAK_DH_GROUPS)


class DhKeyPair(ABC):
    """Our half of one exchange: `public` goes into the KE payload, the private value stays."""

    __slots__ = ()

    group_id: int
    public: bytes

    @abstractmethod
    def shared_secret(self, peer_public: bytes) -> bytes:
        """g^ir in its RFC encoding; raises InvalidPublicValue for a value outside the group."""

    def __repr__(self) -> str:
        # Deliberately without the private value.
        return f"{type(self).__name__}(group_id={int(self.group_id)})"


class DhGroup(ABC):
    """One IANA Diffie-Hellman group: fixed-size public values and shared secrets."""

    __slots__ = ()

    group_id: int
    #: size of the KE payload's key exchange data
    public_length: int
    #: size of g^ir as fed to the key derivation
    secret_length: int

    @abstractmethod
    def generate(self, random_bytes: RandomBytes) -> DhKeyPair:
        """A fresh key pair whose private value is drawn from `random_bytes`."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(group_id={int(self.group_id)})"


def draw(random_bytes: RandomBytes, size: int) -> bytes:
    """Call the injected source and insist on the exact size: a short read would weaken a key."""
    data = bytes(random_bytes(size))
    if len(data) != size:
        raise CryptoError(f"random_bytes({size}) returned {len(data)} bytes")
    return data


def dh_group(group_id: int) -> DhGroup:
    """The shared, stateless group object for an IANA group number."""
    try:
        return _groups()[group_id]
    except KeyError:
        raise UnsupportedAlgorithm(f"Diffie-Hellman group {group_id} is not supported") from None


@cache
def _groups() -> dict[int, DhGroup]:
    # Imported here because the implementations subclass the interfaces above.
    from engine.crypto.curve25519 import Curve25519Group
    from engine.crypto.ecp import EcpGroup
    from engine.crypto.modp import PARAMETERS, ModpGroup

    groups: dict[int, DhGroup] = {
        DhId.CURVE25519: Curve25519Group(),
        DhId.ECP_256: EcpGroup(DhId.ECP_256),
        DhId.ECP_384: EcpGroup(DhId.ECP_384),
        DhId.ECP_521: EcpGroup(DhId.ECP_521),
    }
    groups.update({group_id: ModpGroup(group_id) for group_id in PARAMETERS})
    return groups
