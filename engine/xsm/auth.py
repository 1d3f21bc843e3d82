"""Who may talk to the XSM service: access class, HTTP basic logins, the login rate limit.

Checked in that order, as IOS does: a client the access class denies learns nothing
(403 before any credential is read), a client address with too many recent failures is
held off (429) without its password being checked at all, then the credentials.
A password never leaves this module: failures are reported by user name and reason.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from engine.aaa.local_users import verify_password
from engine.config.model import LocalUser
from engine.xsm.settings import Address, XsmSettings

#: on_login_failure(user, address, reason); user is "" when none was given
LoginFailureHook = Callable[[str, str, str], object]

Reason = Literal["malformed credentials", "unknown user", "bad password"]


def client_address(remote: str | None) -> Address | None:
    """The peer address aiohttp reports, as an address (IPv4-mapped IPv6 unwrapped);
    None when there is none to check (a Unix socket) or it does not parse."""
    if not remote:
        return None
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def access_permits(settings: XsmSettings, address: Address | None) -> bool:
    """`ip http access-class`: no list permits everyone; with one, an address it does
    not permit (or no address at all) is refused."""
    if settings.access_class is None:
        return True
    return address is not None and settings.access_class.permits(address)


@dataclass(frozen=True, slots=True)
class Credentials:
    user: str
    password: str

    def __repr__(self) -> str:  # the password is never shown
        return f"Credentials(user={self.user!r})"


class MalformedCredentials(ValueError):
    """An Authorization header that is not HTTP basic, or does not decode."""


def parse_basic(header: str | None) -> Credentials | None:
    """`Authorization: Basic base64(user:password)`; None when absent."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        raise MalformedCredentials("not HTTP basic credentials")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise MalformedCredentials("credentials do not decode") from None
    user, colon, password = decoded.partition(":")
    if not colon or not user:
        raise MalformedCredentials("credentials without a user name")
    return Credentials(user, password)


class LoginLimiter:
    """Per client address: `failures` failed logins within `window` seconds hold that
    address off for `backoff` seconds. A success clears the address's record.

    Bounded: at most `max_addresses` addresses are tracked, the stalest forgotten first,
    so a spray of source addresses costs memory only up to the bound."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        failures: int = 5,
        window: float = 60.0,
        backoff: float = 60.0,
        max_addresses: int = 10_000,
    ) -> None:
        self._clock = clock
        self.failures = failures
        self.window = window
        self.backoff = backoff
        self._max = max_addresses
        self._recent: dict[str, deque[float]] = {}
        self._held_until: dict[str, float] = {}

    def __len__(self) -> int:
        """Addresses with recent failures on record."""
        return len(self._recent)

    def retry_after(self, address: str) -> float | None:
        """Seconds until `address` may try again, or None when it may now."""
        until = self._held_until.get(address)
        if until is None:
            return None
        left = until - self._clock()
        if left <= 0:
            del self._held_until[address]
            return None
        return left

    def failed(self, address: str) -> None:
        now = self._clock()
        recent = self._recent.pop(address, None)
        if recent is None:
            recent = deque()
            if len(self._recent) >= self._max:
                del self._recent[next(iter(self._recent))]
        recent.append(now)
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        self._recent[address] = recent  # re-inserted: most recently failed last
        if len(recent) >= self.failures:
            if len(self._held_until) >= self._max:
                del self._held_until[next(iter(self._held_until))]
            self._held_until[address] = now + self.backoff
            recent.clear()

    def succeeded(self, address: str) -> None:
        self._recent.pop(address, None)


async def check_login(
    settings: XsmSettings, credentials: Credentials
) -> tuple[LocalUser | None, Reason | None]:
    """The user the credentials name if the password is theirs, else why not.

    Hashed secrets (types 5, 8, 9) cost milliseconds of CPU, so the check runs off the
    event loop's thread: a login never stalls the gateway."""
    user = settings.user(credentials.user)
    if user is None:
        return None, "unknown user"
    loop = asyncio.get_running_loop()
    if await loop.run_in_executor(None, verify_password, user, credentials.password):
        return user, None
    return None, "bad password"
