"""The store itself: tables of records, change publication, subscribers, snapshots."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Self

from engine.store.changes import ABSENT, ChangeMerger, ChangeSet, TableChanges, freeze
from engine.store.history import History, Rates

log = logging.getLogger(__name__)

SESSIONS = "sessions"
IKE_SAS = "ike_sas"
FLOWS = "flows"
PEERS = "peers"
ACCOUNTING = "accounting"
SYSLOG = "syslog"
SERVERS = "servers"
#: one record, "engine": what the gateway dropped and why (engine.statistics)
STATS = "stats"

#: The project's tables. A store rejects any other name, so a typo fails loudly instead of
#: feeding a table nobody watches.
TABLES = frozenset({SESSIONS, IKE_SAS, FLOWS, PEERS, ACCOUNTING, SYSLOG, SERVERS, STATS})

#: Tables whose records keep counter samples (rates, sparklines) in the store's history.
HISTORY_TABLES = (SESSIONS, FLOWS)


def history_key(table: str, key: Hashable) -> Hashable:
    """Where a record's samples live in the history: a session's under its id, a flow's
    under (table, id), so that ids of different tables can never share a ring."""
    return key if table == SESSIONS else (table, key)


ListenerCallback = Callable[[ChangeSet], object]


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """Every table at one published version; later writes never show through (copy-on-write)."""

    version: int
    tables: Mapping[str, Mapping[Hashable, object]]

    def table(self, name: str) -> Mapping[Hashable, object]:
        return self.tables[name]

    def get(self, table: str, key: Hashable) -> object | None:
        return self.tables[table].get(key)


class Store:
    """Records keyed by stable ids in named tables; the engine writes, consumers follow.

    Rules:

    - Writes accumulate into one pending change set that ``flush()`` publishes (the
      engine flushes once per tick); ``with store.batch():`` flushes on exit, and a
      ``flush()`` inside a batch waits for the batch's end, so a batch is always one change
      set. Don't hold a batch across an ``await``: it holds back everyone's updates.
    - ``version`` counts published change sets, and ``snapshot()`` is the state at
      ``version`` exactly, without unflushed writes: a replica seeded from a snapshot and
      fed every set from a subscription opened right after it is exact. ``get`` and
      ``table`` are the engine's view and include unflushed writes.
    - A put equal to the current record (``is``, then ``==``) is a no-op, and a key whose
      record ends the set equal to where it started is left out. None is not a record.
    - Single-threaded: call everything from the event loop's thread.
    """

    def __init__(
        self,
        tables: Iterable[str] = TABLES,
        *,
        syslog_size: int = 2000,
        history_samples: int = 300,
    ) -> None:
        if syslog_size < 1:
            raise ValueError("syslog_size must be at least 1")
        names = sorted({*tables, SYSLOG})
        self._tables: dict[str, dict[Hashable, object]] = {name: {} for name in names}
        # Tables whose current dict a snapshot or view holds: the next write copies it.
        self._shared: set[str] = set()
        self._views: dict[str, Mapping[Hashable, object]] = {}
        self._snapshot: StoreSnapshot | None = None
        # Per table, each key written since the last flush -> its record at that flush.
        self._before: dict[str, dict[Hashable, object]] = {}
        # Keys written more than once since the last flush: only these need an == at flush.
        self._rewritten: dict[str, set[Hashable]] = {}
        self._version = 0
        self._batch_depth = 0
        self._flushing = False
        self._flush_scheduled = False
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Listener] = []
        self._syslog_size = syslog_size
        self._next_seq = 1
        #: exceptions raised by listener callbacks, all listeners together
        self.listener_errors = 0
        self.history = History(history_samples)
        self.syslog = LogRing(self)

    # -- reads ------------------------------------------------------------------------

    @property
    def version(self) -> int:
        return self._version

    @property
    def table_names(self) -> frozenset[str]:
        return frozenset(self._tables)

    def get(self, table: str, key: Hashable) -> object | None:
        return self._data(table).get(key)

    def table(self, table: str) -> Mapping[Hashable, object]:
        """One table now, unflushed writes included, frozen: later writes don't show through.

        O(1); the next write to the table pays for one copy of it.
        """
        view = self._views.get(table)
        if view is None:
            view = self._views[table] = MappingProxyType(self._data(table))
            self._shared.add(table)
        return view

    def snapshot(self) -> StoreSnapshot:
        """All tables as of ``version``; O(tables) and shared until the next flush.

        A table with unflushed writes costs one copy (its published state is rebuilt by
        undoing them), at most once per flush since later writes don't change it.
        """
        snap = self._snapshot
        if snap is None:
            tables = {}
            for name in self._tables:
                before = self._before.get(name)
                tables[name] = self._published(name, before) if before else self.table(name)
            snap = self._snapshot = StoreSnapshot(self._version, MappingProxyType(tables))
        return snap

    # -- writes -----------------------------------------------------------------------

    def put(self, table: str, key: Hashable, record: object) -> None:
        data = self._data(table)
        old = data.get(key, ABSENT)
        if old is record or (old is not ABSENT and old == record):
            return
        if record is None:
            raise TypeError("None is not a record; use remove()")
        if table == SYSLOG:
            raise ValueError("the syslog table is written by append_log()")
        self._touch(table, key, old)[key] = record

    def remove(self, table: str, key: Hashable) -> None:
        data = self._data(table)
        old = data.get(key, ABSENT)
        if old is ABSENT:
            return
        if table == SYSLOG:
            raise ValueError("syslog entries leave only by falling off the ring")
        del self._touch(table, key, old)[key]
        if table in HISTORY_TABLES:
            self.history.discard(history_key(table, key))

    def append_log(self, entry: object) -> int:
        """Append to the syslog ring; returns the entry's sequence number (its key)."""
        if entry is None:
            raise TypeError("None is not a log entry")
        seq = self._next_seq
        self._next_seq = seq + 1
        data = self._touch(SYSLOG, seq, ABSENT)
        data[seq] = entry
        if len(data) > self._syslog_size:
            # Sequence numbers are contiguous, so the oldest one is known without a scan.
            oldest = seq - self._syslog_size
            self._touch(SYSLOG, oldest, data[oldest])
            del data[oldest]
        return seq

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one change set; nests. Flushes on exit, exception or not,
        since the writes already happened (there is no rollback)."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if not self._batch_depth:
                self.flush()

    def flush(self) -> ChangeSet | None:
        """Publish what changed since the last flush; returns it, or None if nothing did.

        Listeners run first, synchronously, then subscriptions are fed. Writes made by a
        listener go into the next change set; a flush from a listener, or inside a batch,
        is a no-op.
        """
        if self._batch_depth or self._flushing or not self._before:
            return None
        before_by_table, self._before = self._before, {}
        rewritten_by_table, self._rewritten = self._rewritten, {}
        tables: dict[str, TableChanges] = {}
        for name, before in before_by_table.items():
            current = self._tables[name]
            rewritten = rewritten_by_table.get(name, ())
            added: dict[Hashable, object] = {}
            changed: dict[Hashable, object] = {}
            removed: set[Hashable] = set()
            for key, old in before.items():
                new = current.get(key, ABSENT)
                if old is ABSENT:
                    if new is not ABSENT:
                        added[key] = new
                elif new is ABSENT:
                    removed.add(key)
                elif key not in rewritten or not (new is old or new == old):
                    changed[key] = new
            frozen = freeze(added, changed, removed)
            if frozen is not None:
                tables[name] = frozen
        if not tables:
            return None
        self._version += 1
        self._snapshot = None
        changes = ChangeSet(self._version, MappingProxyType(tables))
        self._flushing = True
        try:
            for listener in tuple(self._listeners):
                listener._deliver(changes)
            for subscription in tuple(self._subscriptions):
                subscription._deliver(changes)
        finally:
            self._flushing = False
        return changes

    def flush_soon(self) -> None:
        """`flush` at the end of this event-loop iteration (at once without a running
        loop): writers that come one record or one log line at a time, thousands in a
        burst, make one change set between them instead of one each."""
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()

    # -- consumers --------------------------------------------------------------------

    def subscribe(self, tables: Iterable[str] | None = None) -> Subscription:
        """Follow changes from the next flush on, coalesced: see ``Subscription``."""
        subscription = Subscription(self, self._names(tables))
        self._subscriptions.append(subscription)
        return subscription

    def listen(self, callback: ListenerCallback, tables: Iterable[str] | None = None) -> Listener:
        """Call ``callback(changes)`` synchronously at every flush touching ``tables``.

        For consumers that must see every transition (accounting, syslog export). The
        callback runs inside the engine's tick, so it must be quick and must not raise; an
        exception is caught, counted (``Listener.errors``, ``Store.listener_errors``),
        logged the first time, and the other consumers still get the change set.
        """
        listener = Listener(self, callback, self._names(tables))
        self._listeners.append(listener)
        return listener

    def close(self) -> None:
        """End every subscription (their ``async for`` loops finish) and drop listeners;
        the data stays readable."""
        for subscription in tuple(self._subscriptions):
            subscription.close()
        for listener in tuple(self._listeners):
            listener.close()

    # -- history, delegated so the engine needs one object --------------------------------

    def record_sample(
        self,
        key: Hashable,
        t: float,
        bytes_in: int,
        bytes_out: int,
        packets_in: int,
        packets_out: int,
    ) -> None:
        self.history.record_sample(key, t, bytes_in, bytes_out, packets_in, packets_out)

    def rates(self, key: Hashable, window_s: float = 10.0) -> Rates:
        return self.history.rates(key, window_s)

    def series(self, key: Hashable, field: str, points: int = 60) -> list[float]:
        return self.history.series(key, field, points)

    # -- internals --------------------------------------------------------------------

    def _data(self, table: str) -> dict[Hashable, object]:
        try:
            return self._tables[table]
        except KeyError:
            raise KeyError(f"unknown table {table!r}") from None

    def _names(self, tables: Iterable[str] | None) -> frozenset[str] | None:
        if tables is None:
            return None
        names = frozenset((tables,) if isinstance(tables, str) else tables)
        unknown = names - self._tables.keys()
        if unknown:
            raise KeyError(f"unknown tables {sorted(unknown)}")
        return names

    def _touch(self, table: str, key: Hashable, old: object) -> dict[Hashable, object]:
        """Note a write before it happens; returns the dict to write into."""
        if table in self._shared:
            data = self._tables[table] = dict(self._tables[table])
            self._shared.discard(table)
            del self._views[table]
        else:
            data = self._tables[table]
        before = self._before.get(table)
        if before is None:
            before = self._before[table] = {}
        if key in before:
            rewritten = self._rewritten.get(table)
            if rewritten is None:
                rewritten = self._rewritten[table] = set()
            rewritten.add(key)
        else:
            before[key] = old
        return data

    def _published(self, table: str, before: dict[Hashable, object]) -> Mapping[Hashable, object]:
        data = dict(self._tables[table])
        for key, old in before.items():
            if old is ABSENT:
                data.pop(key, None)
            else:
                data[key] = old
        return MappingProxyType(data)

    def _drop(self, consumer: Subscription | Listener) -> None:
        if isinstance(consumer, Subscription):
            if consumer in self._subscriptions:
                self._subscriptions.remove(consumer)
        elif consumer in self._listeners:
            self._listeners.remove(consumer)


class Subscription:
    """An async iterator of change sets that never builds a backlog.

    While the reader is busy, new change sets merge into its single pending one (same
    rules as within a set; the merged set carries the latest version), so a reader that
    wakes once a second gets one set describing everything since its last. Changes that
    cancel out entirely are not delivered. One reader task per subscription.
    """

    __slots__ = ("_closed", "_merger", "_pending", "_store", "_waiter", "tables")

    def __init__(self, store: Store, tables: frozenset[str] | None) -> None:
        self._store = store
        self.tables = tables
        self._pending: ChangeSet | None = None
        self._merger: ChangeMerger | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def get_nowait(self) -> ChangeSet | None:
        """Everything since the last read, or None if nothing changed."""
        if self._merger is not None:
            changes = self._merger.result()
            self._merger = None
            return changes
        changes, self._pending = self._pending, None
        return changes

    def close(self) -> None:
        """Stop following; pending changes are dropped and ``async for`` ends."""
        if self._closed:
            return
        self._closed = True
        self._pending = self._merger = None
        self._store._drop(self)
        self._wake()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ChangeSet:
        while True:
            changes = self.get_nowait()
            if changes is not None:
                return changes
            if self._closed:
                raise StopAsyncIteration
            if self._waiter is not None:
                raise RuntimeError("another task is already reading this subscription")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _deliver(self, changes: ChangeSet) -> None:
        if self._closed:  # closed by a listener during this very flush
            return
        if self.tables is not None:
            filtered = changes.only(self.tables)
            if filtered is None:
                return
            changes = filtered
        if self._merger is not None:
            self._merger.add(changes)
        elif self._pending is None:
            # The common case, a reader keeping up: the shared set itself, no copying.
            self._pending = changes
        else:
            self._merger = ChangeMerger(self._pending)
            self._merger.add(changes)
            self._pending = None
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Listener:
    """A callback registered with ``Store.listen``; ``close()`` unregisters it."""

    __slots__ = ("_store", "callback", "closed", "errors", "tables")

    def __init__(
        self, store: Store, callback: ListenerCallback, tables: frozenset[str] | None
    ) -> None:
        self._store = store
        self.callback = callback
        self.tables = tables
        self.closed = False
        #: exceptions this callback raised (each was caught)
        self.errors = 0

    def close(self) -> None:
        self.closed = True
        self._store._drop(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _deliver(self, changes: ChangeSet) -> None:
        if self.closed:  # closed by an earlier listener during this very flush
            return
        if self.tables is not None:
            filtered = changes.only(self.tables)
            if filtered is None:
                return
            changes = filtered
        try:
            self.callback(changes)
        except Exception:
            self.errors += 1
            self._store.listener_errors += 1
            if self.errors == 1:
                log.exception("store listener %r failed; further failures only counted", self)


class LogRing:
    """The syslog table read as a ring: entries oldest first, at most ``maxlen``.

    Written only through ``Store.append_log``, so every entry gets its sequence number and
    every eviction shows up in change sets. Iteration works on a snapshot, so appends
    while a consumer iterates are safe.
    """

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def maxlen(self) -> int:
        return self._store._syslog_size

    @property
    def next_seq(self) -> int:
        """The sequence number the next entry will get."""
        return self._store._next_seq

    def __len__(self) -> int:
        return len(self._store._tables[SYSLOG])

    def __iter__(self) -> Iterator[object]:
        return iter(self._store.table(SYSLOG).values())

    def items(self) -> Iterator[tuple[int, object]]:
        """(sequence number, entry) pairs, oldest first."""
        return iter(self._store.table(SYSLOG).items())

    def __getitem__(self, index: int) -> object:
        """By position like a deque (negative counts from the newest)."""
        length = len(self)
        if index < 0:
            index += length
        if not 0 <= index < length:
            raise IndexError("log ring index out of range")
        return self._store._tables[SYSLOG][self._store._next_seq - length + index]
