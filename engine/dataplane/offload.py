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
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import Counter
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
#: batches waiting for the thread beyond which new packets are dropped (counted): a
#: writer that cannot keep up must not grow the queue without bound
MAX_BACKLOG = 64
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
        #: batches handed to the thread, and written by it
        self._sent = 0
        self._done = 0

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
        if self._thread is None or (len(batch) < SMALL_BATCH and self._done == self._sent):
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
        if self._sent - self._done >= MAX_BACKLOG:
            self._counters[f"{self._failure} (backlog)"] += len(batch)
            return
        self._sent += 1
        self._queue.put(batch)

    def _run(self) -> None:
        get, write, counters, failure = self._queue.get, self._write, self._counters, self._failure
        prepare = self._prepare
        while True:
            batch = get()
            if batch is None:
                return
            if prepare is not None:
                batch = prepare(batch)
            for item in batch:
                try:
                    write(item)
                except OSError:
                    counters[failure] += 1
            self._done += 1  # only this thread writes it; the loop's thread reads it

    def stop(self, timeout: float = 1.0) -> None:
        """Write what was handed over, then end the thread."""
        if self._pending:
            self._hand_over()
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None
