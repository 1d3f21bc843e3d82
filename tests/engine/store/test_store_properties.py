"""Property: replicas built from change sets always reproduce the store exactly."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.store import FLOWS, SESSIONS, SYSLOG, ChangeSet, Store

TABLES = (SESSIONS, FLOWS)


@dataclass(frozen=True, slots=True)
class Rec:
    value: int


keys = st.integers(0, 5)
ops = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(TABLES), keys, st.integers(0, 3)),
    st.tuples(st.just("remove"), st.sampled_from(TABLES), keys),
    st.tuples(st.just("log")),
    st.tuples(st.just("flush")),
    st.tuples(st.just("read")),
    st.tuples(st.just("snapshot")),
    st.tuples(st.just("batch"), st.sampled_from(TABLES), keys, st.integers(0, 3)),
)


def apply(replica: dict[str, dict], changes: ChangeSet | None) -> None:
    if changes is None:
        return
    for name, table in changes.tables.items():
        assert not (table.added.keys() & table.changed.keys())
        assert not (table.added.keys() & table.removed)
        assert not (table.changed.keys() & table.removed)
        for key in table.added:
            assert key not in replica[name]
        for key in (*table.changed, *table.removed):
            assert key in replica[name]
        table.apply_to(replica[name])


@settings(max_examples=300, deadline=None)
@given(st.lists(ops, max_size=80))
def test_replicas_from_change_sets_match_the_store(operations: list[tuple]) -> None:
    store = Store(syslog_size=3)
    names = (*TABLES, SYSLOG)
    sub = store.subscribe()
    sessions_only = store.subscribe({SESSIONS})
    sub_replica: dict[str, dict] = {name: {} for name in names}
    filtered_replica: dict[str, dict] = {SESSIONS: {}}
    listener_replica: dict[str, dict] = {name: {} for name in names}
    versions: list[int] = []

    def on_flush(changes: ChangeSet) -> None:
        versions.append(changes.version)
        apply(listener_replica, changes)

    store.listen(on_flush)
    # A late joiner: seeded from a snapshot, then following its own subscription.
    late = None
    late_replica: dict[str, dict] = {}
    frozen: list[tuple[object, dict[str, dict]]] = []

    for op in operations:
        match op:
            case ("put", table, key, value):
                store.put(table, key, Rec(value))
            case ("remove", table, key):
                store.remove(table, key)
            case ("log",):
                store.append_log(f"line {store.syslog.next_seq}")
            case ("flush",):
                store.flush()
            case ("read",):
                apply(sub_replica, sub.get_nowait())
                if late is not None:
                    late_changes = late.get_nowait()
                    if late_changes is not None:
                        for name, table in late_changes.tables.items():
                            table.apply_to(late_replica[name])
            case ("snapshot",):
                snap = store.snapshot()
                # A snapshot is the published version: what every-flush listeners hold.
                assert snap.version == store.version
                assert {n: dict(snap.table(n)) for n in names} == listener_replica
                frozen.append((snap, {n: dict(snap.table(n)) for n in names}))
                if late is None:
                    late = store.subscribe()
                    late_replica = {n: dict(snap.table(n)) for n in names}
            case ("batch", table, key, value):
                with store.batch():
                    store.put(table, key, Rec(value))
                    store.remove(table, (key + 1) % 6)

    store.flush()
    apply(sub_replica, sub.get_nowait())
    apply(filtered_replica, sessions_only.get_nowait())
    final = {name: dict(store.table(name)) for name in names}
    assert sub_replica == final
    assert listener_replica == final
    assert filtered_replica[SESSIONS] == final[SESSIONS]
    assert versions == list(range(1, store.version + 1))
    if late is not None:
        late_changes = late.get_nowait()
        if late_changes is not None:
            for name, table in late_changes.tables.items():
                table.apply_to(late_replica[name])
        assert late_replica == final
    for snap, contents in frozen:
        assert {n: dict(snap.table(n)) for n in names} == contents
