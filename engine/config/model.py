"""The typed configuration model: one dataclass per IOS object, each knowing its source line.

The parser fills these in; validation resolves references between them; the
compiler turns them into the policy the gateway negotiates from.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from engine.config.diagnostics import Diagnostic, Severity, Source
from engine.crypto.algorithms import IntegId, PrfId
from engine.ike.policy import DpdMode, EncryptionChoice, Identity
from engine.secret import Secret

IPv4 = ipaddress.IPv4Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
NO_SOURCE = Source("<none>", 0)


@dataclass(eq=False)
class Node:
    source: Source = field(default=NO_SOURCE, compare=False, repr=False)


@dataclass(eq=False)
class IsakmpPeer(Node):
    """`crypto isakmp peer address A` with its `description`."""

    address: IPv4 | None = None
    description: str = ""


@dataclass(eq=False)
class Ikev2Proposal(Node):
    name: str = ""
    encryptions: list[EncryptionChoice] = field(default_factory=list)
    integrities: list[IntegId] = field(default_factory=list)
    prfs: list[PrfId] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)


@dataclass(eq=False)
class Ikev2Policy(Node):
    name: str = ""
    proposals: list[tuple[str, Source]] = field(default_factory=list)
    match_fvrf: str | None = None  # "any" or a VRF name
    match_fvrf_source: Source = field(default=NO_SOURCE, compare=False, repr=False)
    match_local: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = field(default_factory=list)


@dataclass(eq=False)
class KeyringPeer(Node):
    name: str = ""
    description: str = ""
    address: Network | None = None
    identity: Identity | None = None
    psk_local: Secret | None = None
    psk_remote: Secret | None = None


@dataclass(eq=False)
class Ikev2Keyring(Node):
    name: str = ""
    peers: list[KeyringPeer] = field(default_factory=list)
    #: `peers` by name, and how many of them that holds: `peer NAME` enters an existing
    #: peer again, as on a router, and scanning 20k peers per `peer` line took minutes
    _by_name: dict[str, KeyringPeer] = field(default_factory=dict, init=False, repr=False)
    _indexed: int = field(default=0, init=False, repr=False)

    def peer(self, name: str, source: Source) -> KeyringPeer:
        """The peer called `name`, added at `source` if there is none yet."""
        if self._indexed != len(self.peers):  # `peers` was edited directly
            self._by_name = {}
            for peer in self.peers:
                self._by_name.setdefault(peer.name, peer)
        found = self._by_name.get(name)
        if found is None:
            found = self._by_name[name] = KeyringPeer(source, name)
            self.peers.append(found)
        self._indexed = len(self.peers)
        return found


@dataclass(eq=False)
class RemoteMatch(Node):
    """`match identity remote address A [MASK] | fqdn [domain] F | email [domain] E`."""

    kind: str = "address"
    value: str = ""
    network: Network | None = None
    domain: bool = False


@dataclass(eq=False)
class Ikev2Profile(Node):
    name: str = ""
    description: str = ""
    match_remote: list[RemoteMatch] = field(default_factory=list)
    match_fvrf: str | None = None
    match_fvrf_source: Source = field(default=NO_SOURCE, compare=False, repr=False)
    local_identity: Identity | None = None
    auth_local: str | None = None
    auth_remote: list[str] = field(default_factory=list)
    keyring: tuple[str, Source] | None = None
    lifetime: int | None = None
    dpd: tuple[int, int, DpdMode] | None = None
    ivrf: str | None = None
    ivrf_source: Source = field(default=NO_SOURCE, compare=False, repr=False)
    accounting: tuple[str, Source] | None = None
    #: `match address local A|interface NAME`: only IKE SAs to these local addresses
    match_local: list[tuple[str, Source]] = field(default_factory=list)
    #: `virtual-template N`: dynamic VTI
    virtual_template: tuple[int, Source] | None = None


@dataclass(eq=False)
class TransformSet(Node):
    name: str = ""
    transforms: list[str] = field(default_factory=list)
    encryption: EncryptionChoice | None = None
    integrity: IntegId | None = None
    #: IOS transforms this gateway cannot negotiate (esp-des, esp-seal, ah-* ...)
    unsupported: list[str] = field(default_factory=list)
    #: `mode tunnel | transport`
    mode: str = "tunnel"
    mode_source: Source = field(default=NO_SOURCE, compare=False, repr=False)

    @property
    def usable(self) -> bool:
        """Negotiable here: an AEAD cipher, or a cipher with a supported integrity."""
        if self.encryption is None:
            return False
        return self.encryption.is_aead or self.integrity is not None


@dataclass(eq=False)
class CryptoMapEntry(Node):
    map_name: str = ""
    seq: int = 0
    dynamic: bool = False  # a `crypto dynamic-map` entry
    dynamic_map: tuple[str, Source] | None = None  # `ipsec-isakmp dynamic NAME`
    description: str = ""
    peers: list[tuple[IPv4, Source]] = field(default_factory=list)
    transform_sets: list[tuple[str, Source]] = field(default_factory=list)
    ikev2_profile: tuple[str, Source] | None = None
    isakmp_profile: tuple[str, Source] | None = None
    pfs_group: int | None = None
    lifetime_seconds: int | None = None
    lifetime_kb: int | None = None
    match_address: tuple[str, Source] | None = None
    reverse_route: bool = False
    reverse_route_remote_peer: bool = False
    #: `reverse-route remote-peer A [gateway]`: the route's next hop, and whether it
    #: goes through A as a gateway
    reverse_route_next_hop: IPv4 | None = None
    reverse_route_gateway: bool = False
    #: `reverse-route static`: the route stays without an SA
    reverse_route_static: bool = False
    reverse_route_tag: int | None = None


#: ACL protocol keywords -> IP protocol numbers (`ip`: any, 0 in a traffic selector)
ACL_PROTOCOLS: dict[str, int] = {
    "ip": 0,
    "icmp": 1,
    "tcp": 6,
    "udp": 17,
    "gre": 47,
    "esp": 50,
    "ahp": 51,
}


@dataclass(eq=False)
class IpsecProfile(Node):
    """`crypto ipsec profile NAME`: what a tunnel interface's child SAs are made of (a
    crypto map entry without peers and ACL: a tunnel interface protects all it routes)."""

    name: str = ""
    description: str = ""
    transform_sets: list[tuple[str, Source]] = field(default_factory=list)
    ikev2_profile: tuple[str, Source] | None = None
    isakmp_profile: tuple[str, Source] | None = None
    pfs_group: int | None = None
    lifetime_seconds: int | None = None
    lifetime_kb: int | None = None
    responder_only: bool = False


@dataclass(eq=False)
class AclEntry(Node):
    action: str = "permit"
    protocol: str = "ip"
    source_net: Network = field(default_factory=lambda: ipaddress.ip_network("0.0.0.0/0"))
    destination_net: Network = field(default_factory=lambda: ipaddress.ip_network("0.0.0.0/0"))

    @property
    def ip_protocol(self) -> int:
        """The protocol as a traffic selector carries it (RFC 7296 3.13.1)."""
        return ACL_PROTOCOLS[self.protocol]

    def text(self, standard: bool = False) -> str:
        """The entry as IOS writes it; a standard list's entries name a source only."""
        if standard:
            return f"{self.action} {acl_host(self.source_net)}"
        return (
            f"{self.action} {self.protocol} {acl_host(self.source_net)} "
            f"{acl_host(self.destination_net)}"
        )


def acl_host(net: Network) -> str:
    if net.prefixlen == 0:
        return "any"
    if net.prefixlen == net.max_prefixlen:
        return f"host {net.network_address}"
    return f"{net.network_address} {net.hostmask}"


@dataclass(eq=False)
class AccessList(Node):
    name: str = ""
    entries: list[AclEntry] = field(default_factory=list)
    #: a standard list (1-99, 1300-1999, `ip access-list standard`): sources only, as a
    #: split-tunnel list names the protected networks; crypto maps need extended lists
    standard: bool = False


@dataclass(eq=False)
class Interface(Node):
    name: str = ""
    description: str = ""
    address: ipaddress.IPv4Interface | None = None
    vrf: str | None = None
    vrf_source: Source = field(default=NO_SOURCE, compare=False, repr=False)
    crypto_map: tuple[str, Source] | None = None
    #: `crypto ipsec client ezvpn NAME [outside]`: this interface reaches the Easy VPN server
    ezvpn: tuple[str, Source] | None = None
    #: `ip unnumbered IFACE`: the interface borrows that one's address
    unnumbered: str | None = None
    #: `ip mtu N`
    mtu: int | None = None
    #: `ip tcp adjust-mss N`: TCP SYNs through the interface carry at most this MSS
    adjust_mss: int | None = None
    #: where `ip mtu` / `ip tcp adjust-mss` were written (the host owns them elsewhere)
    link_settings: list[tuple[str, Source]] = field(default_factory=list)
    shutdown: bool = False
    #: `interface Virtual-TemplateN type tunnel`
    virtual_template: bool = False
    tunnel_source: tuple[str, Source] | None = None
    tunnel_destination: tuple[IPv4, Source] | None = None
    #: `tunnel mode ipsec ipv4` -> "ipsec ipv4"; None: IOS's default, GRE
    tunnel_mode: tuple[str, Source] | None = None
    tunnel_protection: tuple[str, Source] | None = None

    @property
    def is_tunnel(self) -> bool:
        return self.name.lower().startswith("tunnel") or self.virtual_template


@dataclass(eq=False)
class StaticRoute(Node):
    """`ip route [vrf V] PREFIX MASK {INTERFACE [NEXT-HOP] | NEXT-HOP} [DISTANCE] ...`."""

    network: ipaddress.IPv4Network = field(
        default_factory=lambda: ipaddress.IPv4Network("0.0.0.0/0")
    )
    interface: str | None = None
    next_hop: IPv4 | None = None
    vrf: str | None = None
    distance: int = 1
    #: the line as written, for diagnostics
    text: str = ""


@dataclass(eq=False)
class AccountingList(Node):
    """`aaa accounting network LIST start-stop|stop-only [broadcast] group GROUP`."""

    name: str = ""
    mode: str = "start-stop"
    broadcast: bool = False
    group: tuple[str, Source] = ("radius", NO_SOURCE)


@dataclass(eq=False)
class RadiusServer(Node):
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    auth_port: int = 1645
    acct_port: int = 1646
    key: Secret | None = None


@dataclass(eq=False)
class RadiusGroup(Node):
    name: str = ""
    servers: list[RadiusServer] = field(default_factory=list)


@dataclass(eq=False)
class RadiusSettings(Node):
    key: Secret | None = None
    retransmit: int = 3
    timeout: int = 5
    deadtime: int = 0
    vsa_send_accounting: bool = False


@dataclass(eq=False)
class PoolRange(Node):
    """One `ip local pool NAME FIRST [LAST]` line: FIRST to LAST, both included."""

    first: IPv4 = field(default_factory=lambda: ipaddress.IPv4Address(0))
    last: IPv4 = field(default_factory=lambda: ipaddress.IPv4Address(0))

    @property
    def size(self) -> int:
        return int(self.last) - int(self.first) + 1

    def __contains__(self, address: object) -> bool:
        return isinstance(address, ipaddress.IPv4Address) and self.first <= address <= self.last


@dataclass(eq=False)
class LocalPool(Node):
    """`ip local pool NAME ...`: every line with the same name adds a range, as on IOS."""

    name: str = ""
    ranges: list[PoolRange] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(r.size for r in self.ranges)


@dataclass(eq=False)
class LocalUser(Node):
    """`username NAME [privilege N] password [0|7] TEXT | secret [0|5|8|9] TEXT`.

    `secret` is the text as stored: the password itself (kind 0), its type 7 encoding,
    or the type 5/8/9 hash; engine/aaa/local_users.py verifies a password against it."""

    name: str = ""
    privilege: int = 1
    secret: Secret | None = None
    #: 0 (clear), 7 (reversible encoding), 5 (md5-crypt), 8 (PBKDF2-SHA256), 9 (scrypt)
    kind: int = 0
    #: `password` or `secret`, as written (rendered back the same way)
    keyword: str = "secret"


#: a method of a method list: "local" (user names in any case, as IOS matches them),
#: "local-case" (exactly), "none", or "group:NAME" ("group:radius": every
#: `radius-server host`)
METHOD_LOCAL = "local"
METHOD_LOCAL_CASE = "local-case"
METHOD_NONE = "none"
GROUP_PREFIX = "group:"
GROUP_RADIUS = "group:radius"


@dataclass(eq=False)
class MethodList(Node):
    """`aaa authentication login LIST ...` / `aaa authorization network LIST ...`."""

    name: str = ""
    methods: tuple[str, ...] = ()

    @property
    def groups(self) -> tuple[str, ...]:
        """The server groups it names, "radius" for all RADIUS servers."""
        return tuple(
            m.removeprefix(GROUP_PREFIX) for m in self.methods if m.startswith(GROUP_PREFIX)
        )


@dataclass(eq=False)
class ClientGroup(Node):
    """`crypto isakmp client configuration group NAME`: what mode-config hands the
    remote-access clients of that group (IKEv1 group policy)."""

    name: str = ""
    key: Secret | None = None
    pool: tuple[str, Source] | None = None
    dns: list[IPv4] = field(default_factory=list)
    wins: list[IPv4] = field(default_factory=list)
    domain: str | None = None
    #: `acl ACL`: split tunnel, the networks behind the gateway the client tunnels to
    acl: tuple[str, Source] | None = None
    save_password: bool = False
    max_users: int | None = None
    banner: str | None = None
    netmask: IPv4 | None = None


@dataclass(eq=False)
class IsakmpKeyringKey(Node):
    """`pre-shared-key address A [MASK] key K` or `pre-shared-key hostname H key K`."""

    key: Secret | None = None
    address: Network | None = None
    hostname: str | None = None


@dataclass(eq=False)
class IsakmpKeyring(Node):
    """IKEv1 `crypto keyring NAME [vrf X]` (IKEv2's is `crypto ikev2 keyring`)."""

    name: str = ""
    vrf: str | None = None
    vrf_source: Source = field(default=NO_SOURCE, compare=False, repr=False)
    description: str = ""
    keys: list[IsakmpKeyringKey] = field(default_factory=list)
    #: `local-address A|INTERFACE`: only for IKE SAs to that local address
    local_address: tuple[str, Source] | None = None


@dataclass(eq=False)
class LoggingHost(Node):
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    port: int = 514


#: IKEv1 policy encryptions, as `crypto isakmp policy` normalizes them
ISAKMP_ENCRYPTIONS = ("des", "3des", "aes-128", "aes-192", "aes-256")
ISAKMP_HASHES = ("sha", "md5", "sha256", "sha384", "sha512")
ISAKMP_AUTHENTICATIONS = ("pre-share", "rsa-sig", "rsa-encr")
ISAKMP_GROUPS = (1, 2, 5, 14, 15, 16, 19, 20, 21, 24)


@dataclass(eq=False)
class IsakmpPolicy(Node):
    """IKEv1 `crypto isakmp policy N`, with IOS's defaults for what it does not set."""

    priority: int = 0
    #: one of ISAKMP_ENCRYPTIONS ("aes" alone is "aes-128")
    encryption: str = "des"
    authentication: str = "rsa-sig"
    group: int = 1
    hash: str = "sha"
    lifetime: int = 86400
    #: field name -> the line that set it (fields left at IOS's default have none)
    _set_at: dict[str, Source] = field(default_factory=dict, init=False, repr=False)

    def set_at(self, name: str, source: Source) -> None:
        self._set_at[name] = source

    def source_of(self, name: str) -> Source:
        """The line that set field `name`, else the policy's own line."""
        return self._set_at.get(name, self.source)

    def was_set(self, name: str) -> bool:
        """False for a field left at IOS's default."""
        return name in self._set_at


@dataclass(eq=False)
class IsakmpKey(Node):
    """`crypto isakmp key K address A [MASK] [no-xauth]` / `crypto isakmp key K hostname H`
    (the global keys, IOS's default keyring)."""

    key: Secret | None = None
    address: Network | None = None
    hostname: str | None = None
    no_xauth: bool = False


@dataclass(eq=False)
class IdentityMatch(Node):
    """`match identity address A [MASK] [VRF] | group G | host FQDN | host domain D |
    user U | user domain D` of an isakmp profile."""

    #: "address", "group", "host", "host-domain", "user", "user-domain"
    kind: str = "address"
    value: str = ""
    network: Network | None = None
    vrf: str | None = None


@dataclass(eq=False)
class IsakmpProfile(Node):
    name: str = ""
    description: str = ""
    vrf: str | None = None
    matches: list[IdentityMatch] = field(default_factory=list)
    keyrings: list[tuple[str, Source]] = field(default_factory=list)
    #: `self-identity address|fqdn|user-fqdn X`: ("address", "") for the address itself
    self_identity: tuple[str, str] | None = None
    local_address: tuple[str, Source] | None = None
    client_authentication_list: tuple[str, Source] | None = None
    isakmp_authorization_list: tuple[str, Source] | None = None
    #: `client configuration address respond|initiate`
    client_configuration_address: str | None = None
    accounting: tuple[str, Source] | None = None
    #: `keepalive N retry R`
    keepalive: tuple[int, int] | None = None
    #: `initiate mode aggressive`
    initiate_aggressive: bool = False

    @property
    def groups(self) -> list[str]:
        """The `match identity group` names: a remote-access (EzVPN) profile."""
        return [m.value for m in self.matches if m.kind == "group"]


@dataclass(eq=False)
class CryptoMapClient(Node):
    """A crypto map's remote-access settings when no isakmp profile carries them:
    `crypto map NAME client authentication list L`, `... isakmp authorization list L`,
    `... client configuration address respond|initiate`."""

    map_name: str = ""
    authentication_list: tuple[str, Source] | None = None
    authorization_list: tuple[str, Source] | None = None
    configuration_address: tuple[str, Source] | None = None


@dataclass(eq=False)
class EzvpnClient(Node):
    """`crypto ipsec client ezvpn NAME`: this router as an IKEv1 remote-access client
    (Easy VPN remote): aggressive mode with its group name and key, XAUTH with the user
    given, its address from the server's mode-config."""

    name: str = ""
    group: str = ""
    key: Secret | None = None
    peers: list[tuple[IPv4, Source]] = field(default_factory=list)
    mode: str = "client"
    connect: str = "auto"
    username: str = ""
    password: Secret | None = None
    xauth_mode: str = "local"


#: IOS defaults of the HTTP server (`ip http ...`)
HTTP_PORT = 80
HTTPS_PORT = 443
HTTP_MAX_CONNECTIONS = 5
#: `ip http timeout-policy idle 180 life 180 requests 1`
HTTP_TIMEOUT_POLICY = (180, 180, 1)
#: `xsm privilege monitor|configuration level` default
XSM_PRIVILEGE = 15


class _SetAt:
    """Which line set each field; fields left at IOS's default have none."""

    _set_at: dict[str, Source]

    def set_at(self, name: str, source: Source) -> None:
        self._set_at[name] = source

    def source_of(self, name: str) -> Source:
        """The line that set field `name`, else the object's own line."""
        return self._set_at.get(name, self.source)  # type: ignore[attr-defined]

    def was_set(self, name: str) -> bool:
        return name in self._set_at


@dataclass(eq=False)
class IpHttp(_SetAt, Node):
    """`ip http ...`: the HTTP and HTTPS listeners the XSM service answers on."""

    #: `ip http server`
    server: bool = False
    #: `ip http port N`
    port: int = HTTP_PORT
    #: `ip http secure-server`
    secure_server: bool = False
    #: `ip http secure-port N`
    secure_port: int = HTTPS_PORT
    #: `ip http secure-trustpoint NAME`: NAME.pem, or NAME.crt and NAME.key (trustpoint.py)
    trustpoint: str | None = None
    #: `ip http access-class [ipv4] ACL`
    access_class: str | None = None
    #: `ip http authentication local` was written (the only method the service has)
    authentication_local: bool = False
    #: `ip http max-connections N`
    max_connections: int = HTTP_MAX_CONNECTIONS
    #: `ip http timeout-policy idle S life S requests N`
    timeout_policy: tuple[int, int, int] = HTTP_TIMEOUT_POLICY
    _set_at: dict[str, Source] = field(default_factory=dict, init=False, repr=False)


@dataclass(eq=False)
class Xsm(_SetAt, Node):
    """`xsm`, `xsm vdm|edm`, `xsm history vdm|edm`, `xsm privilege ... level N`."""

    #: `xsm` (with both adapters), or `xsm vdm` / `xsm edm` alone (with that one)
    enabled: bool = False
    vdm: bool = False
    edm: bool = False
    history_vdm: bool = False
    history_edm: bool = False
    monitor_level: int = XSM_PRIVILEGE
    configuration_level: int = XSM_PRIVILEGE
    _set_at: dict[str, Source] = field(default_factory=dict, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class FileLayout:
    """How a file ends, which tells a whole file from one caught mid-write."""

    #: the line of `end`; None when the file has none
    end_line: int | None = None
    ends_with_newline: bool = True
    #: lines in the file (0: it is empty)
    lines: int = 0


@dataclass(eq=False)
class Config:
    """One parsed configuration file."""

    file: str = ""
    hostname: str = "Router"
    isakmp_peers: dict[str, IsakmpPeer] = field(default_factory=dict)
    ikev2_proposals: dict[str, Ikev2Proposal] = field(default_factory=dict)
    ikev2_policies: dict[str, Ikev2Policy] = field(default_factory=dict)
    keyrings: dict[str, Ikev2Keyring] = field(default_factory=dict)
    ikev2_profiles: dict[str, Ikev2Profile] = field(default_factory=dict)
    transform_sets: dict[str, TransformSet] = field(default_factory=dict)
    crypto_maps: dict[str, dict[int, CryptoMapEntry]] = field(default_factory=dict)
    dynamic_maps: dict[str, dict[int, CryptoMapEntry]] = field(default_factory=dict)
    crypto_map_accounting: dict[str, tuple[str, Source]] = field(default_factory=dict)
    access_lists: dict[str, AccessList] = field(default_factory=dict)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    ipsec_profiles: dict[str, IpsecProfile] = field(default_factory=dict)
    static_routes: list[StaticRoute] = field(default_factory=list)
    vrfs: dict[str, Source] = field(default_factory=dict)
    aaa_new_model: bool = False
    accounting_lists: dict[str, AccountingList] = field(default_factory=dict)
    accounting_update_minutes: int | None = None
    accounting_update_newinfo: bool = False
    aaa_session_id_common: bool = False
    radius_groups: dict[str, RadiusGroup] = field(default_factory=dict)
    radius_servers: list[RadiusServer] = field(default_factory=list)
    radius: RadiusSettings = field(default_factory=RadiusSettings)
    local_pools: dict[str, LocalPool] = field(default_factory=dict)
    local_users: dict[str, LocalUser] = field(default_factory=dict)
    authentication_lists: dict[str, MethodList] = field(default_factory=dict)
    authorization_lists: dict[str, MethodList] = field(default_factory=dict)
    client_groups: dict[str, ClientGroup] = field(default_factory=dict)
    #: `crypto isakmp client configuration address-pool local NAME`
    client_address_pool: tuple[str, Source] | None = None
    isakmp_keyrings: dict[str, IsakmpKeyring] = field(default_factory=dict)
    crypto_map_clients: dict[str, CryptoMapClient] = field(default_factory=dict)
    logging_hosts: list[LoggingHost] = field(default_factory=list)
    logging_buffered: int | None = None
    logging_trap: int = 6
    isakmp_policies: dict[int, IsakmpPolicy] = field(default_factory=dict)
    isakmp_keys: list[IsakmpKey] = field(default_factory=list)
    isakmp_profiles: dict[str, IsakmpProfile] = field(default_factory=dict)
    #: `crypto isakmp keepalive N [R] [periodic|on-demand]` (IOS: R 2, on-demand)
    isakmp_keepalive: tuple[int, int, DpdMode] | None = None
    ezvpn_clients: dict[str, EzvpnClient] = field(default_factory=dict)
    #: `crypto isakmp nat keepalive N`
    isakmp_nat_keepalive: int | None = None
    #: `crypto isakmp identity address|hostname`
    isakmp_identity: str = "address"
    #: False after `crypto isakmp aggressive-mode disable`
    isakmp_aggressive_mode: bool = True
    isakmp_invalid_spi_recovery: bool = False
    #: `crypto ipsec security-association replay window-size N`
    replay_window: int = 64
    #: `crypto ipsec df-bit clear|set|copy`: the DF bit of the ESP packets we send
    df_bit: str = "copy"
    #: `crypto ipsec fragmentation before-encryption|after-encryption`
    fragmentation: str = "before-encryption"
    #: `ip http ...`
    ip_http: IpHttp = field(default_factory=IpHttp)
    #: `xsm ...`
    xsm: Xsm = field(default_factory=Xsm)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    layout: FileLayout = field(default_factory=FileLayout, repr=False)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    def report(self, source: Source, message: str, severity: Severity = Severity.ERROR) -> None:
        self.diagnostics.append(Diagnostic(source, severity, message))
