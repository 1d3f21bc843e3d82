"""What the configuration asks of the XSM service, compiled once per config load.

The service is rebuilt from this on every reload: a change of port or TLS files restarts
the listeners, `no xsm` closes every client, a change of users or privilege levels
applies to the next request (and drops streams whose user no longer qualifies).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from engine.config.model import (
    HTTP_MAX_CONNECTIONS,
    HTTP_TIMEOUT_POLICY,
    LocalUser,
)

#: IOS default for both `xsm privilege monitor level` and `xsm privilege configuration level`
DEFAULT_PRIVILEGE = 15
DEFAULT_HTTP_PORT = 80
DEFAULT_HTTPS_PORT = 443
#: IOS defaults of `ip http max-connections` and `ip http timeout-policy`
DEFAULT_MAX_CONNECTIONS = HTTP_MAX_CONNECTIONS
DEFAULT_IDLE_TIMEOUT, DEFAULT_LIFE_TIMEOUT, DEFAULT_MAX_REQUESTS = HTTP_TIMEOUT_POLICY

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ClientRule:
    """One line of the `ip http access-class` list: permit or deny a source network."""

    permit: bool
    source: Network

    def matches(self, address: Address) -> bool:
        return address.version == self.source.version and address in self.source


@dataclass(frozen=True, slots=True)
class AccessClass:
    """`ip http access-class ACL`: first matching line wins; no match is a deny (IOS's
    implicit deny at the end of every list)."""

    name: str
    rules: tuple[ClientRule, ...]

    def permits(self, address: Address) -> bool:
        for rule in self.rules:
            if rule.matches(address):
                return rule.permit
        return False


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The PEM certificate (chain) and private key the secure server presents."""

    certificate: Path
    private_key: Path


@dataclass(frozen=True, slots=True)
class XsmSettings:
    #: `ip http server` (plain HTTP listener)
    http_server: bool = False
    http_port: int = DEFAULT_HTTP_PORT
    #: `ip http secure-server` (TLS listener)
    secure_server: bool = False
    secure_port: int = DEFAULT_HTTPS_PORT
    #: from `ip http secure-trustpoint`; None with a secure server means a self-signed
    #: certificate generated into the state directory, as IOS generates TP-self-signed
    tls: TlsFiles | None = None
    #: `ip http access-class`; None allows every client
    access_class: AccessClass | None = None
    #: `xsm` / `no xsm`; `xsm` turns on both adapters
    enabled: bool = False
    #: `xsm vdm` (VPN data sets) and `xsm edm` (device data sets)
    vdm: bool = False
    edm: bool = False
    #: `xsm history vdm` / `xsm history edm`
    history_vdm: bool = False
    history_edm: bool = False
    monitor_level: int = DEFAULT_PRIVILEGE
    configuration_level: int = DEFAULT_PRIVILEGE
    #: `ip http max-connections N`: connections served at once
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    #: `ip http timeout-policy idle S life S requests N`: a connection idle for S seconds
    #: is closed; life and requests are kept as written (streams outlive them)
    idle_timeout: int = DEFAULT_IDLE_TIMEOUT
    life_timeout: int = DEFAULT_LIFE_TIMEOUT
    max_requests: int = DEFAULT_MAX_REQUESTS
    #: `username ...` lines: who may log in, with their privilege
    users: tuple[LocalUser, ...] = field(default=())

    @property
    def serving(self) -> bool:
        """Whether any listener should be open: XSM on and an HTTP server configured."""
        return self.enabled and (self.http_server or self.secure_server)

    def user(self, name: str) -> LocalUser | None:
        for user in self.users:
            if user.name == name:
                return user
        return None
