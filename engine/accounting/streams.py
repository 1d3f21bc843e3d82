"""Records that must arrive in order (one session, or one group's Accounting-On/Off),
delivered one at a time per stream by callbacks: no task per stream.

A stream's head goes out once the spool has it on disk (`Spool.durable`): records made
in one loop iteration are committed together and then sent together. Its answer (or
its failure) settles it from the transport's receive path and the next record of the
stream goes out at once. A head that no server took waits in the spool for the retry
time, a server's deadtime to end, or any server to answer (`wakeup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.accounting.packets import Outbound
from engine.accounting.published import DeliveryState
from engine.accounting.servers import ServerConfig
from engine.accounting.spool import SpoolRecord

if TYPE_CHECKING:
    from engine.accounting.accountant import Accountant


class Stream:
    """One ordered queue of records and where its delivery is."""

    __slots__ = ("_settled", "after", "blocked", "busy", "gate", "is_settled", "name", "queue")
    __slots__ += ("started", "timer")

    def __init__(self, name: str, after: tuple[asyncio.Event, ...] = ()) -> None:
        self.name = name
        self.queue: deque[SpoolRecord] = deque()
        #: its head cannot be sent as configured (FAILED): nothing to wait for at shutdown
        self.blocked = False
        #: other streams' `settled`, to wait for before sending (see `announce_on`)
        self.after = after
        #: its queue is empty, or its head was tried and no server took it for now
        self.is_settled = False
        self._settled: asyncio.Event | None = None
        #: its delivery has begun (it is no longer held for the Accounting-On)
        self.started = False
        #: its delivery runs: a record on the wire, waiting for the commit or a retry
        self.busy = False
        self.timer: asyncio.TimerHandle | None = None
        #: waiting for `after` (only at startup): the one task a stream may have
        self.gate: asyncio.Task[None] | None = None

    @property
    def settled(self) -> asyncio.Event:
        """`is_settled` to wait for; made only when asked for (at startup: a session's
        stream never needs one)."""
        if self._settled is None:
            self._settled = asyncio.Event()
            if self.is_settled:
                self._settled.set()
        return self._settled

    @settled.setter
    def settled(self, event: asyncio.Event) -> None:
        self._settled = event
        self.is_settled = event.is_set()

    def settle(self) -> None:
        self.is_settled = True
        if self._settled is not None:
            self._settled.set()


class Streams:
    """Every stream of the accountant, and its records on their way."""

    def __init__(self, owner: Accountant) -> None:
        self.owner = owner
        self.by_name: dict[str, Stream] = {}
        #: records being delivered now (or waiting for the commit to be), by record id
        self.inflight: dict[int, SpoolRecord] = {}
        self._after_commit: list[tuple[Stream, SpoolRecord, tuple[ServerConfig, ...]]] = []
        self._sleeping: set[Stream] = set()

    def get(self, name: str, gate: tuple[asyncio.Event, ...]) -> Stream:
        stream = self.by_name.get(name)
        if stream is None:
            stream = self.by_name[name] = Stream(name, after=gate)
        return stream

    def values(self) -> list[Stream]:
        return list(self.by_name.values())

    def __len__(self) -> int:
        return len(self.by_name)

    def pending(self) -> int:
        return sum(len(s.queue) for s in self.by_name.values())

    # ------------------------------------------------------------------ running
    def run(self, stream: Stream) -> None:
        """Deliver the stream's records, unless that runs already."""
        stream.started = True
        if stream.busy:
            return
        stream.busy = True
        self._advance(stream)

    def _advance(self, stream: Stream) -> None:
        owner = self.owner
        if owner.closed or not stream.queue:
            self._finished(stream)
            return
        if stream.after:
            after, stream.after = stream.after, ()
            waiting = [event for event in after if not event.is_set()]
            if waiting:
                stream.gate = asyncio.create_task(self._gated(stream, waiting), name=stream.name)
                return
        record = stream.queue[0]
        servers = owner.servers_for(record)
        stream.blocked = not servers
        if not servers:
            owner.book.publish(
                record,
                DeliveryState.FAILED,
                detail=f"no RADIUS server with a key for list {record.list_name}",
            )
            self._not_taken(stream, record)
            return
        self.inflight[record.record_id] = record
        spool = owner.spool
        if spool.durable(record.record_id):
            self._send(stream, record, servers)
        else:  # on disk before any server sees it: sent after this iteration's commit
            self._after_commit.append((stream, record, servers))
            owner.schedule_commit()

    async def _gated(self, stream: Stream, events: Sequence[asyncio.Event]) -> None:
        for event in events:
            await event.wait()
        stream.gate = None
        self._advance(stream)

    def committed(self) -> None:
        """The spool committed: the heads that waited for it go out."""
        waiting, self._after_commit = self._after_commit, []
        for stream, record, servers in waiting:
            if self.owner.closed:
                self.inflight.pop(record.record_id, None)
                continue
            self._send(stream, record, servers)

    def _send(self, stream: Stream, record: SpoolRecord, servers: tuple[ServerConfig, ...]) -> None:
        owner = self.owner
        out = Outbound(
            record.record_id,
            record.attributes,
            record.event_time,
            owner.bodies.get(record.record_id),
        )
        owner.transport.deliver_then(
            out,
            servers,
            owner.timers,
            functools.partial(self._delivered, stream, record, servers),
            broadcast=record.broadcast,
            acked=record.acked,
        )

    def _delivered(
        self,
        stream: Stream,
        record: SpoolRecord,
        servers: tuple[ServerConfig, ...],
        acked: frozenset[str],
        error: BaseException | None,
    ) -> None:
        self.inflight.pop(record.record_id, None)
        owner = self.owner
        if owner.closed:
            return
        if error is not None:  # EncodeError, OSError: cannot be sent as things are
            owner.book.publish(record, DeliveryState.FAILED, detail=str(error))
            self._not_taken(stream, record)
            return
        entry = owner.book.get(record.record_id)
        attempts = entry.attempts if entry is not None else record.attempts
        done = all(s.name in acked for s in servers) if record.broadcast else bool(acked)
        spool = owner.spool
        if done:
            spool.remove(record.record_id)
            owner.bodies.pop(record.record_id, None)
            owner.book.publish(record, DeliveryState.ACKED, server=",".join(sorted(acked)))
            stream.queue.popleft()
            self._advance(stream)
            return
        spool.update(record.record_id, acked=acked, attempts=attempts)
        updated = replace(record, acked=acked, attempts=attempts)
        stream.queue[0] = updated
        waiting = ", ".join(
            f"{s.name} ({why})" if (why := owner.transport.state(s).last_failure) else s.name
            for s in servers
            if s.name not in acked
        )
        owner.book.publish(updated, DeliveryState.SPOOLED, detail=f"waiting for {waiting}")
        if owner.debug:
            owner.log(
                f"AAA: accounting {record.status.label} for session "
                f"{owner.book_id(record)} spooled, not acknowledged by {waiting}",
                record.peer or None,
            )
        self._not_taken(stream, updated)

    def _not_taken(self, stream: Stream, record: SpoolRecord) -> None:
        """Until the spool retry time, a server's deadtime ends, or a server answers."""
        stream.settle()
        owner = self.owner
        wait = owner.timers.spool_retry
        revive = owner.transport.revive_in(owner.servers_for(record))
        if revive is not None:
            wait = min(wait, revive + 0.001)
        stream.timer = asyncio.get_running_loop().call_later(wait, self._retry, stream)
        self._sleeping.add(stream)

    def _retry(self, stream: Stream) -> None:
        stream.timer = None
        self._sleeping.discard(stream)
        self._advance(stream)

    def wakeup(self) -> None:
        """A server answered, or the configuration changed: waiting heads try again."""
        if not self._sleeping:
            return
        sleeping, self._sleeping = self._sleeping, set()
        loop = asyncio.get_running_loop()
        for stream in sleeping:
            if stream.timer is not None:
                stream.timer.cancel()
            stream.timer = loop.call_soon(self._retry, stream)  # type: ignore[assignment]

    def _finished(self, stream: Stream) -> None:
        stream.busy = False
        stream.settle()
        if not stream.queue and self.by_name.get(stream.name) is stream:
            del self.by_name[stream.name]

    async def close(self) -> None:
        """Nothing more goes out: timers cancelled, gates stopped."""
        gates = []
        for stream in self.by_name.values():
            if stream.timer is not None:
                stream.timer.cancel()
                stream.timer = None
            if stream.gate is not None:
                stream.gate.cancel()
                gates.append(stream.gate)
        self._sleeping.clear()
        for gate in gates:
            with contextlib.suppress(asyncio.CancelledError):
                await gate
