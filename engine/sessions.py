"""Crypto sessions as IOS shows them, built from the engine's events.

A crypto session is everything shared with one peer (address and port, in its
fvrf/ivrf): its IKE SAs (two during a rekey) and its IPsec flows. A flow is one
pair of traffic selectors; the child SAs that carry it come and go with rekeys,
so a flow's counters are those of its retired child SAs plus its live ones and
never fall back. Records go to the store; status transitions go to listeners
(syslog, accounting) as `SessionTransition` events.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from engine.config.compile import CompiledConfig, PeerMeta
from engine.events import (
    ZERO,
    ChildSaDeleted,
    ChildSaInstalled,
    Counters,
    CountersSampled,
    DownReason,
    IkeSaAbandoned,
    IkeSaDown,
    IkeSaNegotiating,
    IkeSaUp,
    InterfaceAssigned,
    RemoteAccessGranted,
    SessionTransition,
)
from engine.records import ChildRecord, FlowRecord, IkeSaRecord, SessionRecord, SessionStatus
from engine.store import FLOWS, IKE_SAS, SESSIONS, Store, history_key


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
    #: the keys of `ike` in order, kept sorted as SAs come and go (no sort per record),
    #: and the tuple the session record shows, built again only when they change
    ike_ids: list[int] = field(default_factory=list)
    ike_ids_shown: tuple[int, ...] | None = None
    flows: dict[str, FlowRecord] = field(default_factory=dict)
    #: running totals, retired child SAs and flows included: never summed again
    totals: Counters = ZERO
    #: IKE SAs in state Active, flows with a child SA: the status without a scan
    active_ike: int = 0
    live_flows: int = 0
    #: IKE SAs through a NAT (the N capability)
    nat_ike: int = 0
    status: SessionStatus = SessionStatus.DOWN
    up_since: float | None = None
    down_reason: str = ""
    #: a virtual access (dynamic VTI) it was given; "" for the configuration's interface
    interface: str = ""
    #: an IKEv1 remote-access client: its XAUTH user, address and group
    username: str = ""
    assigned_address: str = ""
    group: str = ""

    @property
    def status_now(self) -> SessionStatus:
        if self.active_ike:
            return SessionStatus.UP_ACTIVE if self.live_flows else SessionStatus.UP_IDLE
        if self.live_flows:
            return SessionStatus.UP_NO_IKE
        if self.ike:
            return SessionStatus.DOWN_NEGOTIATING
        return SessionStatus.DOWN


def session_key(remote_ip: str, remote_port: int, fvrf: str, ivrf: str) -> str:
    key = f"{remote_ip}:{remote_port}"
    if fvrf:
        key += f" fvrf={fvrf}"
    if ivrf:
        key += f" ivrf={ivrf}"
    return key


class SessionModel:
    """Follows IKE and counter events, keeps sessions in the store, publishes transitions.

    Each event costs the same however many IKE SAs and flows its session has: totals
    and status are kept running, and only the records an event changed are written.
    """

    EVENTS = (
        IkeSaNegotiating,
        IkeSaUp,
        IkeSaDown,
        IkeSaAbandoned,
        ChildSaInstalled,
        ChildSaDeleted,
        CountersSampled,
        InterfaceAssigned,
        RemoteAccessGranted,
    )

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float] = time.time,
        publish: Callable[[SessionTransition], object] = lambda transition: None,
    ) -> None:
        """`publish`: where session transitions go (the event bus)."""
        self.store = store
        self.clock = clock
        self.publish = publish
        self.config: CompiledConfig | None = None
        self._sessions: dict[str, _Session] = {}
        self._by_ike: dict[int, str] = {}
        self._by_child: dict[int, tuple[str, str]] = {}
        #: static peer name -> its session (kept while the entry is configured)
        self._static: dict[str, str] = {}
        self._with_dpd: frozenset[str] = frozenset()

    # ------------------------------------------------------------------ config
    def apply_config(self, config: CompiledConfig) -> None:
        """Static peers get a session (DOWN until up); descriptions follow the file."""
        self.config = config
        self._with_dpd = frozenset(p.name for p in config.ike.peers if p.dpd)
        now = self.clock()
        wanted = {m.peer_name: m for m in config.meta.values() if m.initiate and m.remote}
        for session in list(self._sessions.values()):
            if session.static and session.peer_name not in wanted:
                if session.ike or session.flows:
                    session.static = False  # it lives on as a dynamic one until it ends
                else:
                    self._drop(session)
                self._static.pop(session.peer_name, None)
        policies = {p.name: p for p in config.ike.peers}
        for meta in wanted.values():
            if meta.peer_name in self._static:
                continue
            policy = policies[meta.peer_name]
            assert meta.remote is not None
            key = session_key(meta.remote, policy.remote_ike_port, meta.fvrf, meta.ivrf)
            session = self._sessions.get(key)
            if session is None:
                session = _Session(
                    key, meta.peer_name, meta.remote, policy.remote_ike_port, meta.fvrf, meta.ivrf
                )
                self._sessions[key] = session
            session.static = True
            self._static[meta.peer_name] = key
        with self.store.batch():
            for session in self._sessions.values():
                self._put_session(session, now)

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
        elif isinstance(event, CountersSampled):
            self.update_counters(event.counters, self.clock())
        elif isinstance(event, RemoteAccessGranted):
            session = self._sessions.get(self._by_ike.get(event.ike_sa_id, ""))
            if session is not None:
                session.username = event.username
                session.assigned_address = event.address
                session.group = event.group
                self._put_session(session, self.clock())
        elif isinstance(event, InterfaceAssigned):
            session = self._sessions.get(self._by_ike.get(event.ike_sa_id, ""))
            if session is not None and session.interface != event.interface:
                session.interface = event.interface
                self._put_session(session, self.clock())

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
        static = self._sessions.get(self._static.get(peer_name, ""))
        if static is not None and static.remote_ip == remote[0]:
            static.remote_port = remote[1]
            return static
        meta = self._meta(peer_name)
        fvrf, ivrf = (meta.fvrf, meta.ivrf) if meta else ("", "")
        key = session_key(remote[0], remote[1], fvrf, ivrf)
        session = self._sessions.get(key)
        if session is None:
            session = _Session(key, peer_name, remote[0], remote[1], fvrf, ivrf)
            self._sessions[key] = session
        return session

    # -- the records of a session, each written only when it changes ------------------
    def _set_ike(self, session: _Session, record: IkeSaRecord) -> None:
        old = session.ike.get(record.ike_sa_id)
        if old is not None:
            session.active_ike -= old.state == "Active"
            session.nat_ike -= old.nat
        session.active_ike += record.state == "Active"
        session.nat_ike += record.nat
        if old is None:
            bisect.insort(session.ike_ids, record.ike_sa_id)
            session.ike_ids_shown = None
        session.ike[record.ike_sa_id] = record
        self._by_ike[record.ike_sa_id] = session.session_id
        self.store.put(IKE_SAS, record.ike_sa_id, record)

    def _drop_ike(self, session: _Session, ike_sa_id: int) -> None:
        old = session.ike.pop(ike_sa_id, None)
        if old is not None:
            session.active_ike -= old.state == "Active"
            session.nat_ike -= old.nat
            del session.ike_ids[bisect.bisect_left(session.ike_ids, ike_sa_id)]
            session.ike_ids_shown = None
        self.store.remove(IKE_SAS, ike_sa_id)

    def _set_flow(self, session: _Session, flow: FlowRecord) -> None:
        old = session.flows.get(flow.flow_id)
        session.live_flows += bool(flow.children) - (old is not None and bool(old.children))
        session.flows[flow.flow_id] = flow
        self.store.put(FLOWS, flow.flow_id, flow)

    def _drop_flow(self, session: _Session, flow_id: str) -> None:
        old = session.flows.pop(flow_id, None)
        if old is not None:
            session.live_flows -= bool(old.children)
        self.store.remove(FLOWS, flow_id)

    def _negotiating(self, event: IkeSaNegotiating) -> None:
        session = self._session_for(event.ike_sa_id, event.peer_name, event.remote)
        self._set_ike(
            session,
            IkeSaRecord(
                event.ike_sa_id,
                session.session_id,
                event.local,
                event.remote,
                "Negotiating",
                True,
                version=event.version,
            ),
        )
        self._update(session, self.clock())

    def _ike_up(self, event: IkeSaUp) -> None:
        session = self._session_for(
            event.ike_sa_id, event.peer_name, event.remote, event.rekeyed_from
        )
        now = self.clock()
        session.local = event.local
        # where the peer is now: NAT-T moves it from port 500 to its NAT-T port
        session.remote_port = event.remote[1]
        session.phase1_id = event.remote_id
        self._set_ike(
            session,
            IkeSaRecord(
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
                event.version,
                event.mode,
            ),
        )
        self._update(session, now)

    def _ike_gone(self, ike_sa_id: int, reason: DownReason, at: float) -> None:
        session_id = self._by_ike.pop(ike_sa_id, None)
        if session_id is None or session_id not in self._sessions:
            return
        session = self._sessions[session_id]
        self._drop_ike(session, ike_sa_id)
        if reason not in (DownReason.REKEYED, DownReason.REPLACED):
            session.down_reason = reason.value
        self._update(session, at, reason)

    def _child_installed(self, event: ChildSaInstalled) -> None:
        session = self._session_for(event.ike_sa_id, event.peer_name, event.remote)
        meta = self._meta(event.peer_name)
        ts = event.traffic_selectors
        flow_id = f"{session.session_id} {','.join(ts.local)} {','.join(ts.remote)}"
        if ts.protocol:
            flow_id += f" proto {ts.protocol}"
        flow = session.flows.get(flow_id) or FlowRecord(
            flow_id,
            session.session_id,
            ts.local,
            ts.remote,
            meta.origin if meta else "dynamic crypto map",
            protocol=ts.protocol,
        )
        now = self.clock()
        child = ChildRecord(
            event.child_sa_id,
            event.ike_sa_id,
            event.spi_in,
            event.spi_out,
            event.algorithms,
            now,
            now + event.lifetime,
            event.lifetime_kb,
            event.udp_encapsulation,
        )
        self._set_flow(session, replace(flow, children=(*flow.children, child)))
        self._by_child[event.child_sa_id] = (session.session_id, flow_id)
        self._update(session, now)

    def _child_deleted(self, event: ChildSaDeleted) -> None:
        found = self._by_child.pop(event.child_sa_id, None)
        if found is None or found[0] not in self._sessions:
            return
        session = self._sessions[found[0]]
        flow = session.flows.get(found[1])
        if flow is None:
            return
        retired = flow.retired
        live = []
        for child in flow.children:
            if child.child_sa_id == event.child_sa_id:
                retired = retired + child.counters
            else:
                live.append(child)
        if live:
            self._set_flow(session, replace(flow, children=tuple(live), retired=retired))
        else:
            # The flow ends; its traffic stays in the session's running totals.
            self._drop_flow(session, found[1])
        if event.with_ike_sa and self._by_ike.get(event.ike_sa_id) == session.session_id:
            # Its IKE SA's end comes next and makes the one record and transition of
            # both (a clear: UP-ACTIVE to DOWN, not through UP-IDLE; one Stop).
            return
        self._update(session, self.clock(), event.reason)

    def update_counters(self, updates: Mapping[int, Counters], at: float) -> None:
        """Absolute counters per child SA from the data plane (one sample per tick)."""
        touched: dict[str, _Session] = {}
        touched_flows: dict[str, FlowRecord] = {}
        # The samples grouped by flow first: each flow's children are gone through once
        # per sample, not once per child SA of the flow (thousands in one flow from one
        # peer made that quadratic).
        by_flow: dict[tuple[str, str], dict[int, Counters]] = {}
        for child_sa_id, counters in updates.items():
            found = self._by_child.get(child_sa_id)
            if found is not None:
                by_flow.setdefault(found, {})[child_sa_id] = counters
        for (session_id, flow_id), sampled in by_flow.items():
            session = self._sessions.get(session_id)
            if session is None:
                continue
            flow = session.flows.get(flow_id)
            if flow is None:
                continue
            children = []
            changed = False
            for child in flow.children:
                counters = sampled.get(child.child_sa_id)
                if counters is not None and child.counters != counters:
                    session.totals = session.totals + (counters - child.counters)
                    child = replace(child, counters=counters, last_used=at)
                    changed = True
                children.append(child)
            if changed:
                flow = replace(flow, children=tuple(children))
                self._set_flow(session, flow)
            touched[session.session_id] = session
            touched_flows[flow.flow_id] = flow
        with self.store.batch():
            for session in touched.values():
                self._put_session(session, at)
                t = session.totals
                self.store.record_sample(
                    session.session_id, at, t.bytes_in, t.bytes_out, t.packets_in, t.packets_out
                )
            # Per flow too: the describe page graphs each flow's throughput.
            for flow_id, flow in touched_flows.items():
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
    def _update(self, session: _Session, at: float, reason: DownReason | None = None) -> None:
        old = session.status
        new = session.status_now
        session.status = new
        if new.is_up and not old.is_up:
            session.up_since = at
            session.down_reason = ""
        gone = not new.is_up and new is not SessionStatus.DOWN_NEGOTIATING and not session.static
        # A session that goes now is not written first: its removal is the change
        record = self._record(session, at)
        if not gone:
            self.store.put(SESSIONS, session.session_id, record)
        if new != old:
            self.publish(SessionTransition(record, old, new, at, reason))
        if gone:
            self._drop(session)
        self.store.flush()

    def _drop(self, session: _Session) -> None:
        self._sessions.pop(session.session_id, None)
        if self._static.get(session.peer_name) == session.session_id:
            del self._static[session.peer_name]
        self.store.remove(SESSIONS, session.session_id)
        for flow_id in session.flows:
            self.store.remove(FLOWS, flow_id)
        for ike_sa_id in session.ike:
            self.store.remove(IKE_SAS, ike_sa_id)

    def _put_session(self, session: _Session, at: float) -> SessionRecord:
        record = self._record(session, at)
        self.store.put(SESSIONS, session.session_id, record)
        return record

    def _record(self, session: _Session, at: float) -> SessionRecord:
        meta = self._meta(session.peer_name)
        dpd = session.peer_name in self._with_dpd
        capabilities = ("D" if dpd else "") + ("N" if session.nat_ike else "")
        if session.ike_ids_shown is None:
            session.ike_ids_shown = tuple(session.ike_ids)
        return SessionRecord(
            session_id=session.session_id,
            peer_name=session.peer_name,
            interface=session.interface or (meta.interface if meta else ""),
            remote_ip=session.remote_ip,
            remote_port=session.remote_port,
            local_ip=session.local[0],
            local_port=session.local[1],
            fvrf=session.fvrf,
            ivrf=session.ivrf,
            description=self._description(session),
            phase1_id=session.phase1_id,
            username=session.username,
            assigned_address=session.assigned_address,
            group=session.group,
            status=session.status,
            ike_sa_ids=session.ike_ids_shown,
            flow_ids=tuple(session.flows),
            capabilities=capabilities,
            origin=meta.origin if meta else "dynamic crypto map",
            totals=session.totals,
            up_since=session.up_since,
            changed_at=at,
            down_reason=session.down_reason,
        )

    def sessions(self) -> list[SessionRecord]:
        return [r for r in self.store.table(SESSIONS).values() if isinstance(r, SessionRecord)]
