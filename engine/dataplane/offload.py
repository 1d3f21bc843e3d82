"""Packet writes on a thread of their own, handed over once per event-loop turn.

A TUN write runs the host's whole receive path for the packet (its TCP stack, the
waking of the reader) and a send runs the veth and the peer namespace's receive: the
larger part of a packet's kernel time, spent inside a system call that releases the
GIL. Done on a writer thread, it overlaps with the event loop's thread decrypting or
encrypting the next packets, on the other core. Packets are queued in a list while the
loop's readers run and the list goes to the thread in one hand-over when the loop's
turn ends (one wake-up of the thread per batch, not per packet); one thread per
destination keeps every packet in order. A batch of a few packets, with the writer
idle, is written on the loop's thread at once: at low rates the thread's wake-up would
cost more than it saves.

The writer needs the GIL back after every write, so while the loop's thread is busy it
can fall hundreds of packets behind. That is the loop outrunning its own writer, not an
overloaded link: past a high-water mark the loop's thread waits (the GIL released) until
the writer has caught up, as a blocking send would, instead of dropping packets. Only a
writer that stays stuck past that wait loses packets, counted, beyond a device's
transmit queue.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import Counter
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
#: packets handed to the writer and not yet written at which the loop's thread waits
#: for it to catch up, down to LOW_WATER
HIGH_WATER = 256
LOW_WATER = 32
#: the longest the loop's thread waits for its writer, in seconds
WRITER_WAIT = 0.05
#: packets waiting beyond which new ones are dropped (counted), after the wait: the
#: default transmit queue of a Linux device; a stuck writer must not grow it unbounded
MAX_BACKLOG = 1000
#: a batch this small is written on the loop's thread when the writer is idle
SMALL_BATCH = 4


class Offload(Generic[T]):
    def __init__(
        self,
        name: str,
        write: Callable[[T], object],
        counters: Counter[str],
        failure: str,
        handed: str = "",
        prepare: Callable[[list[T]], list[T]] | None = None,
        threaded: bool = True,
    ) -> None:
        """`write(item)` on the thread; an OSError from it counts as `failure` in
        `counters` (a Counter's increment of a present key is one bytecode apart from
        the loop thread's: not torn), a packet dropped for a full backlog as
        `failure` + " (backlog)", and each packet handed to the thread as `handed`
        (when given). `prepare(batch)`: what is written for a batch (on the thread
        for a batch handed to it). `threaded=False`: every batch is written on the
        loop's thread at the end of its turn (batched, prepared, no thread)."""
        self.name = name
        self._write = write
        self._counters = counters
        self._failure = failure
        self._handed = handed
        self._prepare = prepare
        self._threaded = threaded
        self._pending: list[T] = []
        self._queue: queue.SimpleQueue[list[T] | None] = queue.SimpleQueue()
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        #: packets handed to the thread, and written by it (each counted by one thread)
        self._queued = 0
        self._written = 0
        #: set by the writer once caught up while the loop's thread waits for it
        self._caught_up = threading.Event()
        self._waiting = False

    @property
    def running(self) -> bool:
        """A writer thread runs."""
        return self._thread is not None

    def start(self) -> None:
        """On the event loop's thread."""
        self._loop = asyncio.get_running_loop()
        if not self._threaded:
            return
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def put(self, item: T) -> None:
        """Queue one packet (on the loop's thread); it goes to the writer at the end of
        this loop turn."""
        self._pending.append(item)
        if not self._scheduled:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._hand_over)

    def _hand_over(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        if self._handed:
            self._counters[self._handed] += len(batch)
        if self._thread is None or (len(batch) < SMALL_BATCH and self._written == self._queued):
            # the writer is idle (all it was handed is written): a few packets cost
            # less written here than the thread's wake-up and the GIL's hand-over
            write = self._write
            if self._prepare is not None:
                batch = self._prepare(batch)
            for item in batch:
                try:
                    write(item)
                except OSError:
                    self._counters[self._failure] += 1
            return
        if self._queued - self._written >= HIGH_WATER:
            self._wait_for_writer()
            if self._queued - self._written + len(batch) > MAX_BACKLOG:
                self._counters[f"{self._failure} (backlog)"] += len(batch)
                return
        self._queued += len(batch)
        self._queue.put(batch)

    def _wait_for_writer(self) -> None:
        """Block the loop's thread, the GIL released, until the writer is back down to
        LOW_WATER or WRITER_WAIT has passed."""
        self._caught_up.clear()
        self._waiting = True  # before the check: a writer past it sees the flag
        try:
            if self._queued - self._written > LOW_WATER:
                self._caught_up.wait(WRITER_WAIT)
        finally:
            self._waiting = False

    def _run(self) -> None:
        get, write, counters, failure = self._queue.get, self._write, self._counters, self._failure
        prepare = self._prepare
        while True:
            batch = get()
            if batch is None:
                return
            handed = len(batch)
            if prepare is not None:
                batch = prepare(batch)
            for item in batch:
                try:
                    write(item)
                except OSError:
                    counters[failure] += 1
            self._written += handed  # only this thread writes it; the loop's reads it
            if self._waiting and self._queued - self._written <= LOW_WATER:
                self._caught_up.set()

    def stop(self, timeout: float = 1.0) -> None:
        """Write what was handed over, then end the thread."""
        if self._pending:
            self._hand_over()
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None
