"""The typed policy the IKE core negotiates from.

It is shaped after the IOS objects an operator writes: an `ikev2 proposal`
becomes an `IkeProposalPolicy`, a `transform-set` an `EspProposalPolicy`, and a
crypto map entry with its ikev2 profile and keyring peer a `PeerPolicy`.
The configuration parser produces these; tests build them directly.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from engine.crypto.algorithms import DhId, EncrId, IntegId, PrfId
from engine.ike.constants import IdType
from engine.secret import Secret

if TYPE_CHECKING:
    from engine.ikev1.policy import Ikev1PeerSettings, IsakmpSettings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=8192)
def parse_ip(text: str) -> IPAddress:
    """ipaddress.ip_address, cached: the same few peer addresses are parsed per packet."""
    return ipaddress.ip_address(text)


@dataclass(frozen=True, slots=True)
class EncryptionChoice:
    """An encryption transform with its key length, e.g. AES-GCM-16 with 256 bits."""

    encr_id: EncrId
    key_bits: int | None

    @property
    def name(self) -> str:
        if self.encr_id == EncrId.AES_GCM_16:
            return f"aes-gcm-{self.key_bits}"
        if self.encr_id == EncrId.AES_CBC:
            return f"aes-cbc-{self.key_bits}"
        if self.encr_id == EncrId.DES_3DES:
            return "3des"
        if self.encr_id == EncrId.NULL:
            return "null"
        return "chacha20-poly1305"

    @property
    def is_aead(self) -> bool:
        return self.encr_id in (EncrId.AES_GCM_16, EncrId.CHACHA20_POLY1305)


AES_GCM_256 = EncryptionChoice(EncrId.AES_GCM_16, 256)
AES_GCM_128 = EncryptionChoice(EncrId.AES_GCM_16, 128)
AES_CBC_256 = EncryptionChoice(EncrId.AES_CBC, 256)
AES_CBC_128 = EncryptionChoice(EncrId.AES_CBC, 128)
CHACHA20_POLY1305 = EncryptionChoice(EncrId.CHACHA20_POLY1305, None)
TRIPLE_DES = EncryptionChoice(EncrId.DES_3DES, None)
#: ESP only: RFC 7296 section 3.3 forbids ENCR_NULL for IKE
ESP_NULL = EncryptionChoice(EncrId.NULL, None)


@dataclass(frozen=True, slots=True)
class IkeProposalPolicy:
    """`crypto ikev2 proposal`: any combination of the listed algorithms is acceptable."""

    name: str
    encryptions: tuple[EncryptionChoice, ...]
    prfs: tuple[PrfId, ...]
    integrities: tuple[IntegId, ...]
    groups: tuple[DhId | int, ...]

    @property
    def is_aead(self) -> bool:
        return all(e.is_aead for e in self.encryptions)


@dataclass(frozen=True, slots=True)
class EspProposalPolicy:
    """`crypto ipsec transform-set`: one ESP proposal (integrity empty for AEAD)."""

    name: str
    encryptions: tuple[EncryptionChoice, ...]
    integrities: tuple[IntegId, ...] = ()
    esn: bool = False


class IpsecMode(Enum):
    """A transform-set's `mode`: what the child SA's ESP carries (RFC 4301 section 4.1).

    TRANSPORT asks the peer for transport mode and takes tunnel mode if it refuses, as
    IOS `mode transport` does."""

    TUNNEL = "tunnel"
    TRANSPORT = "transport"

    @property
    def wants_transport(self) -> bool:
        return self is not IpsecMode.TUNNEL


class IdentityKind(Enum):
    ADDRESS = "address"
    FQDN = "fqdn"
    EMAIL = "email"
    KEY_ID = "key-id"


@dataclass(frozen=True, slots=True)
class Identity:
    """An IKE identity as `identity local ...` / `match identity remote ...` write it."""

    kind: IdentityKind
    value: str

    @property
    def id_type(self) -> IdType:
        if self.kind is IdentityKind.ADDRESS:
            addr = parse_ip(self.value)
            return IdType.IPV4_ADDR if addr.version == 4 else IdType.IPV6_ADDR
        return {
            IdentityKind.FQDN: IdType.FQDN,
            IdentityKind.EMAIL: IdType.RFC822_ADDR,
            IdentityKind.KEY_ID: IdType.KEY_ID,
        }[self.kind]

    @property
    def data(self) -> bytes:
        if self.kind is IdentityKind.ADDRESS:
            return parse_ip(self.value).packed
        return self.value.encode()

    @classmethod
    def address(cls, value: str | IPAddress) -> Identity:
        return cls(IdentityKind.ADDRESS, str(value))

    @classmethod
    def fqdn(cls, value: str) -> Identity:
        return cls(IdentityKind.FQDN, value)

    @classmethod
    def email(cls, value: str) -> Identity:
        return cls(IdentityKind.EMAIL, value)

    def __str__(self) -> str:
        return self.value


class DpdMode(Enum):
    PERIODIC = "periodic"
    ON_DEMAND = "on-demand"


@dataclass(frozen=True, slots=True)
class DpdPolicy:
    """`dpd INTERVAL RETRY on-demand|periodic`: probe after INTERVAL s of silence,
    retry every RETRY s, declare the peer dead after `retries` unanswered retries."""

    interval: float
    retry_interval: float
    mode: DpdMode = DpdMode.PERIODIC
    retries: int = 5


@dataclass(frozen=True, slots=True)
class PeerPolicy:
    """Everything needed to negotiate with one peer (or, for dynamic entries, any peer).

    `remote_addresses` empty means any address (a dynamic crypto map / remote access).
    """

    name: str
    psk_local: Secret
    psk_remote: Secret
    ike_proposals: tuple[IkeProposalPolicy, ...]
    esp_proposals: tuple[EspProposalPolicy, ...]
    local_ts: tuple[IPNetwork, ...]
    remote_ts: tuple[IPNetwork, ...]
    remote_addresses: tuple[IPNetwork, ...] = ()
    local_identity: Identity | None = None
    remote_identity: Identity | None = None
    pfs_group: int | None = None
    ike_lifetime: float = 86400.0
    child_lifetime: float = 3600.0
    child_lifetime_kb: int | None = None
    dpd: DpdPolicy | None = None
    description: str = ""
    #: IKE port and NAT-T port of the peer when we initiate (the lab uses high ports)
    remote_ike_port: int = 500
    remote_natt_port: int = 4500
    fvrf: str = ""
    ivrf: str = ""
    #: free-form labels from the configuration (crypto map name and sequence ...)
    origin: str = ""
    #: `match address local`: the local addresses this peer may reach us on (empty: any)
    local_addresses: tuple[IPAddress, ...] = ()
    #: the tunnel interface whose traffic this peer's child SAs carry (route-based VPN);
    #: empty for a crypto map, whose selectors pick the traffic
    interface: str = ""
    #: the transform-sets' `mode`: tunnel, or transport (USE_TRANSPORT_MODE)
    mode: IpsecMode = IpsecMode.TUNNEL
    #: the IP protocol the ACL narrows the selectors to (`permit gre ...`: 47; 0: any)
    ts_protocol: int = 0
    #: 1 for a crypto map entry without an IKEv2 profile (ISAKMP), else 2
    ike_version: int = 2
    #: the IKEv1 particulars (ISAKMP profile, XAUTH, mode-config); None for IKEv2 peers
    ikev1: Ikev1PeerSettings | None = None

    def matches_address(self, address: IPAddress) -> bool:
        if not self.remote_addresses:
            return True
        return any(address in net for net in self.remote_addresses)


@dataclass(frozen=True, slots=True)
class RetransmitPolicy:
    """Exponential backoff of requests: timeout * base**n, `tries` sends in all."""

    timeout: float = 2.0
    base: float = 1.8
    tries: int = 5

    def delay(self, attempt: int) -> float:
        return self.timeout * (self.base**attempt)


@dataclass(frozen=True, slots=True)
class IkeConfig:
    """The whole policy of one gateway's IKE core."""

    peers: tuple[PeerPolicy, ...] = ()
    retransmit: RetransmitPolicy = field(default_factory=RetransmitPolicy)
    #: half-open IKE SAs above which IKE_SA_INIT requests must carry a COOKIE
    cookie_threshold: int = 1000
    #: seconds a half-open IKE SA may wait for IKE_AUTH before it is dropped
    half_open_timeout: float = 30.0
    #: seconds before hard expiry at which the side that owns a lifetime rekeys
    rekey_margin: float = 0.1
    #: NAT-T port used locally once NAT is detected (4500 by default)
    natt_port: int = 4500
    ike_port: int = 500
    #: put ESP in UDP even without a NAT (no raw sockets needed: the lab, unprivileged runs)
    force_encapsulation: bool = False
    #: the gateway-wide IKEv1 policy (isakmp policies, keys, client groups)
    isakmp: IsakmpSettings | None = None
    index: PeerIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", PeerIndex(self.peers))

    def peer(self, name: str) -> PeerPolicy:
        return self.index.by_name[name]

    def peers_for(self, address: IPAddress) -> list[PeerPolicy]:
        """Every peer that accepts `address`, in configuration order."""
        return self.index.for_address(address)


class PeerIndex:
    """The peers by name and by the networks they accept: an IKE_SA_INIT or IKE_AUTH
    from one address costs a probe per prefix length in use, not a scan of 100k peers."""

    def __init__(self, peers: tuple[PeerPolicy, ...]) -> None:
        self.by_name: dict[str, PeerPolicy] = {}
        #: (IP version, prefix length) -> network address as an int -> (order, peer)s
        self._networks: dict[tuple[int, int], dict[int, list[tuple[int, PeerPolicy]]]] = {}
        #: peers that accept any address (dynamic entries, remote access)
        self._anywhere: list[tuple[int, PeerPolicy]] = []
        for order, peer in enumerate(peers):
            self.by_name.setdefault(peer.name, peer)
            if not peer.remote_addresses:
                self._anywhere.append((order, peer))
            for net in dict.fromkeys(peer.remote_addresses):
                key = (net.version, net.prefixlen)
                self._networks.setdefault(key, {}).setdefault(int(net.network_address), []).append(
                    (order, peer)
                )

    def for_address(self, address: IPAddress) -> list[PeerPolicy]:
        found = list(self._anywhere)
        value, bits = int(address), address.max_prefixlen
        for (version, prefixlen), networks in self._networks.items():
            if version != address.version:
                continue
            mask = ((1 << bits) - 1) ^ ((1 << (bits - prefixlen)) - 1)
            found += networks.get(value & mask, ())
        found.sort(key=lambda item: item[0])
        peers: list[PeerPolicy] = []
        last = -1
        for order, peer in found:
            if order != last:  # a peer accepting the address through two of its networks
                peers.append(peer)
                last = order
        return peers
