"""Every event the engine publishes, as frozen dataclasses, in one place.

Listeners (the session model, the store, accounting, syslog) subscribe to
these and never reach into an SA's internals. Keys travel only in the child
SA events that the data plane needs, and are hidden from repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from engine.crypto import Encryption, Integrity, encryption_named, integrity_named
from engine.crypto.keys import ChildKeys
from engine.secret import Secret

if TYPE_CHECKING:
    from engine.records import SessionRecord, SessionStatus

Address = tuple[str, int]


class DownReason(StrEnum):
    """Why an IKE or child SA went away; accounting maps these to Acct-Terminate-Cause."""

    PEER_DELETE = "peer delete"
    LOCAL_DELETE = "local delete"
    CLEARED = "cleared by operator"
    DPD_TIMEOUT = "dead peer detected"
    RETRANSMIT_GIVE_UP = "retransmissions exhausted"
    LIFETIME_EXPIRED = "lifetime expired"
    REKEYED = "rekeyed"
    AUTHENTICATION_FAILED = "authentication failed"
    NEGOTIATION_FAILED = "negotiation failed"
    HALF_OPEN_TIMEOUT = "half-open timeout"
    CONFIG_REMOVED = "configuration removed"
    SHUTDOWN = "shutdown"
    REPLACED = "replaced by a new IKE SA"
    INTERNAL_ERROR = "internal error"


@dataclass(frozen=True, slots=True)
class Counters:
    """Traffic of a child SA, flow or session; vici's names where it has one. The data
    plane counts them, the session model sums them: a value type, here for both."""

    bytes_in: int = 0
    packets_in: int = 0
    bytes_out: int = 0
    packets_out: int = 0
    drops_in: int = 0
    drops_out: int = 0

    def __add__(self, other: Counters) -> Counters:
        return Counters(
            self.bytes_in + other.bytes_in,
            self.packets_in + other.packets_in,
            self.bytes_out + other.bytes_out,
            self.packets_out + other.packets_out,
            self.drops_in + other.drops_in,
            self.drops_out + other.drops_out,
        )

    def __sub__(self, other: Counters) -> Counters:
        return Counters(
            self.bytes_in - other.bytes_in,
            self.packets_in - other.packets_in,
            self.bytes_out - other.bytes_out,
            self.packets_out - other.packets_out,
            self.drops_in - other.drops_in,
            self.drops_out - other.drops_out,
        )


ZERO = Counters()


@dataclass(frozen=True, slots=True)
class IkeAlgorithms:
    encryption: str
    prf: str
    integrity: str
    dh_group: int
    #: the names of the fields above that hold a weak algorithm (MD5, SHA-1, 3DES, a
    #: small or RFC 5114 MODP group), for screens to point out
    weak: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChildAlgorithms:
    encryption: str
    integrity: str
    dh_group: int | None
    esn: bool
    #: "tunnel" or "transport", as negotiated
    mode: str = "tunnel"
    #: why the mode differs from what our policy asked ("" when it does not)
    mode_note: str = ""
    #: as IkeAlgorithms.weak (ESP NULL counts as weak too)
    weak: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EspTransforms:
    """The negotiated ESP transforms as the data plane uses them: typed, not by name."""

    encryption: Encryption
    integrity: Integrity | None
    esn: bool = False
    #: ESP transport mode (RFC 4303 section 3.1.1): the IP header stays outside
    transport: bool = False

    def __post_init__(self) -> None:
        if self.encryption.is_aead and self.integrity is not None:
            raise ValueError(f"{self.encryption.name} is an AEAD: it takes no integrity")
        if not self.encryption.is_aead and self.integrity is None:
            raise ValueError(f"{self.encryption.name} needs an integrity algorithm")

    @classmethod
    def named(
        cls, encryption: str, integrity: str, esn: bool = False, *, transport: bool = False
    ) -> EspTransforms:
        """From the names events and screens show (`aes-cbc-128`, `sha256`)."""
        return cls(encryption_named(encryption), integrity_named(integrity), esn, transport)


@dataclass(frozen=True, slots=True)
class IkeSaUp:
    ike_sa_id: int
    peer_name: str
    local: Address
    remote: Address
    spi_i: bytes
    spi_r: bytes
    initiator: bool
    local_id: str
    remote_id: str
    algorithms: IkeAlgorithms
    nat_local: bool
    nat_remote: bool
    lifetime: float
    at: float
    #: set when this SA replaces another one by an IKE rekey
    rekeyed_from: int | None = None
    #: 2 for an IKEv2 SA, 1 for an ISAKMP (IKEv1 phase 1) SA
    version: int = 2
    #: main or aggressive (IKEv1); "" for IKEv2
    mode: str = ""


@dataclass(frozen=True, slots=True)
class ClientAuthorizationRequested:
    """An IKEv1 remote-access client needs checking (XAUTH: its user name and password)
    and an address and attributes (mode-config). The service asks AAA and the pools and
    answers with `authorize_client`; the password never shows in a repr."""

    ike_sa_id: int
    peer_name: str
    remote: Address
    group: str
    username: str
    password: Secret | None = field(repr=False)
    xauth_list: str
    authorization_list: str
    at: float


@dataclass(frozen=True, slots=True)
class RemoteAccessGranted:
    """A remote-access client passed XAUTH (if asked) and was given its address: sessions
    show the user and address, accounting sends them in the Start."""

    ike_sa_id: int
    peer_name: str
    username: str
    group: str
    address: str
    at: float


@dataclass(frozen=True, slots=True)
class IkeSaDown:
    ike_sa_id: int
    peer_name: str
    local: Address
    remote: Address
    reason: DownReason
    at: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class IkeSaNegotiating:
    """We started an IKE SA as initiator (the session shows DOWN-NEGOTIATING)."""

    ike_sa_id: int
    peer_name: str
    local: Address
    remote: Address
    at: float
    #: 2 for IKEv2, 1 for an ISAKMP SA
    version: int = 2


@dataclass(frozen=True, slots=True)
class IkeSaAbandoned:
    """An IKE SA we initiated went away before it was ever up."""

    ike_sa_id: int
    peer_name: str
    local: Address
    remote: Address
    reason: DownReason
    at: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class IkeSaRekeyed:
    old_ike_sa_id: int
    new_ike_sa_id: int
    at: float


@dataclass(frozen=True, slots=True)
class TrafficSelectorSet:
    """Negotiated selectors as network text, with the one IP protocol they share (0: any;
    ports are not carried)."""

    local: tuple[str, ...]
    remote: tuple[str, ...]
    protocol: int = 0


@dataclass(frozen=True, slots=True)
class ChildSaInstalled:
    ike_sa_id: int
    child_sa_id: int
    peer_name: str
    local: Address
    remote: Address
    spi_in: int
    spi_out: int
    #: what was negotiated, by name (sessions, show); `transforms` is the same, typed
    algorithms: ChildAlgorithms
    transforms: EspTransforms
    traffic_selectors: TrafficSelectorSet
    lifetime: float
    lifetime_kb: int | None
    #: whether ESP must travel in UDP (NAT-T, RFC 3948)
    udp_encapsulation: bool
    initiator: bool
    at: float
    keys: ChildKeys = field(repr=False, compare=False)
    #: set when this child replaces another one by a child rekey
    rekeyed_from: int | None = None
    #: the tunnel interface it carries the traffic of (route-based); "" for a crypto map
    interface: str = ""


@dataclass(frozen=True, slots=True)
class InboundSaStaged:
    """The responder of an IKEv1 quick mode sent QM2: the initiator may send on the new
    SA as soon as it reads QM2, before its QM3 reaches us (charon does), so the inbound
    SA is installed now and its outbound one at QM3, as IOS and Libreswan do. Only the
    data plane takes it; `installed` is the ChildSaInstalled that QM3 will publish."""

    installed: ChildSaInstalled


@dataclass(frozen=True, slots=True)
class InterfaceAssigned:
    """A child SA of a virtual template (dynamic VTI) got its virtual-access interface:
    the data plane moves its packets there, sessions show it as their interface."""

    ike_sa_id: int
    child_sa_id: int
    peer_name: str
    remote_ip: str
    interface: str
    at: float


@dataclass(frozen=True, slots=True)
class LineProtocolChanged:
    """A tunnel interface's line protocol went up (its first child SA) or down (its
    last one went): IOS's %LINEPROTO-5-UPDOWN."""

    interface: str
    up: bool
    at: float


@dataclass(frozen=True, slots=True)
class ChildSaRekeyed:
    ike_sa_id: int
    old_child_sa_id: int
    new_child_sa_id: int
    at: float


@dataclass(frozen=True, slots=True)
class ChildSaDeleted:
    ike_sa_id: int
    child_sa_id: int
    peer_name: str
    spi_in: int
    spi_out: int
    reason: DownReason
    at: float
    #: it goes with its IKE SA, whose IkeSaDown (or IkeSaAbandoned) follows in the same
    #: burst: the session model then makes one transition of both (UP-ACTIVE to DOWN,
    #: not through UP-IDLE), one record and one Stop
    with_ike_sa: bool = False


@dataclass(frozen=True, slots=True)
class AuthenticationFailed:
    local: Address
    remote: Address
    peer_name: str
    remote_id: str
    reason: str
    at: float
    #: "IKEv2", "IKEv1" (phase 1), or "XAUTH" (remote_id is then the user name)
    protocol: str = "IKEv2"


@dataclass(frozen=True, slots=True)
class NegotiationFailed:
    local: Address
    remote: Address
    peer_name: str
    reason: str
    at: float
    notify: str = ""
    protocol: str = "IKEv2"


@dataclass(frozen=True, slots=True)
class RetransmitGiveUp:
    ike_sa_id: int
    peer_name: str
    remote: Address
    exchange: str
    tries: int
    at: float


@dataclass(frozen=True, slots=True)
class EngineFault:
    """A defect of ours met while serving one IKE SA: the SA was closed so that no half
    state stays, and every other SA goes on. Never raised to the transport."""

    ike_sa_id: int
    peer_name: str
    remote: Address
    where: str
    error: str
    at: float


IkeEvent = (
    IkeSaUp
    | IkeSaDown
    | IkeSaNegotiating
    | IkeSaAbandoned
    | IkeSaRekeyed
    | ClientAuthorizationRequested
    | RemoteAccessGranted
    | ChildSaInstalled
    | InboundSaStaged
    | ChildSaRekeyed
    | ChildSaDeleted
    | AuthenticationFailed
    | NegotiationFailed
    | RetransmitGiveUp
    | EngineFault
)


@dataclass(frozen=True, slots=True)
class ConfigReloaded:
    """A configuration file was applied; `summary` says what changed, one line each."""

    file: str
    at: float
    summary: tuple[str, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConfigReloadFailed:
    """A file failed validation; the running configuration stays as it was."""

    file: str
    at: float
    errors: tuple[str, ...]


ConfigEvent = ConfigReloaded | ConfigReloadFailed


@dataclass(frozen=True, slots=True)
class CountersSampled:
    """The data plane's counters per child SA: once a second, and for a child SA being
    deleted (`final`) before the session model retires its counters."""

    counters: Mapping[int, Counters]
    at: float
    final: bool = False


@dataclass(frozen=True, slots=True)
class SessionTransition:
    """A session changed status (the session model's event); syslog and accounting
    act on these."""

    record: SessionRecord
    old: SessionStatus | None
    new: SessionStatus
    at: float
    reason: DownReason | None = None

    @property
    def came_up(self) -> bool:
        return self.new.is_up and not (self.old and self.old.is_up)

    @property
    def went_down(self) -> bool:
        return bool(self.old and self.old.is_up) and not self.new.is_up
