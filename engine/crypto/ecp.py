"""Groups 19, 20 and 21: ECDH over NIST P-256, P-384 and P-521 (RFC 5903).

The KE data is x || y and the shared secret is the x coordinate, each padded to the
field size; RFC 5903 section 9 dropped RFC 4753's y coordinate from the secret.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from engine.crypto.algorithms import DhId
from engine.crypto.dh import DhGroup, DhKeyPair, RandomBytes, draw
from engine.crypto.errors import InvalidPublicValue, UnsupportedAlgorithm

_P521_ORDER = "1" + "F" * 65 + "A51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409"

# group -> (curve, field size in bytes, order n of the base point), from SEC 2 / FIPS 186-4 D.1.2.
_CURVES: dict[int, tuple[ec.EllipticCurve, int, int]] = {
    DhId.ECP_256: (
        ec.SECP256R1(),
        32,
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    ),
    DhId.ECP_384: (
        ec.SECP384R1(),
        48,
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    ),
    DhId.ECP_521: (
        ec.SECP521R1(),
        66,
        int(_P521_ORDER, 16),
    ),
}


class EcpGroup(DhGroup):
    """Draws a field-size big-endian integer, masked to the order's bit length, until 1 <= d < n.

    Masking rather than reducing mod n keeps d uniform, and lets an RFC 5903 test
    private key fed through `random_bytes` come out unchanged.
    """

    __slots__ = (
        "_curve",
        "_field_size",
        "_mask",
        "_order",
        "group_id",
        "public_length",
        "secret_length",
    )

    def __init__(self, group_id: int) -> None:
        try:
            curve, field_size, order = _CURVES[group_id]
        except KeyError:
            raise UnsupportedAlgorithm(f"group {group_id} is not an ECP group") from None
        self.group_id = DhId(group_id)
        self.public_length = 2 * field_size
        self.secret_length = field_size
        self._curve = curve
        self._field_size = field_size
        self._order = order
        self._mask = (1 << order.bit_length()) - 1

    def generate(self, random_bytes: RandomBytes) -> DhKeyPair:
        while True:
            d = int.from_bytes(draw(random_bytes, self._field_size), "big") & self._mask
            if 1 <= d < self._order:
                return _EcpKeyPair(self, ec.derive_private_key(d, self._curve))

    def load_public(self, peer_public: bytes) -> ec.EllipticCurvePublicKey:
        """Parse x || y, refusing a wrong length or a point that is not on the curve."""
        if len(peer_public) != self.public_length:
            raise InvalidPublicValue(
                f"ECP group {self.group_id} public value is {len(peer_public)} bytes, "
                f"not {self.public_length}"
            )
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, b"\x04" + peer_public)
        except ValueError:
            raise InvalidPublicValue(f"ECP group {self.group_id}: point not on the curve") from None


class _EcpKeyPair(DhKeyPair):
    __slots__ = ("_group", "_key", "group_id", "public")

    def __init__(self, group: EcpGroup, key: ec.EllipticCurvePrivateKey) -> None:
        self._group = group
        self._key = key
        self.group_id = group.group_id
        # The uncompressed SEC 1 point is 0x04 || x || y with both coordinates padded.
        point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.public = point[1:]

    def shared_secret(self, peer_public: bytes) -> bytes:
        peer = self._group.load_public(peer_public)
        try:
            secret = self._key.exchange(ec.ECDH(), peer)
        except ValueError:
            raise InvalidPublicValue(f"ECP group {self.group_id}: invalid peer point") from None
        return secret.rjust(self._group.secret_length, b"\x00")
