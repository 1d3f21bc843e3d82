"""Shared-key AUTH payload data (RFC 7296 section 2.15)."""

from __future__ import annotations

import hmac

from engine.crypto.prf import Prf

#: The fixed pad that keys the PSK through the PRF (RFC 7296 section 2.15), without a NUL.
KEY_PAD = b"Key Pad for IKEv2"


def psk_auth(
    prf: Prf, psk: bytes, signed_message: bytes, peer_nonce: bytes, sk_p: bytes, id_body: bytes
) -> bytes:
    """AUTH = prf(prf(PSK, "Key Pad for IKEv2"), message | peer nonce | prf(SK_p, ID body)).

    `signed_message` is our first message as sent, `peer_nonce` the other side's Nonce
    data, `sk_p` our SK_pi or SK_pr, and `id_body` our ID payload after its generic
    header (ID type, 3 reserved bytes, identification data).
    """
    maced_id = prf(sk_p, id_body)
    return prf(prf(psk, KEY_PAD), signed_message + peer_nonce + maced_id)


def auth_matches(expected: bytes, received: bytes) -> bool:
    """Constant-time comparison, so the peer cannot time its way to a valid AUTH."""
    return hmac.compare_digest(expected, received)
