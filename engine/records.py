"""What the store keeps of crypto sessions, as IOS shows them: sessions, their IKE SAs,
and their IPsec flows with the child SAs that carry them. Immutable records; the
session model (`engine.sessions`) makes them from the engine's events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.events import ZERO, ChildAlgorithms, Counters, IkeAlgorithms


class SessionStatus(StrEnum):
    UP_ACTIVE = "UP-ACTIVE"
    UP_IDLE = "UP-IDLE"
    UP_NO_IKE = "UP-NO-IKE"
    DOWN_NEGOTIATING = "DOWN-NEGOTIATING"
    DOWN = "DOWN"

    @property
    def is_up(self) -> bool:
        # the member is its own str: `.value` would go through enum's descriptor
        return str.startswith(self, "UP")


@dataclass(frozen=True, slots=True)
class ChildRecord:
    child_sa_id: int
    ike_sa_id: int
    spi_in: int
    spi_out: int
    algorithms: ChildAlgorithms
    created_at: float
    expires_at: float
    lifetime_kb: int | None
    udp_encapsulation: bool
    counters: Counters = ZERO
    last_used: float | None = None


@dataclass(frozen=True, slots=True)
class FlowRecord:
    flow_id: str
    session_id: str
    local_ts: tuple[str, ...]
    remote_ts: tuple[str, ...]
    origin: str
    children: tuple[ChildRecord, ...] = ()
    retired: Counters = ZERO
    #: the IP protocol the selectors are narrowed to (0: any, `permit ip`)
    protocol: int = 0

    @property
    def totals(self) -> Counters:
        total = self.retired
        for child in self.children:
            total = total + child.counters
        return total

    @property
    def active_sas(self) -> int:
        """IOS counts each direction: a child SA pair is two SAs."""
        return 2 * len(self.children)

    @property
    def newest(self) -> ChildRecord | None:
        return max(self.children, key=lambda c: c.created_at, default=None)


@dataclass(frozen=True, slots=True)
class IkeSaRecord:
    ike_sa_id: int
    session_id: str
    local: tuple[str, int]
    remote: tuple[str, int]
    state: str  # "Active" or "Negotiating"
    initiator: bool
    spi_i: str = ""
    spi_r: str = ""
    algorithms: IkeAlgorithms | None = None
    local_id: str = ""
    remote_id: str = ""
    nat: bool = False
    established_at: float | None = None
    expires_at: float | None = None
    rekeyed_from: int | None = None
    #: 2 for IKEv2, 1 for an ISAKMP SA; main or aggressive for IKEv1
    version: int = 2
    mode: str = ""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_id: str
    peer_name: str
    interface: str
    remote_ip: str
    remote_port: int
    local_ip: str
    local_port: int
    fvrf: str
    ivrf: str
    description: str
    phase1_id: str
    username: str
    status: SessionStatus
    ike_sa_ids: tuple[int, ...]
    flow_ids: tuple[str, ...]
    capabilities: str
    origin: str
    totals: Counters
    up_since: float | None
    changed_at: float
    down_reason: str = ""
    #: the address mode-config gave a remote-access client ("" for others)
    assigned_address: str = ""
    #: the client configuration group of an IKEv1 remote-access client
    group: str = ""

    @property
    def connid(self) -> int | None:
        return self.ike_sa_ids[-1] if self.ike_sa_ids else None
