"""Crypto sessions as IOS shows them, built from the engine's events.

A crypto session is everything shared with one peer (address and port, in its
fvrf/ivrf): its IKE SAs (two during a rekey) and its IPsec flows. A flow is one
pair of traffic selectors; the child SAs that carry it come and go with rekeys,
so a flow's counters are those of its retired child SAs plus its live ones and
never fall back. Records go to the store; status transitions go to listeners
(syslog, accounting) as `SessionTransition` events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from engine.config.compile import CompiledConfig, PeerMeta
from engine.events import (
    ZERO,
    ChildAlgorithms,
    ChildSaDeleted,
    ChildSaInstalled,
    Counters,
    DownReason,
    IkeAlgorithms,
    IkeSaAbandoned,
    IkeSaDown,
    IkeSaNegotiating,
    IkeSaUp,
)
from engine.store import FLOWS, IKE_SAS, SESSIONS, Store, history_key


class SessionStatus(StrEnum):
    UP_ACTIVE = "UP-ACTIVE"
    UP_IDLE = "UP-IDLE"
    UP_NO_IKE = "UP-NO-IKE"
    DOWN_NEGOTIATING = "DOWN-NEGOTIATING"
    DOWN = "DOWN"

    @property
    def is_up(self) -> bool:
        return self.value.startswith("UP")


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

    @property
    def connid(self) -> int | None:
        return self.ike_sa_ids[-1] if self.ike_sa_ids else None


@dataclass(frozen=True, slots=True)
class SessionTransition:
    """A session changed status; syslog and accounting act on these."""

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


@dataclass
class _Session:
    session_id: str
    peer_name: str
    remote_ip: str
    remote_port: int
    fvrf: str
    ivrf: str
    static: bool = False
    local: tuple[str, int] = ("", 0)
    phase1_id: str = ""
    ike: dict[int, IkeSaRecord] = field(default_factory=dict)
    flows: dict[str, FlowRecord] = field(default_factory=dict)
    retired: Counters = ZERO
    status: SessionStatus = SessionStatus.DOWN
    up_since: float | None = None
    down_reason: str = ""


def session_key(remote_ip: str, remote_port: int, fvrf: str, ivrf: str) -> str:
    key = f"{remote_ip}:{remote_port}"
    if fvrf:
        key += f" fvrf={fvrf}"
    if ivrf:
        key += f" ivrf={ivrf}"
    return key


class SessionModel:
    """Listens to IKE events, keeps sessions in the store, reports transitions."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.config: CompiledConfig | None = None
        self.listeners: list[Callable[[SessionTransition], None]] = []
        self._sessions: dict[str, _Session] = {}
        self._by_ike: dict[int, str] = {}
        self._by_child: dict[int, tuple[str, str]] = {}
        self._children_ts: dict[int, str] = {}

    # ------------------------------------------------------------------ config
    def apply_config(self, config: CompiledConfig) -> None:
        """Static peers get a session (DOWN until up); descriptions follow the file."""
        self.config = config
        now = self.clock()
        wanted = {m.peer_name: m for m in config.meta.values() if m.initiate and m.remote}
        for session in list(self._sessions.values()):
            if (
                session.static
                and session.peer_name not in wanted
                and not session.ike
                and not session.flows
            ):
                self._drop(session)
        for meta in wanted.values():
            if not any(s.peer_name == meta.peer_name for s in self._sessions.values()):
                policy = next(p for p in config.ike.peers if p.name == meta.peer_name)
                assert meta.remote is not None
                key = session_key(meta.remote, policy.remote_ike_port, meta.fvrf, meta.ivrf)
                self._sessions[key] = _Session(
                    key,
                    meta.peer_name,
                    meta.remote,
                    policy.remote_ike_port,
                    meta.fvrf,
                    meta.ivrf,
                    static=True,
                )
        with self.store.batch():
            for session in self._sessions.values():
                self._publish(session, now)

    def _meta(self, peer_name: str) -> PeerMeta | None:
        return self.config.meta.get(peer_name) if self.config else None

    def _description(self, session: _Session) -> str:
        if self.config is not None:
            by_address = self.config.isakmp_descriptions.get(session.remote_ip)
            if by_address:
                return by_address
        meta = self._meta(session.peer_name)
        return meta.description if meta else ""

    # ------------------------------------------------------------------ events
    def handle(self, event: object) -> None:
        """Engine events carry the event loop's monotonic time; records keep wall-clock
        time (what an operator reads), taken when the event is handled."""
        if isinstance(event, IkeSaNegotiating):
            self._negotiating(event)
        elif isinstance(event, IkeSaUp):
            self._ike_up(event)
        elif isinstance(event, IkeSaDown | IkeSaAbandoned):
            self._ike_gone(event.ike_sa_id, event.reason, self.clock())
        elif isinstance(event, ChildSaInstalled):
            self._child_installed(event)
        elif isinstance(event, ChildSaDeleted):
            self._child_deleted(event)

    def _session_for(
        self,
        ike_sa_id: int,
        peer_name: str,
        remote: tuple[str, int],
        rekeyed_from: int | None = None,
    ) -> _Session:
        if rekeyed_from is not None and rekeyed_from in self._by_ike:
            return self._sessions[self._by_ike[rekeyed_from]]
        if ike_sa_id in self._by_ike:
            return self._sessions[self._by_ike[ike_sa_id]]
        meta = self._meta(peer_name)
        fvrf, ivrf = (meta.fvrf, meta.ivrf) if meta else ("", "")
        for session in self._sessions.values():
            if session.static and session.peer_name == peer_name and session.remote_ip == remote[0]:
                session.remote_port = remote[1]
                return session
        key = session_key(remote[0], remote[1], fvrf, ivrf)
        session = self._sessions.get(key)
        if session is None:
            session = _Session(key, peer_name, remote[0], remote[1], fvrf, ivrf)
            self._sessions[key] = session
        return session

    def _negotiating(self, event: IkeSaNegotiating) -> None:
        session = self._session_for(event.ike_sa_id, event.peer_name, event.remote)
        session.ike[event.ike_sa_id] = IkeSaRecord(
            event.ike_sa_id, session.session_id, event.local, event.remote, "Negotiating", True
        )
        self._by_ike[event.ike_sa_id] = session.session_id
        self._update(session, self.clock())

    def _ike_up(self, event: IkeSaUp) -> None:
        session = self._session_for(
            event.ike_sa_id, event.peer_name, event.remote, event.rekeyed_from
        )
        now = self.clock()
        session.local = event.local
        session.phase1_id = event.remote_id
        session.ike[event.ike_sa_id] = IkeSaRecord(
            event.ike_sa_id,
            session.session_id,
            event.local,
            event.remote,
            "Active",
            event.initiator,
            event.spi_i.hex(),
            event.spi_r.hex(),
            event.algorithms,
            event.local_id,
            event.remote_id,
            event.nat_local or event.nat_remote,
            now,
            now + event.lifetime,
            event.rekeyed_from,
        )
        self._by_ike[event.ike_sa_id] = session.session_id
        self._update(session, self.clock())

    def _ike_gone(self, ike_sa_id: int, reason: DownReason, at: float) -> None:
        session_id = self._by_ike.pop(ike_sa_id, None)
        if session_id is None or session_id not in self._sessions:
            return
        session = self._sessions[session_id]
        session.ike.pop(ike_sa_id, None)
        self.store.remove(IKE_SAS, ike_sa_id)
        if reason not in (DownReason.REKEYED, DownReason.REPLACED):
            session.down_reason = reason.value
        self._update(session, at, reason)

    def _child_installed(self, event: ChildSaInstalled) -> None:
        session = self._session_for(event.ike_sa_id, event.peer_name, event.remote)
        meta = self._meta(event.peer_name)
        ts = event.traffic_selectors
        flow_id = f"{session.session_id} {','.join(ts.local)} {','.join(ts.remote)}"
        flow = session.flows.get(flow_id) or FlowRecord(
            flow_id,
            session.session_id,
            ts.local,
            ts.remote,
            meta.origin if meta else "dynamic crypto map",
        )
        child = ChildRecord(
            event.child_sa_id,
            event.ike_sa_id,
            event.spi_in,
            event.spi_out,
            event.algorithms,
            self.clock(),
            self.clock() + event.lifetime,
            event.lifetime_kb,
            event.udp_encapsulation,
        )
        session.flows[flow_id] = replace(flow, children=(*flow.children, child))
        self._by_child[event.child_sa_id] = (session.session_id, flow_id)
        self._update(session, self.clock())

    def _child_deleted(self, event: ChildSaDeleted) -> None:
        found = self._by_child.pop(event.child_sa_id, None)
        if found is None or found[0] not in self._sessions:
            return
        session = self._sessions[found[0]]
        flow = session.flows.get(found[1])
        if flow is None:
            return
        gone = [c for c in flow.children if c.child_sa_id == event.child_sa_id]
        live = tuple(c for c in flow.children if c.child_sa_id != event.child_sa_id)
        retired = flow.retired
        for child in gone:
            retired = retired + child.counters
        if live:
            session.flows[found[1]] = replace(flow, children=live, retired=retired)
        else:
            # The flow ends; its traffic stays in the session's totals.
            del session.flows[found[1]]
            session.retired = session.retired + retired
            self.store.remove(FLOWS, found[1])
        self._update(session, self.clock(), event.reason)

    def update_counters(self, updates: dict[int, Counters], at: float) -> None:
        """Absolute counters per child SA from the data plane (one call per tick)."""
        touched: dict[str, _Session] = {}
        touched_flows: dict[str, _Session] = {}
        for child_sa_id, counters in updates.items():
            found = self._by_child.get(child_sa_id)
            if found is None or found[0] not in self._sessions:
                continue
            session = self._sessions[found[0]]
            flow = session.flows.get(found[1])
            if flow is None:
                continue
            children = tuple(
                replace(c, counters=counters, last_used=at)
                if c.child_sa_id == child_sa_id and c.counters != counters
                else c
                for c in flow.children
            )
            session.flows[found[1]] = replace(flow, children=children)
            touched[session.session_id] = session
            touched_flows[found[1]] = session
        with self.store.batch():
            for session in touched.values():
                self._publish(session, at)
                totals = self._totals(session)
                self.store.record_sample(
                    session.session_id,
                    at,
                    totals.bytes_in,
                    totals.bytes_out,
                    totals.packets_in,
                    totals.packets_out,
                )
            # Per flow too: the describe page graphs each flow's throughput.
            for flow_id, session in touched_flows.items():
                flow = session.flows.get(flow_id)
                if flow is None:
                    continue
                t = flow.totals
                self.store.record_sample(
                    history_key(FLOWS, flow_id),
                    at,
                    t.bytes_in,
                    t.bytes_out,
                    t.packets_in,
                    t.packets_out,
                )

    # ------------------------------------------------------------------ records
    @staticmethod
    def _status(session: _Session) -> SessionStatus:
        ike_up = any(r.state == "Active" for r in session.ike.values())
        flows_up = any(f.children for f in session.flows.values())
        if ike_up:
            return SessionStatus.UP_ACTIVE if flows_up else SessionStatus.UP_IDLE
        if flows_up:
            return SessionStatus.UP_NO_IKE
        if session.ike:
            return SessionStatus.DOWN_NEGOTIATING
        return SessionStatus.DOWN

    def _totals(self, session: _Session) -> Counters:
        total = session.retired
        for flow in session.flows.values():
            total = total + flow.totals
        return total

    def _update(self, session: _Session, at: float, reason: DownReason | None = None) -> None:
        old = session.status
        new = self._status(session)
        session.status = new
        if new.is_up and not old.is_up:
            session.up_since = at
            session.down_reason = ""
        record = self._publish(session, at)
        if new != old:
            transition = SessionTransition(record, old, new, at, reason)
            for listener in self.listeners:
                listener(transition)
        if not new.is_up and new is not SessionStatus.DOWN_NEGOTIATING and not session.static:
            self._drop(session)
        self.store.flush()

    def _drop(self, session: _Session) -> None:
        self._sessions.pop(session.session_id, None)
        self.store.remove(SESSIONS, session.session_id)
        for flow_id in session.flows:
            self.store.remove(FLOWS, flow_id)
        for ike_sa_id in session.ike:
            self.store.remove(IKE_SAS, ike_sa_id)

    def _publish(self, session: _Session, at: float) -> SessionRecord:
        meta = self._meta(session.peer_name)
        ike_ids = tuple(sorted(session.ike))
        nat = any(r.nat for r in session.ike.values())
        dpd = bool(
            self.config and any(p.dpd for p in self.config.ike.peers if p.name == session.peer_name)
        )
        capabilities = ("D" if dpd else "") + ("N" if nat else "")
        record = SessionRecord(
            session_id=session.session_id,
            peer_name=session.peer_name,
            interface=meta.interface if meta else "",
            remote_ip=session.remote_ip,
            remote_port=session.remote_port,
            local_ip=session.local[0],
            local_port=session.local[1],
            fvrf=session.fvrf,
            ivrf=session.ivrf,
            description=self._description(session),
            phase1_id=session.phase1_id,
            username="",
            status=session.status,
            ike_sa_ids=ike_ids,
            flow_ids=tuple(session.flows),
            capabilities=capabilities,
            origin=meta.origin if meta else "dynamic crypto map",
            totals=self._totals(session),
            up_since=session.up_since,
            changed_at=at,
            down_reason=session.down_reason,
        )
        self.store.put(SESSIONS, session.session_id, record)
        for ike_sa_id, ike in session.ike.items():
            self.store.put(IKE_SAS, ike_sa_id, ike)
        for flow_id, flow in session.flows.items():
            self.store.put(FLOWS, flow_id, flow)
        return record

    def sessions(self) -> list[SessionRecord]:
        return [r for r in self.store.table(SESSIONS).values() if isinstance(r, SessionRecord)]
