"""The MODP Diffie-Hellman groups: 1, 2 (RFC 2409 section 6), 5, 14, 15, 16 (RFC 3526)
and 24 (RFC 5114 section 2.3).

cryptography 50 deprecated its finite-field DH and may remove it. While it imports,
OpenSSL does the exponentiations (about 8x faster than Python's `pow()`); otherwise,
or when a caller forces it with `ModpGroup(use_ffdh=False)`, `pow()` does. Both paths
give the same bytes for the same random input.

Groups 1, 2, 5 and 24 are weak (engine.crypto.algorithms.WEAK_DH_GROUPS) and are here
only for the peers that still offer them. The safe-prime groups need only 1 < y < p-1
from a peer's value; group 24's generator spans a 256-bit subgroup, so a peer's value
must also lie in that subgroup (RFC 6989 section 2.2), and private exponents are drawn
below its order q.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from engine.crypto.algorithms import DhId
from engine.crypto.dh import DhGroup, DhKeyPair, RandomBytes, draw
from engine.crypto.errors import CryptoError, InvalidPublicValue

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import dh

MODP_768_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A3620FFFFFFFFFFFFFFFF",
    16,
)

MODP_1024_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)

MODP_1536_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF",
    16,
)

MODP_3072_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)

MODP_4096_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
    16,
)

MODP_2048_256_P = int(
    "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00"
    "E00DF8F1D61957D4FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C"
    "209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B"
    "6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76"
    "B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8E"
    "F6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026"
    "C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103"
    "A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597",
    16,
)

MODP_2048_256_G = int(
    "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA125"
    "10DBC15077BE463FFF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62"
    "901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B"
    "777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193"
    "B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0A"
    "DB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915"
    "B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C3"
    "2F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659",
    16,
)

MODP_2048_256_Q = int(
    "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3",
    16,
)

MODP_2048_P = int(
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


@dataclass(frozen=True, slots=True)
class ModpParameters:
    """One MODP group: prime, generator, sizes in bytes, and the subgroup order when the
    generator does not span the safe prime's large subgroup."""

    group_id: DhId
    name: str
    p: int
    g: int
    size: int
    #: random bytes per private exponent: twice the group's strength (RFC 3526 section 8)
    exponent_size: int
    q: int | None = None
    #: whether OpenSSL is the faster default: it checks the parameters of a group it has
    #: no name for on every key, which measured 55-87 ms for groups 1 and 2 (pow(): 1-2 ms)
    prefer_ffdh: bool = True


PARAMETERS: dict[int, ModpParameters] = {
    DhId.MODP_768: ModpParameters(
        DhId.MODP_768, "MODP-768", MODP_768_P, 2, 96, 32, prefer_ffdh=False
    ),
    DhId.MODP_1024: ModpParameters(
        DhId.MODP_1024, "MODP-1024", MODP_1024_P, 2, 128, 32, prefer_ffdh=False
    ),
    DhId.MODP_1536: ModpParameters(DhId.MODP_1536, "MODP-1536", MODP_1536_P, 2, 192, 32),
    DhId.MODP_2048: ModpParameters(DhId.MODP_2048, "MODP-2048", MODP_2048_P, 2, 256, 32),
    DhId.MODP_3072: ModpParameters(DhId.MODP_3072, "MODP-3072", MODP_3072_P, 2, 384, 32),
    # ~150-bit strength (RFC 3526 section 8): 384-bit exponents
    DhId.MODP_4096: ModpParameters(DhId.MODP_4096, "MODP-4096", MODP_4096_P, 2, 512, 48),
    DhId.MODP_2048_256: ModpParameters(
        DhId.MODP_2048_256,
        "MODP-2048/256",
        MODP_2048_256_P,
        MODP_2048_256_G,
        256,
        32,
        MODP_2048_256_Q,
    ),
}

#: group 14, the default and the one the older callers mean
P = MODP_2048_P
G = 2
SIZE = 256
#: 256-bit private exponents: twice the group's ~112-bit strength (RFC 3526 section 8).
EXPONENT_SIZE = 32

_FFDH_MODULE = "cryptography.hazmat.primitives.asymmetric.dh"


class _Ffdh:
    """The few parts of cryptography's FFDH API we use for one group, fetched once with
    its warning muted."""

    __slots__ = ("_generator", "_parameters", "_private_numbers", "_public_numbers", "_size")

    def __init__(self, module: ModuleType, params: ModpParameters) -> None:
        # The deprecation warning fires on attribute access, so calls below stay quiet.
        self._private_numbers: type[dh.DHPrivateNumbers] = module.DHPrivateNumbers
        self._public_numbers: type[dh.DHPublicNumbers] = module.DHPublicNumbers
        self._parameters: dh.DHParameterNumbers = module.DHParameterNumbers(
            params.p, params.g, params.q
        )
        self._generator = self._public_numbers(params.g, self._parameters).public_key()
        self._size = params.size

    def private_key(self, x: int) -> tuple[dh.DHPrivateKey, bytes]:
        """The OpenSSL key for exponent x, and g^x as KE data.

        DHPrivateNumbers insists on y = g^x as well; OpenSSL's exchange() only uses x,
        so a placeholder y lets it compute g^x as the "shared secret" with g.
        """
        params = self._parameters
        try:
            probe = self._private_numbers(x, self._public_numbers(params.g, params))
            public = probe.private_key().exchange(self._generator).rjust(self._size, b"\x00")
        except ValueError:  # a backend that checks y against x: do it the slow way
            public = pow(params.g, x, params.p).to_bytes(self._size, "big")
        y = self._public_numbers(int.from_bytes(public, "big"), params)
        return self._private_numbers(x, y).private_key(), public

    def exchange(self, key: dh.DHPrivateKey, peer_y: int) -> bytes:
        peer = self._public_numbers(peer_y, self._parameters).public_key()
        return key.exchange(peer).rjust(self._size, b"\x00")


def _import_ffdh() -> ModuleType | None:
    try:
        return importlib.import_module(_FFDH_MODULE)
    except ImportError:
        return None


def _load_ffdh(params: ModpParameters = PARAMETERS[DhId.MODP_2048]) -> _Ffdh | None:
    """cryptography's finite-field DH for `params` if this installation still has a
    working one (and its OpenSSL takes the group)."""
    module = _import_ffdh()
    if module is None:
        return None
    try:
        from cryptography.utils import CryptographyDeprecationWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return _Ffdh(module, params)
    except (ImportError, AttributeError, TypeError, ValueError):
        return None


_FFDH = _import_ffdh()
#: whether `ModpGroup()` uses OpenSSL by default
FFDH_AVAILABLE = _FFDH is not None and _load_ffdh() is not None


class ModpGroup(DhGroup):
    """A MODP group, 14 unless told. `use_ffdh`: None = OpenSSL when available (and the
    faster for this group), False = force `pow()`. `exponent_size`: random bytes per
    private exponent (the group's default unless told; group 24 always draws 32, below q)."""

    __slots__ = ("_exponent_size", "_ffdh", "_params", "group_id", "public_length", "secret_length")

    def __init__(
        self,
        group_id: int = DhId.MODP_2048,
        *,
        use_ffdh: bool | None = None,
        exponent_size: int | None = None,
    ) -> None:
        try:
            params = PARAMETERS[group_id]
        except KeyError:
            raise CryptoError(f"Diffie-Hellman group {group_id} is not a MODP group") from None
        size = exponent_size or params.exponent_size
        if not EXPONENT_SIZE <= size <= params.size:
            raise CryptoError(f"MODP exponent size {size} outside 32..{params.size} bytes")
        if params.q is not None and size != params.exponent_size:
            raise CryptoError(f"{params.name} exponents are {params.exponent_size} bytes")
        ffdh = None
        if (use_ffdh or (use_ffdh is None and params.prefer_ffdh)) and _FFDH is not None:
            ffdh = _load_ffdh(params)
        if use_ffdh and ffdh is None:
            raise CryptoError(f"cryptography's finite-field DH is not available for {params.name}")
        self._params = params
        self._ffdh = ffdh
        self._exponent_size = size
        self.group_id = params.group_id
        self.public_length = params.size
        self.secret_length = params.size

    @property
    def uses_ffdh(self) -> bool:
        return self._ffdh is not None

    def generate(self, random_bytes: RandomBytes) -> DhKeyPair:
        params = self._params
        # below 2 would give the trivial public values 1 and g; group 24 needs x < q
        limit = params.q if params.q is not None else params.p - 1
        x = 0
        while not 2 <= x < limit:
            x = int.from_bytes(draw(random_bytes, self._exponent_size), "big")
        if self._ffdh is None:
            return _PowKeyPair(params, x)
        return _FfdhKeyPair(self._ffdh, params, x)


def _peer_value(params: ModpParameters, peer_public: bytes) -> int:
    """RFC 7296 section 3.4 / NIST SP 800-56A: reject values outside 1 < y < p-1, and for
    group 24 values outside the subgroup (RFC 6989 section 2.2)."""
    if len(peer_public) != params.size:
        raise InvalidPublicValue(
            f"{params.name} public value is {len(peer_public)} bytes, not {params.size}"
        )
    y = int.from_bytes(peer_public, "big")
    if not 1 < y < params.p - 1:
        raise InvalidPublicValue(f"{params.name} public value is not in 1 < y < p-1")
    if params.q is not None and pow(y, params.q, params.p) != 1:
        raise InvalidPublicValue(f"{params.name} public value is outside the subgroup")
    return y


class _PowKeyPair(DhKeyPair):
    __slots__ = ("_params", "_x", "group_id", "public")

    def __init__(self, params: ModpParameters, x: int) -> None:
        self._params = params
        self._x = x
        self.group_id = params.group_id
        self.public = pow(params.g, x, params.p).to_bytes(params.size, "big")

    def shared_secret(self, peer_public: bytes) -> bytes:
        params = self._params
        y = _peer_value(params, peer_public)
        return pow(y, self._x, params.p).to_bytes(params.size, "big")


class _FfdhKeyPair(DhKeyPair):
    __slots__ = ("_ffdh", "_key", "_params", "group_id", "public")

    def __init__(self, ffdh: _Ffdh, params: ModpParameters, x: int) -> None:
        self._ffdh = ffdh
        self._params = params
        self.group_id = params.group_id
        self._key, self.public = ffdh.private_key(x)

    def shared_secret(self, peer_public: bytes) -> bytes:
        y = _peer_value(self._params, peer_public)
        try:
            return self._ffdh.exchange(self._key, y)
        except ValueError:
            raise InvalidPublicValue(
                f"{self._params.name} public value refused by OpenSSL"
            ) from None
