"""The local user database: `username NAME ... password|secret ...` lines."""

from __future__ import annotations

from engine.aaa.ios_hashes import matches
from engine.config.model import LocalUser


def verify_password(user: LocalUser, password: str) -> bool:
    """Whether `password` is the user's, for every stored type (0, 7, 5, 8, 9).

    Constant-time in the password for types 0 and 7; hashed types take the hash's own
    time. A user without a secret, or with a malformed one, matches nothing."""
    if user.secret is None:
        return False
    return matches(user.kind, user.secret.reveal(), password.encode("utf-8"))
