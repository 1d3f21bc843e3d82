"""The change feed every XSM subscriber shares: store change sets and samples become
numbered change events, each encoded at most once per format however many follow it.

One store subscription for the whole service (on the union of the data sets' tables),
one sampler per sampled data set that has followers, and per data set a bounded ring of
recent events so a client reconnecting with `Last-Event-ID` gets what it missed instead
of a fresh snapshot. Publishing never awaits: a follower that cannot keep up is its own
problem (its queue, see clients.py), never the store's or the other followers'.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol

from engine.store import Store
from engine.store.changes import ChangeSet
from engine.xsm.codec import Codec
from engine.xsm.datasets import DataSet, Row, RowChanges

log = logging.getLogger(__name__)

#: seconds between samples of a sampled data set that names no `sample_interval`
DEFAULT_SAMPLE_INTERVAL = 5.0
#: a sample younger than this serves a new follower's snapshot without re-sampling
FRESH_SAMPLE = 0.5


class Source(Protocol):
    """What the service reads: the store and the data sets it publishes."""

    @property
    def store(self) -> Store: ...

    @property
    def datasets(self) -> Mapping[str, DataSet]: ...


class Follower(Protocol):
    """A subscriber as the feed sees it."""

    @property
    def xrds(self) -> frozenset[str]: ...

    def offer(self, event: ChangeEvent) -> None: ...


class ChangeEvent:
    """One data set's row changes with its service-wide id; encodings are made on first
    use and shared by every follower."""

    __slots__ = ("_encoded", "changes", "id")

    def __init__(self, event_id: int, changes: RowChanges) -> None:
        self.id = event_id
        self.changes = changes
        self._encoded: dict[tuple[str, bool], bytes] = {}

    @property
    def xrd(self) -> str:
        return self.changes.xrd

    def payload(self, codec: Codec) -> bytes:
        """The event as one document (a WebSocket message)."""
        key = (codec.name, False)
        data = self._encoded.get(key)
        if data is None:
            data = self._encoded[key] = codec.change(self.changes, self.id)
        return data

    def sse(self, codec: Codec) -> bytes:
        """The event as one server-sent event, framing included."""
        key = (codec.name, True)
        data = self._encoded.get(key)
        if data is None:
            data = self._encoded[key] = b"".join(
                sse_event("change", self.id, (self.payload(codec),))
            )
        return data


class Snapshot:
    """A whole data set for one follower, as of event id `id`."""

    __slots__ = ("id", "rows", "xrd")

    def __init__(self, xrd: str, rows: dict[str, Row], event_id: int) -> None:
        self.xrd = xrd
        self.rows = rows
        self.id = event_id


def sse_event(kind: str, event_id: int, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """An SSE event around a document given in chunks: newlines inside become new
    `data:` lines, so any encoding (XML with line breaks too) frames correctly."""
    yield f"id: {event_id}\nevent: {kind}\ndata: ".encode()
    for chunk in chunks:
        yield chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\ndata: ")
    yield b"\n\n"


class Ring:
    """A data set's recent events. Every event with an id above `floor` is here, so a
    client that has everything up to id L can be brought up to date iff floor <= L."""

    __slots__ = ("events", "floor")

    def __init__(self, size: int, floor: int) -> None:
        self.events: deque[ChangeEvent] = deque(maxlen=size)
        self.floor = floor

    def append(self, event: ChangeEvent) -> None:
        if len(self.events) == self.events.maxlen:
            self.floor = self.events[0].id
        self.events.append(event)

    def reset(self, floor: int) -> None:
        self.events.clear()
        self.floor = floor

    def after(self, last_id: int) -> list[ChangeEvent]:
        return [event for event in self.events if event.id > last_id]


class Sampler:
    """A sampled data set with followers: its last sample is what changes are taken
    against, so followers that applied every pushed change hold exactly that sample."""

    __slots__ = ("base", "dataset", "sampled_at", "task")

    def __init__(self, dataset: DataSet) -> None:
        self.dataset = dataset
        self.base: dict[str, Row] | None = None
        self.sampled_at = 0.0
        self.task: asyncio.Task[None] | None = None


class Feed:
    def __init__(
        self,
        source: Source,
        *,
        first_id: int,
        ring_size: int = 256,
        default_sample_interval: float = DEFAULT_SAMPLE_INTERVAL,
    ) -> None:
        self.source = source
        self.last_id = first_id
        self._ring_size = ring_size
        self._default_interval = default_sample_interval
        # Every set's ring from the start, so that its floor is this run's first id.
        self._rings = {name: Ring(ring_size, self.last_id) for name in source.datasets}
        self._followers: dict[str, set[Follower]] = {}
        self._samplers: dict[str, Sampler] = {}
        self._active: frozenset[str] = frozenset(source.datasets)
        self._subscription = None
        self._task: asyncio.Task[None] | None = None
        #: change sets read from the store, and sample passes made
        self.change_sets = 0
        self.samples = 0
        self.sample_errors = 0

    # -- life ---------------------------------------------------------------------------

    def start(self) -> None:
        tables = {table for ds in self.source.datasets.values() for table in ds.tables}
        self._subscription = self.source.store.subscribe(tables)
        self._task = asyncio.get_running_loop().create_task(self._follow(), name="xsm-feed")

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
        tasks = [t for t in (self._task, *(s.task for s in self._samplers.values())) if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._samplers.clear()
        self._task = self._subscription = None

    def set_active(self, names: Iterable[str]) -> None:
        """Only these data sets are recorded; a set that stops or starts being recorded
        loses its ring (its history has a gap)."""
        names = frozenset(names) & self.source.datasets.keys()
        changed = names ^ self._active
        if changed:
            floor = self.next_id()
            for name in changed:
                self._ring(name).reset(floor)
        self._active = names

    # -- ids and events -----------------------------------------------------------------

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def _ring(self, name: str) -> Ring:
        ring = self._rings.get(name)
        if ring is None:
            ring = self._rings[name] = Ring(self._ring_size, self.last_id)
        return ring

    def _emit(self, changes: RowChanges) -> None:
        ring = self._ring(changes.xrd)
        event = ChangeEvent(self.next_id(), changes)
        ring.append(event)
        for follower in tuple(self._followers.get(changes.xrd, ())):
            follower.offer(event)

    def _publish(self, changes: ChangeSet) -> None:
        self.change_sets += 1
        for name in sorted(self._active):
            dataset = self.source.datasets[name]
            if dataset.sampled or not any(t in changes for t in dataset.tables):
                continue
            rows = dataset.changes(changes)
            if rows:
                self._emit(rows)

    async def _follow(self) -> None:
        assert self._subscription is not None
        async for changes in self._subscription:
            try:
                self._publish(changes)
            except Exception:
                log.exception("XSM feed failed on a change set; the feed goes on")

    def pump(self) -> None:
        """Publish what the store has published and the feed not yet read, now: what a
        snapshot taken right after shows is then exactly up to `last_id`."""
        if self._subscription is not None:
            changes = self._subscription.get_nowait()
            if changes is not None:
                self._publish(changes)

    # -- followers ----------------------------------------------------------------------

    def join(
        self, follower: Follower, names: Iterable[str], last_event_id: int | None = None
    ) -> list[ChangeEvent | Snapshot]:
        """Start `follower` on `names`: what it must be sent first, in order (the events it
        missed since `last_event_id` where the rings still hold them, then a snapshot of
        every other set). One synchronous step, so no event falls between the snapshot and
        the follower's queue; every event offered afterwards is newer than all of these."""
        self.pump()
        names = sorted(set(names))
        for name in names:
            if self.source.datasets[name].sampled and name not in self._samplers:
                self._start_sampler(name)
        replays: list[ChangeEvent] = []
        fresh: list[str] = []
        for name in names:
            missed = None if last_event_id is None else self.replay(name, last_event_id)
            if missed is None:
                fresh.append(name)
            else:
                replays.extend(missed)
        rows = {name: self.rows(name) for name in fresh}
        for name in names:
            self._followers.setdefault(name, set()).add(follower)
        replays.sort(key=lambda event: event.id)
        return [*replays, *(Snapshot(name, rows[name], self.last_id) for name in fresh)]

    def leave(self, follower: Follower, names: Iterable[str] | None = None) -> None:
        """Stop `follower` on `names` (all it follows by default)."""
        for name in follower.xrds if names is None else names:
            followers = self._followers.get(name)
            if followers is None:
                continue
            followers.discard(follower)
            if not followers:
                del self._followers[name]
                sampler = self._samplers.pop(name, None)
                if sampler is not None and sampler.task is not None:
                    sampler.task.cancel()

    def followers(self, name: str) -> int:
        return len(self._followers.get(name, ()))

    def _start_sampler(self, name: str) -> None:
        sampler = self._samplers[name] = Sampler(self.source.datasets[name])
        # Nobody sampled the set since its last follower left, so its ring can't tell
        # what changed meanwhile: a floor no client has seen sends everyone a snapshot.
        self._ring(name).reset(self.next_id())
        sampler.task = asyncio.get_running_loop().create_task(
            self._sample_loop(sampler), name=f"xsm-sample-{name}"
        )

    # -- snapshots and replays ----------------------------------------------------------

    def rows(self, name: str) -> dict[str, Row]:
        """The data set now, consistent with the events published so far (`last_id`)."""
        dataset = self.source.datasets[name]
        if not dataset.sampled:
            self.pump()
            return dataset.snapshot(self.source)
        sampler = self._samplers.get(name)
        if sampler is None:  # no followers: a one-off sample
            return dataset.snapshot(self.source)
        if sampler.base is None or time.monotonic() - sampler.sampled_at > FRESH_SAMPLE:
            self._resample(sampler)
        assert sampler.base is not None
        return dict(sampler.base)

    def replay(self, name: str, last_id: int) -> list[ChangeEvent] | None:
        """The events of `name` after `last_id`, or None when the ring can't tell
        (too old, from another run, or from the future)."""
        ring = self._ring(name)
        if not ring.floor <= last_id <= self.last_id:
            return None
        return ring.after(last_id)

    # -- sampling -----------------------------------------------------------------------

    def _interval(self, dataset: DataSet) -> float:
        interval = getattr(dataset, "sample_interval", None)
        return float(interval) if interval else self._default_interval

    def _resample(self, sampler: Sampler) -> None:
        self.samples += 1
        rows = sampler.dataset.snapshot(self.source)
        sampler.sampled_at = time.monotonic()
        base, sampler.base = sampler.base, rows
        if base is None:
            return
        upserted = {key: row for key, row in rows.items() if base.get(key) != row}
        removed = tuple(sorted(key for key in base if key not in rows))
        if (upserted or removed) and sampler.dataset.name in self._active:
            self._emit(RowChanges(sampler.dataset.name, upserted, removed))

    async def _sample_loop(self, sampler: Sampler) -> None:
        interval = self._interval(sampler.dataset)
        while True:
            await asyncio.sleep(interval)
            try:
                self._resample(sampler)
            except Exception:
                self.sample_errors += 1
                if self.sample_errors == 1:
                    log.exception("sampling XSM data set %s failed", sampler.dataset.name)


def monotonic_ids(clock: Callable[[], float]) -> int:
    """The first event id of a run: milliseconds of the clock, so ids keep increasing
    across restarts and an id from an earlier run is never taken for one of this run's."""
    return int(clock() * 1000)
