"""IPsec VPN accounting: session transitions in, RADIUS accounting records out.

The accountant follows the session model (`on_transition`), decides from the running
configuration which `aaa accounting network` list applies to a peer, builds Start,
Interim-Update and Stop records (records.py), spools each one durably (spool.py) and
delivers it (streams.py, transport.py), one record at a time per session so that a
Stop never overtakes its Start. An Interim-Update still queued (behind its session's other
records, or for a server that is unreachable) when a newer one of the same session is
made leaves the spool: the newer one, in its place, carries everything it did. Start
and Stop are never merged or dropped. At startup one order holds across sessions too:
what the last run left (with a Stop for each session it died with) is tried before
this run's Accounting-On, and that before this run's records. Every record and its
delivery state is published in the store's ACCOUNTING table (published.py) and every
server's health in SERVERS; `debug crypto isakmp aaa`-style lines go to the logbook
(tracing.py). RADIUS keys stay
in ServerConfig and the packets.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine import syslog
from engine.accounting import records
from engine.accounting.dictionary import StatusType, load_dictionary
from engine.accounting.packets import EncodeError, ensure_encodable
from engine.accounting.plans import ListPlan, profile_names, resolve_key
from engine.accounting.published import (
    AccountingRecord,
    DeliveryState,
    RecordBook,
    acct_session_id,
)
from engine.accounting.records import AcctContext, Attributes, Options
from engine.accounting.servers import ServerConfig, ServerState, Timers
from engine.accounting.spool import Spool, SpoolBusy, SpoolRecord, default_spool_path
from engine.accounting.streams import Stream, Streams
from engine.accounting.tracing import TransportTrace
from engine.accounting.transport import RadiusTransport
from engine.config.compile import CompiledConfig
from engine.config.model import Config
from engine.events import DownReason, SessionTransition
from engine.logbook import Logbook
from engine.records import SessionRecord
from engine.store import ACCOUNTING, SERVERS, SESSIONS, Store

SESSION_COUNTER = "acct-session-id"


@dataclass
class _Open:
    """A session being accounted: from its first SA pair to its last flow."""

    plan: ListPlan
    ctx: AcctContext
    record: SessionRecord
    next_interim: float | None = None
    #: its attributes that stay the same record to record (records.Template)
    parts: records.Template | None = None


class Accountant:
    """Owns the spool, the RADIUS transport and the interim timer."""

    #: Stops made in one loop turn before the rest wait for the next turns
    STOPS_AT_ONCE = 64
    #: records on the wire at once to one server, the most its window (window.py) grows
    #: to: a burst of thousands of sessions would otherwise keep the loop encoding while
    #: the first answers wait unread, and their timers fire into a storm of
    #: retransmissions (duplicates at the server)
    MAX_IN_FLIGHT = 1024

    def __init__(
        self,
        store: Store,
        logbook: Logbook | None = None,
        *,
        spool_path: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        timers: Timers | None = None,
        nas_ip: str | None = None,
        source: str | None = None,
        drain_timeout: float = 5.0,
        keep_acked: int = 1000,
        tick_interval: float = 1.0,
        rng: random.Random | None = None,
        debug: bool = True,
    ) -> None:
        """`timers` overrides the configured radius-server timers (tests, labs);
        `nas_ip` is NAS-IP-Address for Accounting-On/Off and sessions without a local
        address; `source` the address to send from; `drain_timeout` bounds how long
        `stop()` waits for the servers; `debug` (`debug crypto isakmp aaa`) logs each
        record's progress, server deaths are logged regardless."""
        self.store = store
        self.logbook = logbook
        self.debug = debug
        self.spool_path = Path(spool_path) if spool_path is not None else default_spool_path()
        self.clock = clock
        self.timers_override = timers
        self.nas_ip = nas_ip
        self.drain_timeout = drain_timeout
        self.tick_interval = tick_interval
        self.dictionary = load_dictionary()
        self.trace = TransportTrace(self)
        self.transport = RadiusTransport(
            dictionary=self.dictionary,
            clock=clock,
            on_event=self.trace.on_event,
            on_state=self._on_server_state,
            source=source,
            rng=rng,
            window_max=self.MAX_IN_FLIGHT,
        )
        self.transport.on_sent = self.trace.sent
        self.transport.on_acked = self.trace.acked
        self.timers = timers or Timers()
        self.options = Options(nas_ip=nas_ip)
        self.update_seconds: float | None = None
        self.newinfo = False
        self.plans: dict[str, ListPlan] = {}
        self.servers: dict[str, ServerConfig] = {}
        self._peer_lists: dict[str, str] = {}
        self._group_ids: dict[str, str] = {}
        self._spool: Spool | None = None
        self._open: dict[str, _Open] = {}
        self.streams = Streams(self)
        self.book = RecordBook(store, keep_acked=keep_acked, clock=clock, touch=self._touch)
        #: record id -> its attributes' wire form, encoded once when it was made
        self.bodies: dict[int, bytes] = {}
        #: Stops waiting to be made (a mass clear), and how many this loop turn made
        self._stops: deque[tuple[_Open, SessionRecord, float, DownReason | None]] = deque()
        self._made_now = 0
        self._stops_at_once = self.STOPS_AT_ONCE
        self._announced: set[str] = set()
        #: streams left by the last run, tried before the Accounting-On
        self._previous: tuple[Stream, ...] = ()
        #: the Accounting-On streams' `settled`: new streams wait for them
        self._gate: tuple[asyncio.Event, ...] = ()
        self._ticker: asyncio.Task[None] | None = None
        self._commit_scheduled = False
        self._started = False
        #: Accounting-On announced: this run's records go out
        self._ready = False
        self.closed = False

    @property
    def keep_acked(self) -> int:
        """Acknowledged records kept in the store (the record book's limit)."""
        return self.book.keep_acked

    @keep_acked.setter
    def keep_acked(self, count: int) -> None:
        self.book.keep_acked = count

    # ------------------------------------------------------------------ configuration
    def apply_config(self, model: Config, compiled: CompiledConfig) -> None:
        """Lists, servers, timers and interim period from the running configuration.

        Sessions already accounted keep their list until they stop; their next interim
        follows a new period from their start."""
        servers: dict[str, ServerConfig] = {}
        plans: dict[str, ListPlan] = {}
        for acct in model.accounting_lists.values():
            group = acct.group[0]
            if group == "radius":
                configured = list(model.radius_servers)
            else:
                radius_group = model.radius_groups.get(group)
                configured = list(radius_group.servers) if radius_group else []
            resolved: list[ServerConfig] = []
            for server in configured:
                key = resolve_key(server, model)
                if server.address is None or key is None:
                    continue
                config = ServerConfig(str(server.address), server.acct_port, key, server.auth_port)
                if config.name not in {s.name for s in resolved}:
                    resolved.append(config)
                    servers[config.name] = config
            plans[acct.name] = ListPlan(
                acct.name, acct.mode, acct.broadcast, group, tuple(resolved)
            )
        for server in model.radius_servers:
            key = resolve_key(server, model)
            if server.address is not None and key is not None:
                config = ServerConfig(str(server.address), server.acct_port, key, server.auth_port)
                servers.setdefault(config.name, config)
        self.plans = plans
        self.servers = servers
        radius = model.radius
        self.timers = self.timers_override or Timers.from_settings(
            radius.retransmit, radius.timeout, radius.deadtime
        )
        self.options = Options(
            vsa=radius.vsa_send_accounting, nas_ip=self.nas_ip, nas_identifier=model.hostname
        )
        minutes = model.accounting_update_minutes
        self.update_seconds = minutes * 60.0 if minutes else None
        self.newinfo = model.accounting_update_newinfo
        self._peer_lists = {
            name: meta.accounting_list
            for name, meta in compiled.meta.items()
            if meta.accounting_list is not None
        }
        self._group_ids = profile_names(model, compiled)
        for session in self._open.values():
            session.next_interim = self._first_interim(session.ctx.started_at)
        self.transport.forget(servers)
        for server in servers.values():
            self.store.put(SERVERS, server.name, self.transport.state(server))
        for name in [n for n in self.store.table(SERVERS) if n not in servers]:
            self.store.remove(SERVERS, name)
        self._touch()
        if self._ready:
            self._announce(StatusType.ACCOUNTING_ON)
            self.streams.wakeup()

    def plan_for(self, peer_name: str) -> ListPlan | None:
        """The accounting list for a peer: its profile's, else its crypto map's."""
        name = self._peer_lists.get(peer_name)
        plan = self.plans.get(name) if name else None
        return plan if plan is not None and plan.mode != "none" else None

    def _first_interim(self, started_at: float) -> float | None:
        if self.update_seconds is None:
            return None
        elapsed = max(0.0, self.clock() - started_at)
        periods = max(1, math.ceil(elapsed / self.update_seconds))
        due = started_at + periods * self.update_seconds
        return due if due > self.clock() else due + self.update_seconds

    # ------------------------------------------------------------------ lifecycle
    async def start(self, *, announce: bool = True) -> None:
        """Claim the spool (SpoolBusy: another daemon has it, nothing is sent), deliver
        what the last run left in it, first a Stop for each session it died with, and
        with `announce` send Accounting-On.

        Accounting-On tells the servers that every session of this NAS is over, so it
        must not come from a daemon that then fails to start: a composition root with
        steps after this one that can fail passes announce=False and calls
        `announce_on()` last. This run's records wait for it in the spool."""
        if self._started:
            return
        spool = None
        # Without accounting configured the spool is neither made nor claimed: another
        # daemon may own it, and its records could not be sent without keys anyway.
        if self.plans or self._spool is not None:
            spool = self._ensure_spool()
        self._started = True
        self.streams.by_name.clear()
        if spool is not None:
            live = {s.ctx.acct_session_id for s in self._open.values()}
            for record in spool.pending():
                if record.record_id not in self.book:
                    self.book.publish(
                        record,
                        DeliveryState.SPOOLED,
                        attempts=record.attempts,
                        detail="from the spool",
                    )
                self._append(self.streams.get(record.stream, self._gate), record)
            self._stop_left_open(spool, live)
            # sessions of this process opened before start() wait for the Accounting-On
            self._previous = tuple(s for s in self.streams.values() if s.name not in live)
            for stream in self._previous:
                self.streams.run(stream)
        self._ticker = asyncio.create_task(self._tick_loop(), name="accounting interim")
        if announce:
            self.announce_on()

    def announce_on(self) -> None:
        """Accounting-On to each server group in use: the gateway is up. It goes out once
        each stream the last run left has been tried (delivered, or no server took it for
        now), and this run's records each once it has been tried."""
        if not self._started:
            raise RuntimeError("announce_on() before start()")
        if self._ready:
            return
        self._ready = True
        previous = [s.settled for s in self._previous]
        self._previous = ()
        ons = [self.streams.by_name[name] for name in self._announce(StatusType.ACCOUNTING_ON)]
        for stream in ons:  # their delivery has not begun: nothing has awaited since
            stream.after = tuple(e for e in previous if e is not stream.settled)
            stream.settled = asyncio.Event()
        self._gate = tuple(s.settled for s in ons)
        names = {s.name for s in ons}
        for stream in self.streams.values():
            if stream.name not in names and not stream.started:  # held until now
                stream.after = self._gate
            self.streams.run(stream)

    def _stop_left_open(self, spool: Spool, live: set[str]) -> None:
        """A Stop for each session a run that died (SIGKILL, a crash, power) left open,
        with the counters of its latest record, before the Accounting-On: servers would
        otherwise keep it open, or close it on Accounting-On with no usage, unlogged."""
        lost = [s for s in spool.open_sessions() if s.stream not in live]
        for last in lost:
            stop = spool.add(
                stream=last.stream,
                status=StatusType.STOP,
                list_name=last.list_name,
                broadcast=last.broadcast,
                servers=last.servers,
                attributes=records.left_open_stop(last.attributes),
                event_time=last.event_time,
                session_id=last.session_id,
                peer=last.peer,
            )
            self._queue(stop)
        if lost:
            many = len(lost) > 1
            self.log_entry(
                syslog.entry(
                    "RADIUS",
                    4,
                    "ACCT_LEFT_OPEN",
                    f"previous run ended without stopping {len(lost)} session"
                    f"{'s' if many else ''}; Stop sent with {'their' if many else 'its'} "
                    "last counters",
                    at=self.clock(),
                )
            )

    async def stop(self) -> None:
        """Stop open sessions (NAS-Reboot), send Accounting-Off where this run sent
        Accounting-On, wait for the servers up to `drain_timeout`; what is still
        unacknowledged stays in the spool."""
        if self.closed:
            return
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self._make_stops(0)  # every waiting Stop, before those of the shutdown
        self._stops_at_once = 1 << 62  # and these at once
        if self._started:
            now = self.clock()
            for session_id in list(self._open):
                self._close(session_id, self._latest(session_id), now, DownReason.SHUTDOWN)
            for stream in self.streams.values():
                self.streams.run(stream)  # without announce_on(), this run's records were held
            deadline = asyncio.get_running_loop().time() + self.drain_timeout
            await self._drain(deadline)
            self._announce(StatusType.ACCOUNTING_OFF)
            await self._drain(deadline)
        self.closed = True
        await self.streams.close()
        await self.transport.close()
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        self.book.flush()
        self.store.flush()

    async def _drain(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while any(not s.blocked for s in self.streams.values()) and loop.time() < deadline:
            await asyncio.sleep(min(0.02, max(0.0, deadline - loop.time())))

    async def wait_idle(self, timeout: float) -> bool:
        """Whether every record was acknowledged within `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.streams) or self._stops:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def _ensure_spool(self) -> Spool:
        if self._spool is None:
            spool = Spool(self.spool_path, batched=True)
            try:
                spool.claim()
            except SpoolBusy:
                spool.close()
                raise
            self._spool = spool
        self.schedule_commit()
        return self._spool

    def schedule_commit(self) -> None:
        """Commit the spool's writes once per loop iteration (every use of the spool
        goes through `_ensure_spool`, so none is left uncommitted)."""
        if self._commit_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: committed by the next use from one, or by close()
        self._commit_scheduled = True
        loop.call_soon(self._commit)

    @staticmethod
    def _call_soon(callback: Callable[[], None]) -> bool:
        """Run `callback` on the loop's next turn (False: there is no loop)."""
        try:
            asyncio.get_running_loop().call_soon(callback)
        except RuntimeError:
            return False
        return True

    def _commit(self) -> None:
        self._commit_scheduled = False
        if self._spool is not None:
            self._spool.commit()
        self.streams.committed()

    @property
    def spool(self) -> Spool:
        return self._ensure_spool()

    # ------------------------------------------------------------------ sessions
    def on_transition(self, transition: SessionTransition) -> None:
        """SessionModel listener: Start on the first SA pair, Stop when no flow is left,
        nothing on rekeys or IKE SA changes under live flows."""
        if self.closed:
            return
        record = transition.record
        session = self._open.get(record.session_id)
        if records.opens(transition.old, transition.new):
            if session is None:
                self._open_session(record, transition.at)
        elif records.closes(transition.old, transition.new):
            if session is not None:
                reason = records.down_reason(transition.reason, record)
                self._close(record.session_id, record, transition.at, reason)
        elif session is not None:
            before = session.record
            session.record = record
            if (
                self.newinfo
                and session.plan.mode == "start-stop"
                and (before.username, before.phase1_id) != (record.username, record.phase1_id)
            ):
                self.interim(record.session_id, transition.at)

    def _open_session(self, record: SessionRecord, at: float) -> None:
        plan = self.plan_for(record.peer_name)
        if plan is None:
            return
        counter = self._ensure_spool().next_counter(SESSION_COUNTER)
        ctx = AcctContext(
            records.format_session_id(counter),
            at,
            record.totals,
            record.group or self._group_ids.get(record.peer_name, ""),
        )
        session = _Open(plan, ctx, record)
        self._open[record.session_id] = session
        if plan.mode == "start-stop":
            session.parts = records.template(record, ctx, self.options)
            attributes = records.start_attributes(record, ctx, at, self.options, session.parts)
            self._enqueue(StatusType.START, plan, ctx, record, attributes, at)
            session.next_interim = self._first_interim(at)

    def _close(
        self,
        session_id: str,
        record: SessionRecord,
        at: float,
        reason: DownReason | None,
    ) -> None:
        """The session's Stop: made now, unless this loop turn has made STOPS_AT_ONCE
        already (a mass clear): then it waits its turn in `_stops`, made STOPS_AT_ONCE a
        turn, so that the sessions' DELETE answers, read meanwhile, are not held up
        behind ten thousand Stops. Its content is the transition's either way."""
        session = self._open.pop(session_id, None)
        if session is None:
            return
        if not self._stops and self._made_now < self._stops_at_once:
            self._made_now += 1
            if self._made_now == 1 and not self._call_soon(self._new_turn):
                self._made_now = 0  # no loop: every Stop now
            self._make_stop(session, record, at, reason)
            return
        self._stops.append((session, record, at, reason))
        if len(self._stops) == 1:
            asyncio.get_running_loop().call_soon(self._make_stops)

    def _new_turn(self) -> None:
        self._made_now = 0

    def _make_stop(
        self, session: _Open, record: SessionRecord, at: float, reason: DownReason | None
    ) -> None:
        parts = session.parts = records.template(record, session.ctx, self.options, session.parts)
        attributes = records.stop_attributes(record, session.ctx, at, reason, self.options, parts)
        self._enqueue(StatusType.STOP, session.plan, session.ctx, record, attributes, at)

    def _make_stops(self, limit: int | None = None) -> None:
        """The next waiting Stops (`limit`, STOPS_AT_ONCE by default; all with 0), then
        again on the next turn while some wait."""
        count = self._stops_at_once if limit is None else limit
        while self._stops and (count > 0 or limit == 0):
            self._make_stop(*self._stops.popleft())
            count -= 1
        if self._stops:
            asyncio.get_running_loop().call_soon(self._make_stops)

    def _latest(self, session_id: str) -> SessionRecord:
        """The store's record (fresh counters) if it is this session's, else the last
        one a transition brought."""
        session = self._open[session_id]
        current = self.store.get(SESSIONS, session_id)
        if isinstance(current, SessionRecord) and records.carries_traffic(current.status):
            session.record = current
        return session.record

    def interim(self, session_id: str, at: float | None = None) -> bool:
        """An Interim-Update for an accounted session now (the timer, newinfo); whether
        one was made."""
        session = self._open.get(session_id)
        if session is None:
            return False
        at = self.clock() if at is None else at
        record = self._latest(session_id)
        parts = session.parts = records.template(record, session.ctx, self.options, session.parts)
        attributes = records.interim_attributes(record, session.ctx, at, self.options, parts)
        self._enqueue(StatusType.INTERIM_UPDATE, session.plan, session.ctx, record, attributes, at)
        return True

    def tick(self, now: float | None = None) -> int:
        """Send the interim updates that are due (`aaa accounting update periodic N`:
        every N minutes from the session's start, start-stop lists only); how many."""
        now = self.clock() if now is None else now
        sent = 0
        for session_id, session in list(self._open.items()):
            due = session.next_interim
            if due is None or now < due or session.plan.mode != "start-stop":
                continue
            self.interim(session_id, now)
            sent += 1
            period = self.update_seconds or 0.0
            while period and due <= now:
                due += period
            session.next_interim = due if period else None
        return sent

    async def _tick_loop(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(self.tick_interval)

    def open_sessions(self) -> dict[str, str]:
        """Engine session id -> Acct-Session-Id of every session being accounted."""
        return {sid: s.ctx.acct_session_id for sid, s in self._open.items()}

    # ------------------------------------------------------------------ records
    def _announce(self, status: StatusType) -> list[str]:
        """Accounting-On to each server group in use that had none from this run, or
        Accounting-Off to each that had one; delivered like the group's session records
        (failover, or every server with `broadcast`). The streams used."""
        now = self.clock()
        groups: dict[str, ListPlan] = {}
        for plan in self.plans.values():
            if plan.mode != "none" and plan.servers:
                groups.setdefault(plan.group, plan)
        streams: list[str] = []
        for group, plan in groups.items():
            if status is StatusType.ACCOUNTING_ON:
                if group in self._announced:
                    continue
                self._announced.add(group)
            elif group not in self._announced:
                continue  # no Accounting-Off from a run that never said Accounting-On
            counter = self._ensure_spool().next_counter(SESSION_COUNTER)
            acct_id = records.format_session_id(counter)
            attributes = records.nas_attributes(status, acct_id, now, self.options)
            stream = f"nas:{group}"
            if self._enqueue(status, plan, None, None, attributes, now, stream=stream):
                streams.append(stream)
        return streams

    def _enqueue(
        self,
        status: StatusType,
        plan: ListPlan,
        ctx: AcctContext | None,
        record: SessionRecord | None,
        attributes: Attributes,
        at: float,
        *,
        stream: str | None = None,
    ) -> bool:
        """Spool a record and queue it; whether it could be made. Its attributes are
        encoded here, once: each transmission only adds its Acct-Delay-Time."""
        peer = record.remote_ip if record else ""
        try:
            body = ensure_encodable(self.dictionary, attributes)
        except EncodeError as err:
            acct_id = str(records.attribute(attributes, "Acct-Session-Id")[0])
            self.log(f"AAA: accounting {status.label} for session {acct_id} dropped: {err}", peer)
            return False
        spooled = self._ensure_spool().add(
            stream=stream or (ctx.acct_session_id if ctx else acct_session_id_of(attributes)),
            status=status,
            list_name=plan.name,
            broadcast=plan.broadcast,
            servers=[s.name for s in plan.servers],
            attributes=attributes,
            event_time=at,
            session_id=record.session_id if record else "",
            peer=peer,
        )
        self.bodies[spooled.record_id] = body
        self._queue(spooled)
        return True

    def _queue(self, spooled: SpoolRecord) -> None:
        """A record just spooled: to its stream, which runs once Accounting-On is out."""
        entry = self.book.publish(spooled, DeliveryState.PENDING)
        if self.debug:
            peer, name = spooled.peer, spooled.list_name
            self.log(
                f"AAA: accounting {entry.kind} queued for session {entry.acct_session_id}"
                + (f" (peer {peer}, list {name})" if peer else f" (list {name})"),
                peer or None,
            )
        stream = self.streams.get(spooled.stream, self._gate)
        self._append(stream, spooled)
        if self._ready:
            self.streams.run(stream)

    def _append(self, stream: Stream, record: SpoolRecord) -> None:
        """To the end of its stream; an Interim-Update takes the place of the stream's
        last one if that one is still waiting (not on the wire now).

        A session's records are queued in the order they are made, Start first, Stop
        last, and no record follows an Interim-Update but a newer Interim-Update or
        the Stop: so the older one is the queue's last record, and the newer one at
        the end is where it was."""
        queue = stream.queue
        if (
            record.status is StatusType.INTERIM_UPDATE
            and queue
            and queue[-1].status is StatusType.INTERIM_UPDATE
            and queue[-1].record_id not in self.streams.inflight
        ):
            older = queue.pop()
            self._ensure_spool().remove(older.record_id)
            self.bodies.pop(older.record_id, None)
            self.book.publish(
                older,
                DeliveryState.MERGED,
                detail=f"replaced by a newer Interim-Update (record {record.record_id})",
            )
            if self.debug:
                self.log(
                    f"AAA: accounting Interim-Update for session {acct_session_id(older)} "
                    "merged into a newer one",
                    older.peer or None,
                )
        queue.append(record)

    # ------------------------------------------------------------------ delivery
    def servers_for(self, record: SpoolRecord) -> tuple[ServerConfig, ...]:
        """The record's list as configured now; for a list that is gone, the servers it
        was made for that still have a key."""
        plan = self.plans.get(record.list_name)
        if plan is not None and plan.servers:
            return plan.servers
        return tuple(self.servers[n] for n in record.servers if n in self.servers)

    # ------------------------------------------------------------------ reports
    @staticmethod
    def book_id(record: SpoolRecord) -> str:
        return acct_session_id(record)

    def _on_server_state(self, state: ServerState) -> None:
        if state.name in self.servers:
            self.store.put(SERVERS, state.name, state)
            self._touch()

    def log(self, text: str, peer: str | None = None) -> None:
        """A `debug crypto isakmp aaa` line (nothing without debug)."""
        if self.debug:
            self.log_entry(syslog.entry("CRYPTO", 7, "AAA", text, peer, at=self.clock()))

    def log_entry(self, entry: syslog.LogEntry) -> None:
        if self.logbook is not None:
            self.logbook.log(entry)

    def _touch(self) -> None:
        """Flush the store once per loop iteration, not once per write; the book's
        deferred entries wait for its own flush (DEFER), or a reader's."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.book.flush()
        self.store.flush_soon()

    def records(self) -> list[AccountingRecord]:
        self.book.flush()
        return [r for r in self.store.table(ACCOUNTING).values() if isinstance(r, AccountingRecord)]

    def pending_count(self) -> int:
        return self.streams.pending() + len(self._stops)


def acct_session_id_of(attributes: Attributes) -> str:
    return str(records.attribute(attributes, "Acct-Session-Id")[0])


__all__ = [
    "Accountant",
    "AccountingRecord",
    "DeliveryState",
    "ListPlan",
    "profile_names",
    "resolve_key",
]
