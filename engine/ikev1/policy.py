"""The IKEv1 side of the typed policy: what `crypto isakmp policy`, `crypto isakmp key`,
`crypto keyring`, `crypto isakmp profile` and `crypto isakmp client configuration group`
compile to. Peers themselves are `engine.ike.policy.PeerPolicy` with `ike_version=1`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from engine.ike.policy import DpdPolicy, EncryptionChoice, Identity, IPNetwork
from engine.secret import Secret


@dataclass(frozen=True, slots=True)
class IsakmpProposal:
    """One `crypto isakmp policy N` (phase 1 transform)."""

    priority: int
    encryption: EncryptionChoice
    #: Phase1Hash value
    hash_id: int
    group: int
    lifetime: float = 86400.0
    #: only pre-shared keys are negotiated (with or without XAUTH)
    authentication: str = "pre-share"


@dataclass(frozen=True, slots=True)
class PresharedKey:
    """`crypto isakmp key` or a keyring's `pre-shared-key`: by address or by hostname."""

    key: Secret
    network: IPNetwork | None = None
    hostname: str = ""
    #: the keyring it belongs to ("" for the global `crypto isakmp key`)
    keyring: str = ""
    #: `no-xauth`: peers using this key are not asked for XAUTH
    no_xauth: bool = False


@dataclass(frozen=True, slots=True)
class ClientGroupPolicy:
    """`crypto isakmp client configuration group NAME`: the key of the group (its ID_KEY_ID
    in aggressive mode) and what mode-config gives its clients."""

    name: str
    key: Secret | None = None
    pool: str = ""
    dns: tuple[ipaddress.IPv4Address, ...] = ()
    wins: tuple[ipaddress.IPv4Address, ...] = ()
    domain: str = ""
    split_networks: tuple[ipaddress.IPv4Network, ...] = ()
    save_password: bool = False
    banner: str = ""
    netmask: ipaddress.IPv4Address | None = None
    max_users: int | None = None


@dataclass(frozen=True, slots=True)
class RemoteAccessPolicy:
    """XAUTH and mode-config of a peer (its ISAKMP profile, or its crypto map's
    `client authentication list` / `client configuration address`)."""

    #: `client authentication list L`: XAUTH against method list L ("" = no XAUTH)
    xauth_list: str = ""
    #: `isakmp authorization list L`: where group attributes come from
    authorization_list: str = ""
    #: "respond" (answer the client's request), "initiate" (push), "" (no mode-config)
    config_mode: str = ""
    #: groups the profile matches (`match identity group`): any group when empty
    groups: tuple[str, ...] = ()
    #: `reverse-route`: a route to each client's assigned address
    reverse_route: bool = False


@dataclass(frozen=True, slots=True)
class IdentityMatch:
    """`match identity address|group|host|host domain|user` of an ISAKMP profile."""

    addresses: tuple[IPNetwork, ...] = ()
    groups: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    host_domains: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.addresses or self.groups or self.hosts or self.host_domains or self.users)

    def matches(self, kind: str, value: str, remote_ip: str) -> bool:
        """Whether a phase 1 identity (kind: address/fqdn/user-fqdn/key-id) matches."""
        if self.empty:
            return True
        if kind == "key-id" and value in self.groups:
            return True
        if kind == "fqdn":
            lowered = value.lower()
            if lowered in (h.lower() for h in self.hosts):
                return True
            if any(lowered.endswith(d.lower().lstrip(".")) for d in self.host_domains):
                return True
        if kind == "user-fqdn" and value in self.users:
            return True
        try:
            address = ipaddress.ip_address(value if kind == "address" else remote_ip)
        except ValueError:
            return False
        return kind == "address" and any(address in net for net in self.addresses)


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """Our side as a remote-access client: the XAUTH user we answer with, and whether we
    ask the gateway for an address (mode-config) and use it as our traffic selector."""

    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    request_address: bool = True


@dataclass(frozen=True, slots=True)
class Ikev1PeerSettings:
    """What a peer negotiates over IKEv1 beyond `PeerPolicy`'s common fields."""

    profile: str = ""
    match: IdentityMatch = field(default_factory=IdentityMatch)
    #: keyrings the profile restricts keys to (empty: every key)
    keyrings: tuple[str, ...] = ()
    #: `initiate mode aggressive` (our ID then goes in the clear)
    aggressive: bool = False
    remote_access: RemoteAccessPolicy | None = None
    self_identity: Identity | None = None
    #: set when we are the remote-access client of this peer
    client: ClientCredentials | None = None


@dataclass(frozen=True, slots=True)
class IsakmpSettings:
    """The gateway-wide IKEv1 policy."""

    proposals: tuple[IsakmpProposal, ...] = ()
    keys: tuple[PresharedKey, ...] = ()
    groups: tuple[ClientGroupPolicy, ...] = ()
    #: `crypto isakmp keepalive`: DPD for every IKEv1 peer without its own
    dpd: DpdPolicy | None = None
    #: `crypto isakmp aggressive-mode disable`
    aggressive_disabled: bool = False
    #: `crypto isakmp identity hostname`: send our FQDN rather than our address
    identity_hostname: str = ""
    #: `crypto isakmp nat keepalive N`
    nat_keepalive: float | None = None

    def group(self, name: str) -> ClientGroupPolicy | None:
        for group in self.groups:
            if group.name == name:
                return group
        return None

    def key_for_address(
        self, address: ipaddress.IPv4Address | ipaddress.IPv6Address, keyrings: tuple[str, ...] = ()
    ) -> PresharedKey | None:
        """The most specific address key covering `address` (IOS picks the longest mask)."""
        best: PresharedKey | None = None
        for key in self.keys:
            if key.network is None or address.version != key.network.version:
                continue
            if keyrings and key.keyring not in keyrings:
                continue
            if address in key.network and (
                best is None
                or best.network is None
                or key.network.prefixlen > best.network.prefixlen
            ):
                best = key
        return best

    def key_for_hostname(
        self, hostname: str, keyrings: tuple[str, ...] = ()
    ) -> PresharedKey | None:
        for key in self.keys:
            same = key.hostname and key.hostname.lower() == hostname.lower()
            if same and (not keyrings or key.keyring in keyrings):
                return key
        return None


@dataclass(frozen=True, slots=True)
class ClientGrant:
    """What the service decided for a remote-access client: who it is, the address it
    gets and the attributes mode-config hands it (from its group, RADIUS or the pool)."""

    username: str = ""
    address: ipaddress.IPv4Address | None = None
    netmask: ipaddress.IPv4Address | None = None
    dns: tuple[ipaddress.IPv4Address, ...] = ()
    wins: tuple[ipaddress.IPv4Address, ...] = ()
    domain: str = ""
    split_networks: tuple[ipaddress.IPv4Network, ...] = ()
    save_password: bool = False
    banner: str = ""
