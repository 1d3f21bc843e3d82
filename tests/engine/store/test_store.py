"""The store: writes, change sets and their merge rules, subscribers, snapshots, syslog."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import pytest

from engine.store import (
    FLOWS,
    PEERS,
    SESSIONS,
    SYSLOG,
    ChangeMerger,
    ChangeSet,
    Store,
    history_key,
)


@dataclass(frozen=True, slots=True)
class Rec:
    name: str
    n: int = 0


def collect(store: Store, tables: set[str] | None = None) -> list[ChangeSet]:
    seen: list[ChangeSet] = []
    store.listen(seen.append, tables)
    return seen


# -- reads and writes ---------------------------------------------------------------------


def test_put_get_remove() -> None:
    store = Store()
    assert store.get(SESSIONS, "a") is None
    store.put(SESSIONS, "a", Rec("a"))
    assert store.get(SESSIONS, "a") == Rec("a")
    assert dict(store.table(SESSIONS)) == {"a": Rec("a")}
    store.remove(SESSIONS, "a")
    assert store.get(SESSIONS, "a") is None
    store.remove(SESSIONS, "a")  # absent: nothing to do
    assert store.table(SESSIONS) == {}


def test_reads_see_writes_before_the_flush() -> None:
    store = Store()
    store.put(PEERS, 1, Rec("p"))
    assert store.get(PEERS, 1) == Rec("p")
    assert store.version == 0
    store.flush()
    assert store.version == 1


def test_unknown_table_none_record_and_syslog_writes_are_refused() -> None:
    store = Store()
    with pytest.raises(KeyError, match="sesions"):
        store.put("sesions", 1, Rec("x"))
    with pytest.raises(KeyError):
        store.get("nope", 1)
    with pytest.raises(KeyError):
        store.subscribe({"nope"})
    with pytest.raises(TypeError):
        store.put(SESSIONS, 1, None)
    with pytest.raises(ValueError):
        store.put(SYSLOG, 1, "line")
    seq = store.append_log("line")
    with pytest.raises(ValueError):
        store.remove(SYSLOG, seq)


def test_custom_table_set() -> None:
    store = Store(tables={"widgets"})
    assert store.table_names == {"widgets", SYSLOG}
    store.put("widgets", 1, Rec("w"))
    with pytest.raises(KeyError):
        store.put(SESSIONS, 1, Rec("s"))


def test_equal_put_is_a_no_op() -> None:
    store = Store()
    seen = collect(store)
    sub = store.subscribe()
    store.put(SESSIONS, "a", Rec("a", 1))
    store.flush()
    store.put(SESSIONS, "a", Rec("a", 1))  # a new but equal object
    record = store.get(SESSIONS, "a")
    store.put(SESSIONS, "a", record)  # the same object
    assert store.flush() is None
    assert store.version == 1
    assert len(seen) == 1
    assert sub.get_nowait() is not None
    assert sub.get_nowait() is None


def test_a_write_undone_before_the_flush_publishes_nothing() -> None:
    store = Store()
    store.put(SESSIONS, "a", Rec("a", 1))
    store.flush()
    store.put(SESSIONS, "a", Rec("a", 2))
    store.put(SESSIONS, "a", Rec("a", 1))
    store.remove(SESSIONS, "a")
    store.put(SESSIONS, "a", Rec("a", 1))
    assert store.flush() is None
    assert store.version == 1


def test_flush_without_writes_publishes_nothing() -> None:
    store = Store()
    seen = collect(store)
    assert store.flush() is None
    assert seen == []
    assert store.version == 0


# -- change sets --------------------------------------------------------------------------


def test_flush_returns_and_publishes_one_change_set() -> None:
    store = Store()
    seen = collect(store)
    store.put(SESSIONS, "a", Rec("a"))
    store.put(SESSIONS, "b", Rec("b"))
    store.put(PEERS, "p", Rec("p"))
    changes = store.flush()
    assert seen == [changes]
    assert changes is not None
    assert changes.version == 1
    assert set(changes.tables) == {SESSIONS, PEERS}
    assert SESSIONS in changes
    assert FLOWS not in changes
    assert dict(changes.table(SESSIONS).added) == {"a": Rec("a"), "b": Rec("b")}
    assert not changes.table(FLOWS)
    assert changes.table(FLOWS).removed == frozenset()


def test_change_set_is_read_only() -> None:
    store = Store()
    store.put(SESSIONS, "a", Rec("a"))
    changes = store.flush()
    assert changes is not None
    with pytest.raises(TypeError):
        changes.table(SESSIONS).added["b"] = Rec("b")  # type: ignore[index]


def test_batch_is_one_change_set() -> None:
    store = Store()
    seen = collect(store)
    with store.batch():
        for i in range(50):
            store.put(SESSIONS, i, Rec("s", i))
        with store.batch():
            store.put(PEERS, "p", Rec("p"))
        store.flush()  # deferred to the end of the outer batch
        assert seen == []
    assert len(seen) == 1
    assert seen[0].version == 1
    assert len(seen[0].table(SESSIONS).added) == 50
    assert seen[0].table(PEERS).added == {"p": Rec("p")}


def test_flush_soon_is_one_change_set_per_loop_iteration_and_at_once_without_a_loop() -> None:
    store = Store()
    seen = collect(store)
    store.put(SESSIONS, "a", Rec("a"))
    store.flush_soon()  # no running loop: now
    assert len(seen) == 1

    async def burst() -> None:
        for i in range(100):
            store.append_log(f"line {i}")
            store.flush_soon()
        assert len(seen) == 1  # nothing yet: the loop has not turned
        await asyncio.sleep(0)
        assert len(seen) == 2 and len(seen[1].table(SYSLOG).added) == 100
        store.put(SESSIONS, "b", Rec("b"))
        store.flush_soon()
        await asyncio.sleep(0)
        assert len(seen) == 3

    asyncio.run(burst())


def test_batch_flushes_even_when_its_body_raises() -> None:
    store = Store()
    seen = collect(store)
    with pytest.raises(RuntimeError), store.batch():
        store.put(SESSIONS, "a", Rec("a"))
        raise RuntimeError
    assert len(seen) == 1
    assert store.get(SESSIONS, "a") == Rec("a")


def test_add_then_remove_appears_nowhere() -> None:
    store = Store()
    store.put(SESSIONS, "keep", Rec("k"))
    store.put(SESSIONS, "a", Rec("a"))
    store.remove(SESSIONS, "a")
    changes = store.flush()
    assert changes is not None
    table = changes.table(SESSIONS)
    assert dict(table.added) == {"keep": Rec("k")}
    assert not table.changed
    assert not table.removed


def test_add_then_change_is_added_with_the_latest_record() -> None:
    store = Store()
    store.put(SESSIONS, "a", Rec("a", 1))
    store.put(SESSIONS, "a", Rec("a", 2))
    changes = store.flush()
    assert changes is not None
    assert dict(changes.table(SESSIONS).added) == {"a": Rec("a", 2)}
    assert not changes.table(SESSIONS).changed


def test_change_then_remove_is_only_removed() -> None:
    store = Store()
    store.put(SESSIONS, "a", Rec("a", 1))
    store.flush()
    store.put(SESSIONS, "a", Rec("a", 2))
    store.remove(SESSIONS, "a")
    changes = store.flush()
    assert changes is not None
    table = changes.table(SESSIONS)
    assert table.removed == {"a"}
    assert not table.added
    assert not table.changed


def test_remove_then_add_is_changed() -> None:
    store = Store()
    store.put(SESSIONS, "a", Rec("a", 1))
    store.flush()
    store.remove(SESSIONS, "a")
    store.put(SESSIONS, "a", Rec("a", 2))
    changes = store.flush()
    assert changes is not None
    table = changes.table(SESSIONS)
    assert dict(table.changed) == {"a": Rec("a", 2)}
    assert not table.added
    assert not table.removed


def _set(version: int, added=None, changed=None, removed=()) -> ChangeSet:
    from engine.store.changes import freeze

    frozen = freeze(dict(added or {}), dict(changed or {}), set(removed))
    assert frozen is not None
    return ChangeSet(version, {SESSIONS: frozen})


def test_merger_rules_across_versions() -> None:
    merger = ChangeMerger(_set(1, added={"add-rm": 1, "add-ch": 1}, changed={"ch-rm": 1}))
    merger.add(_set(2, changed={"add-ch": 2}, removed={"add-rm", "ch-rm", "rm-add"}))
    merger.add(_set(3, added={"rm-add": 3, "new": 3}))
    merged = merger.result()
    assert merged is not None
    assert merged.version == 3
    table = merged.table(SESSIONS)
    assert dict(table.added) == {"add-ch": 2, "new": 3}
    assert dict(table.changed) == {"rm-add": 3}
    assert table.removed == {"ch-rm"}
    assert merger.result() is None


def test_merged_changes_that_cancel_out_are_not_delivered() -> None:
    store = Store()
    sub = store.subscribe()
    store.put(SESSIONS, "a", Rec("a"))
    store.flush()
    store.remove(SESSIONS, "a")
    store.flush()
    assert sub.get_nowait() is None


# -- subscribers --------------------------------------------------------------------------


def test_a_lagging_subscriber_gets_one_merged_set() -> None:
    store = Store()
    sub = store.subscribe()
    store.put(SESSIONS, "gone", Rec("g"))
    store.put(SESSIONS, "old", Rec("o", 0))
    store.flush()
    assert sub.get_nowait() is not None
    for i in range(1, 101):
        store.put(SESSIONS, "old", Rec("o", i))
        store.put(SESSIONS, f"new{i % 10}", Rec("n", i))
        if i == 50:
            store.remove(SESSIONS, "gone")
        store.flush()
    assert store.version == 101
    merged = sub.get_nowait()
    assert merged is not None
    assert merged.version == 101
    table = merged.table(SESSIONS)
    assert dict(table.changed) == {"old": Rec("o", 100)}
    assert dict(table.added) == {f"new{j}": Rec("n", 90 + j if j else 100) for j in range(10)}
    assert table.removed == {"gone"}
    assert sub.get_nowait() is None


def test_a_keeping_up_subscriber_gets_the_published_set_itself() -> None:
    store = Store()
    sub = store.subscribe()
    store.put(SESSIONS, "a", Rec("a"))
    published = store.flush()
    assert sub.get_nowait() is published


async def test_async_iteration_and_close() -> None:
    store = Store()
    sub = store.subscribe({SESSIONS})
    received: list[ChangeSet] = []

    async def reader() -> None:
        async for changes in sub:
            received.append(changes)

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    store.put(SESSIONS, "a", Rec("a", 1))
    store.flush()
    await asyncio.sleep(0)
    assert [c.version for c in received] == [1]
    # Three flushes before the reader runs again arrive as one.
    for n in (2, 3, 4):
        store.put(SESSIONS, "a", Rec("a", n))
        store.flush()
    await asyncio.sleep(0)
    assert [c.version for c in received] == [1, 4]
    assert dict(received[-1].table(SESSIONS).changed) == {"a": Rec("a", 4)}
    sub.close()
    await asyncio.wait_for(task, 1)
    assert sub.closed
    store.put(SESSIONS, "b", Rec("b"))
    store.flush()
    assert sub.get_nowait() is None


async def test_store_close_ends_every_subscription() -> None:
    store = Store()
    subs = [store.subscribe() for _ in range(3)]

    async def drain(sub) -> int:
        return len([c async for c in sub])

    tasks = [asyncio.create_task(drain(s)) for s in subs]
    await asyncio.sleep(0)
    store.close()
    assert await asyncio.wait_for(asyncio.gather(*tasks), 1) == [0, 0, 0]


async def test_one_reader_per_subscription() -> None:
    store = Store()
    sub = store.subscribe()
    first = asyncio.create_task(anext(sub))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await anext(sub)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    # Cancelling a read leaves the subscription usable.
    store.put(SESSIONS, "a", Rec("a"))
    store.flush()
    changes = await asyncio.wait_for(anext(sub), 1)
    assert changes.version == 1


def test_subscription_as_context_manager() -> None:
    store = Store()
    with store.subscribe() as sub:
        store.put(SESSIONS, "a", Rec("a"))
    assert sub.closed
    store.flush()
    assert sub.get_nowait() is None


def test_table_filters() -> None:
    store = Store()
    sessions = store.subscribe({SESSIONS})
    peers_only = store.subscribe(PEERS)  # a single name is accepted too
    seen = collect(store, {FLOWS})
    store.put(SESSIONS, "s", Rec("s"))
    store.put(FLOWS, "f", Rec("f"))
    store.flush()
    changes = sessions.get_nowait()
    assert changes is not None
    assert set(changes.tables) == {SESSIONS}
    assert peers_only.get_nowait() is None
    assert [set(c.tables) for c in seen] == [{FLOWS}]
    store.put(SESSIONS, "s2", Rec("s"))
    store.flush()
    assert len(seen) == 1
    store.put(PEERS, "p", Rec("p"))
    store.flush()
    changes = peers_only.get_nowait()
    assert changes is not None
    assert changes.version == 3


def test_listeners_see_every_flush_in_order() -> None:
    store = Store()
    seen = collect(store)
    for i in range(20):
        store.put(SESSIONS, "a", Rec("a", i))
        store.flush()
    assert [c.version for c in seen] == list(range(1, 21))
    assert [dict(c.table(SESSIONS).added or c.table(SESSIONS).changed) for c in seen] == [
        {"a": Rec("a", i)} for i in range(20)
    ]


def test_a_failing_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    store = Store()
    before = collect(store)

    def broken(changes: ChangeSet) -> None:
        raise ValueError("boom")

    bad = store.listen(broken)
    after = collect(store)
    sub = store.subscribe()
    with caplog.at_level(logging.ERROR, logger="engine.store.core"):
        for i in range(3):
            store.put(SESSIONS, "a", Rec("a", i))
            store.flush()
    assert len(before) == len(after) == 3
    assert sub.get_nowait() is not None
    assert bad.errors == 3
    assert store.listener_errors == 3
    assert len([r for r in caplog.records if "boom" in (r.exc_text or "")]) == 1
    bad.close()
    store.put(SESSIONS, "a", Rec("a", 9))
    store.flush()
    assert bad.errors == 3


def test_writes_from_a_listener_go_into_the_next_set() -> None:
    store = Store()
    seen = collect(store)

    def mirror(changes: ChangeSet) -> None:
        for key, record in changes.table(SESSIONS).added.items():
            store.put(PEERS, key, record)
        assert store.flush() is None  # no nested publication

    store.listen(mirror, {SESSIONS})
    store.put(SESSIONS, "a", Rec("a"))
    store.flush()
    assert [set(c.tables) for c in seen] == [{SESSIONS}]
    store.flush()
    assert [set(c.tables) for c in seen] == [{SESSIONS}, {PEERS}]


def test_consumers_closed_during_a_flush_get_nothing_more() -> None:
    store = Store()
    sub = store.subscribe()
    late: list[ChangeSet] = []

    def closer(changes: ChangeSet) -> None:
        sub.close()
        second.close()

    store.listen(closer)
    second = store.listen(late.append)
    store.put(SESSIONS, "a", Rec("a"))
    store.flush()
    assert late == []
    assert sub.get_nowait() is None


# -- snapshots ----------------------------------------------------------------------------


def test_snapshots_do_not_change_after_later_writes() -> None:
    store = Store()
    for i in range(5):
        store.put(SESSIONS, i, Rec("s", i))
    store.append_log("one")
    store.flush()
    snap = store.snapshot()
    view = store.table(SESSIONS)
    assert snap.version == 1
    assert store.snapshot() is snap  # nothing changed: the same object
    store.put(SESSIONS, 0, Rec("s", 100))
    assert store.snapshot() is snap  # unflushed writes are not in a snapshot
    store.remove(SESSIONS, 1)
    store.put(SESSIONS, 9, Rec("s", 9))
    store.put(PEERS, "p", Rec("p"))
    store.append_log("two")
    store.flush()
    assert dict(snap.table(SESSIONS)) == {i: Rec("s", i) for i in range(5)}
    assert dict(view) == {i: Rec("s", i) for i in range(5)}
    assert snap.table(PEERS) == {}
    assert list(snap.table(SYSLOG).values()) == ["one"]
    assert snap.get(SESSIONS, 0) == Rec("s", 0)
    later = store.snapshot()
    assert later.version == 2
    assert later.get(SESSIONS, 0) == Rec("s", 100)
    with pytest.raises(TypeError):
        snap.table(SESSIONS)[0] = Rec("x")  # type: ignore[index]


def test_a_snapshot_is_the_published_version_without_unflushed_writes() -> None:
    store = Store()
    store.put(SESSIONS, "a", Rec("a"))
    store.put(SESSIONS, "b", Rec("b", 1))
    store.flush()
    store.put(SESSIONS, "b", Rec("b", 2))  # unflushed: in table() and get(), not in snapshot()
    store.put(SESSIONS, "c", Rec("c"))
    store.remove(SESSIONS, "a")
    snap = store.snapshot()
    assert snap.version == 1
    assert dict(snap.table(SESSIONS)) == {"a": Rec("a"), "b": Rec("b", 1)}
    assert dict(store.table(SESSIONS)) == {"b": Rec("b", 2), "c": Rec("c")}
    store.put(SESSIONS, "d", Rec("d"))
    assert store.snapshot() is snap  # still version 1
    sub = store.subscribe()
    replica = dict(snap.table(SESSIONS))
    store.remove(SESSIONS, "c")  # added and removed within the set: the snapshot never had it
    store.flush()
    changes = sub.get_nowait()
    assert changes is not None
    assert changes.version == snap.version + 1
    changes.table(SESSIONS).apply_to(replica)
    assert replica == dict(store.table(SESSIONS))
    assert store.snapshot().version == 2
    assert dict(store.snapshot().table(SESSIONS)) == replica


# -- history through the store ------------------------------------------------------------


def test_history_is_dropped_when_the_session_is_removed() -> None:
    store = Store()
    store.put(SESSIONS, "s", Rec("s"))
    store.put(FLOWS, "s", Rec("f"))
    store.record_sample("s", 0.0, 0, 0, 0, 0)
    store.record_sample("s", 1.0, 100, 10, 1, 1)
    assert store.rates("s").bytes_in_per_s == 100
    assert store.series("s", "bytes_in", points=2) == [0.0, 100.0]
    store.remove(FLOWS, "s")
    assert "s" in store.history
    store.remove(SESSIONS, "s")
    assert "s" not in store.history
    assert store.rates("s").bytes_in_per_s == 0


def test_a_flows_history_is_its_own_and_goes_with_the_flow() -> None:
    store = Store()
    store.put(SESSIONS, "s", Rec("s"))
    store.put(FLOWS, "s", Rec("f"))  # same id in another table: another ring
    store.record_sample("s", 0.0, 0, 0, 0, 0)
    store.record_sample("s", 1.0, 100, 0, 1, 0)
    flow = history_key(FLOWS, "s")
    store.record_sample(flow, 0.0, 0, 0, 0, 0)
    store.record_sample(flow, 1.0, 40, 0, 1, 0)
    assert store.rates("s").bytes_in_per_s == 100
    assert store.rates(flow).bytes_in_per_s == 40
    store.remove(FLOWS, "s")
    assert flow not in store.history and "s" in store.history


# -- syslog ring --------------------------------------------------------------------------


def test_syslog_ring_appends_and_evicts_visibly() -> None:
    store = Store(syslog_size=3)
    sub = store.subscribe({SYSLOG})
    seqs = [store.append_log(f"line {i}") for i in range(3)]
    assert seqs == [1, 2, 3]
    changes = store.flush()
    assert changes is not None
    assert dict(changes.table(SYSLOG).added) == {1: "line 0", 2: "line 1", 3: "line 2"}
    assert sub.get_nowait() is changes
    store.append_log("line 3")
    store.append_log("line 4")
    changes = store.flush()
    assert changes is not None
    assert dict(changes.table(SYSLOG).added) == {4: "line 3", 5: "line 4"}
    assert changes.table(SYSLOG).removed == {1, 2}
    ring = store.syslog
    assert ring.maxlen == 3
    assert len(ring) == 3
    assert list(ring) == ["line 2", "line 3", "line 4"]
    assert list(ring.items()) == [(3, "line 2"), (4, "line 3"), (5, "line 4")]
    assert ring[0] == "line 2"
    assert ring[-1] == "line 4"
    with pytest.raises(IndexError):
        ring[3]
    assert ring.next_seq == 6


def test_syslog_entry_appended_and_evicted_in_one_set_appears_nowhere() -> None:
    store = Store(syslog_size=2)
    store.append_log("a")
    store.flush()
    for line in "bcd":
        store.append_log(line)
    changes = store.flush()
    assert changes is not None
    table = changes.table(SYSLOG)
    assert dict(table.added) == {3: "c", 4: "d"}
    assert table.removed == {1}
    assert list(store.syslog) == ["c", "d"]


def test_iterating_the_syslog_while_appending_is_safe() -> None:
    store = Store(syslog_size=5)
    for i in range(5):
        store.append_log(i)
    seen = []
    for entry in store.syslog:
        seen.append(entry)
        store.append_log(entry + 100)
    assert seen == [0, 1, 2, 3, 4]
    assert list(store.syslog) == [100, 101, 102, 103, 104]
