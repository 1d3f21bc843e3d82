"""What the crypto layer raises: our caller's mistakes, and a peer's invalid value.

Not protocol errors: each protocol turns them into its own (IKEv2 answers an invalid
public value with INVALID_SYNTAX; IKEv1 with its own notify).
"""

from __future__ import annotations


class CryptoError(Exception):
    """Something asked of the crypto layer that it cannot do (a bug or a bad config)."""


class UnsupportedAlgorithm(CryptoError):
    """An algorithm or group this implementation does not provide."""


class InvalidPublicValue(Exception):
    """A peer's Diffie-Hellman public value that is not valid for its group."""
