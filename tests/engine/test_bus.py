"""The event bus: declared order, consequences before the cause is done, a broken
consumer cannot stop the others, and a burst of events is one store change set."""

from __future__ import annotations

from engine.bus import EventBus
from engine.store import SESSIONS, Store


def test_consumers_get_events_in_subscription_order_and_by_kind() -> None:
    bus = EventBus()
    seen: list[tuple[str, object]] = []
    bus.subscribe("first", lambda e: seen.append(("first", e)))
    bus.subscribe("ints only", lambda e: seen.append(("ints", e)), (int,))
    bus.subscribe("last", lambda e: seen.append(("last", e)))
    bus.publish(1)
    bus.publish("x")
    assert seen == [("first", 1), ("ints", 1), ("last", 1), ("first", "x"), ("last", "x")]
    assert bus.order == ("first", "ints only", "last")


def test_an_event_published_during_a_delivery_reaches_everyone_first() -> None:
    """What the data plane relies on: its final counters for a deleted child reach the
    session model before the deletion does."""
    bus = EventBus()
    seen: list[tuple[str, object]] = []

    def data_plane(event: object) -> None:
        seen.append(("data plane", event))
        if event == "child deleted":
            bus.publish("final counters")

    bus.subscribe("data plane", data_plane)
    bus.subscribe("sessions", lambda e: seen.append(("sessions", e)))
    bus.publish("child deleted")
    assert seen == [
        ("data plane", "child deleted"),
        ("data plane", "final counters"),
        ("sessions", "final counters"),
        ("sessions", "child deleted"),
    ]


def test_a_broken_consumer_is_counted_and_the_others_still_get_the_event() -> None:
    bus = EventBus()
    seen: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("a bug")

    bus.subscribe("broken", broken)
    bus.subscribe("fine", seen.append)
    bus.publish("e")
    assert seen == ["e"] and bus.errors["broken"] == 1


def test_a_burst_of_events_is_one_store_change_set() -> None:
    store = Store()
    bus = EventBus(scope=store.batch)
    versions: list[int] = []
    store.listen(lambda changes: versions.append(changes.version))

    def write(event: object) -> None:
        store.put(SESSIONS, event, event)
        store.flush()  # consumers may flush: inside a burst it waits for the end

    bus.subscribe("writer", write)
    bus.publish_all(["a", "b", "c"])
    assert len(versions) == 1
    assert set(store.table(SESSIONS)) == {"a", "b", "c"}
