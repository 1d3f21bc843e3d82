"""What an authentication gives back: the verdict, who gave it, why, and for an
Access-Accept the attributes mode-config and accounting use."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from engine.secret import Secret


@dataclass(frozen=True, slots=True)
class ModeConfigAttributes:
    """From an Access-Accept: what the client is given (RADIUS Framed-* attributes and
    Cisco-AVPair `ipsec:` pairs), and Class, which accounting records must carry back."""

    framed_ip_address: ipaddress.IPv4Address | None = None
    framed_ip_netmask: ipaddress.IPv4Address | None = None
    #: `ipsec:addr-pool=NAME`: the local pool to take the client's address from
    addr_pool: str | None = None
    #: `ipsec:dns-servers=A [B]`
    dns_servers: tuple[ipaddress.IPv4Address, ...] = ()
    #: `ipsec:wins-servers=A [B]`
    wins_servers: tuple[ipaddress.IPv4Address, ...] = ()
    #: `ipsec:default-domain=D`
    default_domain: str | None = None
    #: `ipsec:split-tunnel-list=ACL`
    split_tunnel_list: str | None = None
    #: `ipsec:key-exchange=ike|preshared|...`
    key_exchange: str | None = None
    #: `ipsec:tunnel-password=K` (a group's pre-shared key, from group authorization)
    tunnel_password: Secret | None = field(default=None, repr=False)
    session_timeout: int | None = None
    idle_timeout: int | None = None
    #: Class attributes, in order (RFC 2865 5.25: sent back in accounting)
    classes: tuple[bytes, ...] = ()
    #: the other `ipsec:NAME=VALUE` pairs, as received (tunnel-password never among them)
    avpairs: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        return self == NO_ATTRIBUTES


NO_ATTRIBUTES = ModeConfigAttributes()


@dataclass(frozen=True, slots=True)
class AuthResult:
    """`ok`: the user is authenticated. `error`: the method could not answer (no server
    reachable, an unknown local user): on IOS the next method of the list is tried only
    then, never after a reject. `method`: "local", "local-case", "none" or
    "group:NAME". `reason` names no password."""

    ok: bool
    method: str
    reason: str
    attributes: ModeConfigAttributes = NO_ATTRIBUTES
    error: bool = False
    #: the RADIUS server that answered, host:port
    server: str | None = None
