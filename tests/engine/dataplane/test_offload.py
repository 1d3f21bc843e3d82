"""Writes handed to a thread once per loop turn: in order, on the writer thread for a
batch, on the loop's own thread for a few packets while the writer is idle; failures
and hand-overs counted; a writer fallen behind waited for, only a stuck one dropped."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest
from netutil import until

from engine.dataplane import offload as offload_module
from engine.dataplane.offload import HIGH_WATER, MAX_BACKLOG, SMALL_BATCH, Offload


class Recorder:
    def __init__(self, fail_on: bytes = b"") -> None:
        self.items: list[bytes] = []
        self.threads: set[str] = set()
        self.fail_on = fail_on
        #: seconds each write takes; cleared to hold every write until set again
        self.delay = 0.0
        self.release = threading.Event()
        self.release.set()

    def write(self, item: bytes) -> None:
        self.threads.add(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)
        self.release.wait()
        if item == self.fail_on:
            raise OSError("no buffer space")
        self.items.append(item)


async def test_a_batch_is_written_in_order_on_the_writer_thread() -> None:
    recorder, counters = Recorder(), Counter[str]()
    offload = Offload("test writer", recorder.write, counters, "write failed", "handed")
    offload.start()
    try:
        packets = [bytes([n]) * 10 for n in range(100)]
        for packet in packets:  # one loop turn: one hand-over
            offload.put(packet)
        assert recorder.items == []  # nothing before the turn ends
        await until(lambda: len(recorder.items) == 100)
        assert recorder.items == packets
        assert recorder.threads == {"test writer"}
        assert counters == {"handed": 100}
    finally:
        offload.stop()


async def test_a_few_packets_with_the_writer_idle_are_written_on_the_loop_thread() -> None:
    recorder, counters = Recorder(), Counter[str]()
    offload = Offload("test writer", recorder.write, counters, "write failed")
    offload.start()
    try:
        for n in range(SMALL_BATCH - 1):
            offload.put(bytes([n]))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert recorder.items == [bytes([n]) for n in range(SMALL_BATCH - 1)]
        assert recorder.threads == {threading.current_thread().name}
    finally:
        offload.stop()


async def test_failed_writes_are_counted_and_the_rest_still_written() -> None:
    recorder, counters = Recorder(fail_on=b"bad"), Counter[str]()
    offload = Offload("test writer", recorder.write, counters, "write failed")
    offload.start()
    try:
        for item in [b"a", b"bad", b"b", b"c", b"d", b"bad"]:
            offload.put(item)
        await until(lambda: counters["write failed"] == 2)
        await until(lambda: len(recorder.items) == 4)
        assert recorder.items == [b"a", b"b", b"c", b"d"]
    finally:
        offload.stop()


async def test_stop_writes_what_is_pending() -> None:
    recorder = Recorder()
    offload = Offload("test writer", recorder.write, Counter(), "write failed")
    offload.start()
    for n in range(50):
        offload.put(bytes([n]))
    offload.stop()  # before the loop's turn ended
    assert recorder.items == [bytes([n]) for n in range(50)]
    assert not offload.running


async def test_without_a_thread_each_batch_is_prepared_and_written_at_the_turns_end() -> None:
    recorder, counters = Recorder(), Counter[str]()
    offload = Offload(
        "test writer",
        recorder.write,
        counters,
        "write failed",
        prepare=lambda batch: [b"".join(batch)],
        threaded=False,
    )
    offload.start()
    for n in range(3 * SMALL_BATCH):
        offload.put(bytes([n]))
    assert recorder.items == []
    await asyncio.sleep(0)
    assert recorder.items == [bytes(range(3 * SMALL_BATCH))]  # one batch, prepared
    assert recorder.threads == {threading.current_thread().name}
    assert not offload.running
    offload.stop()


async def test_a_writer_fallen_behind_is_waited_for_and_nothing_is_dropped() -> None:
    recorder, counters = Recorder(), Counter[str]()
    recorder.delay = 0.0002  # slower than the loop hands packets over
    offload = Offload("test writer", recorder.write, counters, "write failed")
    offload.start()
    try:
        packets = [n.to_bytes(2, "big") for n in range(4 * HIGH_WATER)]
        for turn in range(0, len(packets), 8):  # many small batches, one per loop turn
            for packet in packets[turn : turn + 8]:
                offload.put(packet)
            await asyncio.sleep(0)
        await until(lambda: len(recorder.items) == len(packets))
        assert recorder.items == packets
        assert "write failed (backlog)" not in counters
    finally:
        offload.stop()


async def test_a_stuck_writer_costs_packets_past_the_backlog_not_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(offload_module, "WRITER_WAIT", 0.001)
    recorder, counters = Recorder(), Counter[str]()
    recorder.release.clear()
    offload = Offload("test writer", recorder.write, counters, "write failed")
    offload.start()
    try:
        started = time.monotonic()
        for turn in range(MAX_BACKLOG // 100 + 3):
            for n in range(100):
                offload.put((turn * 100 + n).to_bytes(2, "big"))
            await asyncio.sleep(0)
        assert time.monotonic() - started < 1.0  # each turn waited at most WRITER_WAIT
        assert counters["write failed (backlog)"] == 300
        recorder.release.set()
        await until(lambda: len(recorder.items) == MAX_BACKLOG)
        assert recorder.items == [n.to_bytes(2, "big") for n in range(MAX_BACKLOG)]
    finally:
        recorder.release.set()
        offload.stop()
