"""Accounting records as the store's ACCOUNTING table shows them.

A record changes state three times or more on its way (queued, sent, acknowledged);
a frozen AccountingRecord built and compared by the store for each change costs about
as much as the exchange itself. Changes go to a mutable entry per record. What a
reader of the table must see at once (a record made, acknowledged, spooled, failed)
is put in the store at once; a transmission's (attempts, Acct-Delay-Time) is
`deferred`: put by `flush` DEFER seconds later, unless a change that is put at once
comes first and carries it. A server that answers within DEFER (as one that is up
does) leaves a record two puts, its creation and its acknowledgement, not three.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from engine.accounting import records
from engine.accounting.records import Attributes
from engine.accounting.spool import SpoolRecord
from engine.store import ACCOUNTING, Store

#: how long a transmission's state may wait to be published
DEFER = 0.1


class DeliveryState(StrEnum):
    #: queued or on its first transmission
    PENDING = "pending"
    #: retransmitting, or failing over to the next server
    RETRYING = "retrying"
    #: no server took it: waiting in the spool for the next try
    SPOOLED = "spooled"
    #: cannot be sent as configured (no server or key for its list); kept in the spool
    FAILED = "failed"
    ACKED = "acked"
    #: an Interim-Update not yet sent when a newer one of its session came: only the
    #: newer one goes out (its counters are totals since the Start)
    MERGED = "merged"


#: states after which a record leaves the accountant (and, past `keep_acked`, the store)
FINAL = frozenset({DeliveryState.ACKED, DeliveryState.MERGED})


@dataclass(frozen=True, slots=True)
class AccountingRecord:
    """One accounting record as the store shows it; attributes as last sent, no key."""

    record_id: int
    acct_session_id: str
    session_id: str
    peer: str
    kind: str
    list_name: str
    attributes: Attributes
    state: DeliveryState
    server: str
    attempts: int
    created_at: float
    acked_at: float | None = None
    detail: str = ""


def acct_session_id(record: SpoolRecord) -> str:
    attributes = record.attributes
    if attributes and attributes[0][0] == "Acct-Session-Id":  # where records.py puts it
        return str(attributes[0][1])
    return str(records.attribute(attributes, "Acct-Session-Id")[0])


class Entry:
    """A record's delivery state as it is now (published at the next `flush`)."""

    __slots__ = (
        "acct_session_id",
        "acked_at",
        "attempts",
        "delay",
        "detail",
        "kind",
        "record",
        "server",
        "state",
    )

    def __init__(self, record: SpoolRecord, state: DeliveryState) -> None:
        self.record = record
        self.acct_session_id = acct_session_id(record)
        self.kind = record.status.label
        self.state = state
        self.server = ""
        self.attempts = record.attempts
        self.detail = ""
        #: the Acct-Delay-Time it was last sent with (None: not sent yet)
        self.delay: int | None = None
        self.acked_at: float | None = None

    def build(self) -> AccountingRecord:
        record = self.record
        attributes = record.attributes
        if self.delay is not None:
            attributes = (*attributes, ("Acct-Delay-Time", self.delay))
        return AccountingRecord(
            record_id=record.record_id,
            acct_session_id=self.acct_session_id,
            session_id=record.session_id,
            peer=record.peer,
            kind=self.kind,
            list_name=record.list_name,
            attributes=attributes,
            state=self.state,
            server=self.server,
            attempts=self.attempts,
            created_at=record.event_time,
            acked_at=self.acked_at,
            detail=self.detail,
        )


class RecordBook:
    """Every record not yet acknowledged, and the last `keep_acked` that were, in the
    store. `touch()` is called on each change: it schedules `flush` (once per loop
    iteration) by the owner."""

    def __init__(
        self,
        store: Store,
        *,
        keep_acked: int,
        clock: Callable[[], float] = time.time,
        touch: Callable[[], None],
    ) -> None:
        self.store = store
        self.keep_acked = keep_acked
        self.clock = clock
        self.touch = touch
        self._live: dict[int, Entry] = {}
        self._dirty: dict[int, Entry] = {}
        self._acked: deque[int] = deque()

    def __contains__(self, record_id: int) -> bool:
        return record_id in self._live

    def get(self, record_id: int) -> Entry | None:
        """The entry of a record not acknowledged (or merged) yet."""
        return self._live.get(record_id)

    def publish(
        self,
        record: SpoolRecord,
        state: DeliveryState,
        *,
        server: str | None = None,
        attempts: int | None = None,
        detail: str | None = None,
        delay: int | None = None,
        deferred: bool = False,
    ) -> Entry:
        record_id = record.record_id
        entry = self._live.get(record_id) or self._dirty.get(record_id)
        if entry is None:
            entry = Entry(record, state)
        else:
            entry.record = record
            entry.state = state
        if server is not None:
            entry.server = server
        if attempts is not None:
            entry.attempts = attempts
        if detail is not None:
            entry.detail = detail
        if delay is not None:
            entry.delay = delay
        final = state in FINAL
        if final:
            entry.acked_at = self.clock() if state is DeliveryState.ACKED else None
            self._live.pop(record_id, None)
        else:
            self._live[record_id] = entry
        if deferred:
            if not self._dirty:
                self._schedule()
            self._dirty[record_id] = entry
            return entry
        self._dirty.pop(record_id, None)
        self._put(record_id, entry, final)
        return entry

    def transmitted(
        self, entry: Entry, record: SpoolRecord, state: DeliveryState, server: str, delay: int
    ) -> None:
        """A transmission of a record not final (`entry` is its live entry): `publish`
        with one more attempt, deferred, without the look-ups."""
        entry.record = record
        entry.state = state
        entry.server = server
        entry.attempts += 1
        entry.delay = delay
        dirty = self._dirty
        if not dirty:
            self._schedule()
        dirty[record.record_id] = entry

    def _put(self, record_id: int, entry: Entry, final: bool) -> None:
        self.store.put(ACCOUNTING, record_id, entry.build())
        self.touch()
        if final:
            acked = self._acked
            acked.append(record_id)
            if len(acked) > self.keep_acked:
                self.store.remove(ACCOUNTING, acked.popleft())

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: the next flush (or read) publishes it
            return
        loop.call_later(DEFER, self.flush)

    def flush(self) -> None:
        """Into the store: one AccountingRecord per record changed since the last flush."""
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        for record_id, entry in dirty.items():
            self._put(record_id, entry, entry.state in FINAL)
