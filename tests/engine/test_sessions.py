"""The crypto-session model: grouping, every status transition, monotonic counters."""

from __future__ import annotations

from ike_pair import EnginePair, site_to_site_config

from engine.crypto import ChildKeys
from engine.events import (
    ChildAlgorithms,
    ChildSaDeleted,
    ChildSaInstalled,
    Counters,
    DownReason,
    EspTransforms,
    IkeAlgorithms,
    IkeSaDown,
    IkeSaNegotiating,
    IkeSaUp,
    TrafficSelectorSet,
)
from engine.logbook import Logbook
from engine.records import SessionRecord, SessionStatus
from engine.sessions import SessionModel
from engine.store import FLOWS, SESSIONS, Store, history_key

ALG = IkeAlgorithms("aes-gcm-256", "sha256", "none", 31)
CHILD_ALG = ChildAlgorithms("aes-gcm-256", "none", None, False)
CHILD_TRANSFORMS = EspTransforms.named("aes-gcm-256", "none")
KEYS = ChildKeys(b"e" * 36, b"", b"f" * 36, b"")
TS = TrafficSelectorSet(("10.1.0.0/16",), ("10.2.0.0/16",))


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def model() -> tuple[SessionModel, Store, list]:
    store = Store()
    transitions: list = []
    sessions = SessionModel(store, clock=Clock(), publish=transitions.append)
    return sessions, store, transitions


def up(
    ike: int,
    remote: tuple[str, int] = ("192.0.2.2", 500),
    peer: str = "p",
    rekeyed_from: int | None = None,
) -> IkeSaUp:
    return IkeSaUp(
        ike,
        peer,
        ("192.0.2.1", 500),
        remote,
        b"i" * 8,
        b"r" * 8,
        True,
        "192.0.2.1",
        remote[0],
        ALG,
        False,
        False,
        3600.0,
        0.0,
        rekeyed_from,
    )


def child(
    ike: int,
    child_id: int,
    remote: tuple[str, int] = ("192.0.2.2", 500),
    ts: TrafficSelectorSet = TS,
    rekeyed_from: int | None = None,
) -> ChildSaInstalled:
    return ChildSaInstalled(
        ike,
        child_id,
        "p",
        ("192.0.2.1", 500),
        remote,
        0x1000 + child_id,
        0x2000 + child_id,
        CHILD_ALG,
        CHILD_TRANSFORMS,
        ts,
        3600.0,
        4608000,
        False,
        True,
        0.0,
        KEYS,
        rekeyed_from,
    )


def sessions_in(store: Store) -> list[SessionRecord]:
    return list(store.table(SESSIONS).values())  # type: ignore[arg-type]


def test_status_transitions_through_a_session_life() -> None:
    sessions, store, transitions = model()
    remote = ("192.0.2.2", 500)
    sessions.handle(IkeSaNegotiating(1, "p", ("192.0.2.1", 500), remote, 0.0))
    sessions.handle(up(1))
    sessions.handle(child(1, 10))
    sessions.handle(ChildSaDeleted(1, 10, "p", 0x100A, 0x200A, DownReason.PEER_DELETE, 0.0))
    sessions.handle(IkeSaDown(1, "p", ("192.0.2.1", 500), remote, DownReason.DPD_TIMEOUT, 0.0))
    assert [t.new for t in transitions] == [
        SessionStatus.DOWN_NEGOTIATING,
        SessionStatus.UP_IDLE,
        SessionStatus.UP_ACTIVE,
        SessionStatus.UP_IDLE,
        SessionStatus.DOWN,
    ]
    assert transitions[1].came_up and transitions[-1].went_down
    assert transitions[-1].reason is DownReason.DPD_TIMEOUT
    assert not sessions_in(store)  # a dynamic session goes when it is down


def test_flows_without_ike_are_up_no_ike() -> None:
    sessions, store, _ = model()
    sessions.handle(up(1))
    sessions.handle(child(1, 10))
    # the IKE SA went away but the child SA stays (an expired IKE SA on IOS)
    sessions._ike_gone(1, DownReason.LIFETIME_EXPIRED, 0.0)
    (record,) = sessions_in(store)
    assert record.status is SessionStatus.UP_NO_IKE


def test_ike_rekey_keeps_one_session_with_two_ike_sas_for_a_moment() -> None:
    sessions, store, transitions = model()
    sessions.handle(up(1))
    sessions.handle(child(1, 10))
    sessions.handle(up(2, rekeyed_from=1))
    (record,) = sessions_in(store)
    assert record.ike_sa_ids == (1, 2)
    sessions.handle(
        IkeSaDown(1, "p", ("192.0.2.1", 500), ("192.0.2.2", 500), DownReason.REKEYED, 0.0)
    )
    (record,) = sessions_in(store)
    assert record.ike_sa_ids == (2,) and record.status is SessionStatus.UP_ACTIVE
    assert [t.new for t in transitions] == [SessionStatus.UP_IDLE, SessionStatus.UP_ACTIVE]


def test_two_flows_to_one_peer_and_a_rekey_inside_one_flow() -> None:
    sessions, store, _ = model()
    sessions.handle(up(1))
    sessions.handle(child(1, 10))
    sessions.handle(child(1, 11, ts=TrafficSelectorSet(("10.1.0.0/16",), ("10.3.0.0/16",))))
    sessions.handle(child(1, 12, rekeyed_from=10))
    (record,) = sessions_in(store)
    flows = [store.get(FLOWS, f) for f in record.flow_ids]
    assert sorted(f.active_sas for f in flows) == [2, 4]


def test_nat_peers_sharing_an_address_are_two_sessions_with_one_description() -> None:
    from engine.config.compile import CompiledConfig
    from engine.ike.policy import IkeConfig

    sessions, store, _ = model()
    sessions.apply_config(
        CompiledConfig(IkeConfig(), isakmp_descriptions={"198.51.100.7": "Hotel NAT"})
    )
    sessions.handle(up(1, ("198.51.100.7", 4500)))
    sessions.handle(up(2, ("198.51.100.7", 4501)))
    records = sorted(sessions_in(store), key=lambda r: r.remote_port)
    assert [r.remote_port for r in records] == [4500, 4501]
    assert {r.description for r in records} == {"Hotel NAT"}


def test_counters_never_fall_back_across_child_rekeys() -> None:
    sessions, store, _ = model()
    sessions.handle(up(1))
    sessions.handle(child(1, 10))
    seen = []
    sessions.update_counters({10: Counters(1000, 10, 2000, 20)}, 1.0)
    seen.append(sessions_in(store)[0].totals)
    sessions.handle(child(1, 11, rekeyed_from=10))
    sessions.update_counters({10: Counters(1500, 15, 2500, 25), 11: Counters(100, 1, 0, 0)}, 2.0)
    seen.append(sessions_in(store)[0].totals)
    sessions.handle(ChildSaDeleted(1, 10, "p", 0x100A, 0x200A, DownReason.REKEYED, 0.0))
    seen.append(sessions_in(store)[0].totals)
    sessions.update_counters({11: Counters(300, 3, 50, 1)}, 3.0)
    seen.append(sessions_in(store)[0].totals)
    assert [t.bytes_in for t in seen] == [1000, 1600, 1600, 1800]
    assert [t.packets_out for t in seen] == [20, 25, 25, 26]
    assert store.rates(sessions_in(store)[0].session_id).bytes_in_per_s > 0
    (flow_id,) = sessions_in(store)[0].flow_ids
    flow_rates = store.rates(history_key(FLOWS, flow_id))
    assert flow_rates.bytes_in_per_s == store.rates(sessions_in(store)[0].session_id).bytes_in_per_s


def test_many_sas_from_one_peer_one_flow_ids_in_order_and_one_sample_sums_them() -> None:
    sessions, store, _ = model()
    for ike in (3, 1, 4, 2):  # come up out of order
        sessions.handle(up(ike))
        sessions.handle(child(ike, 10 + ike))
    (record,) = sessions_in(store)
    assert record.ike_sa_ids == (1, 2, 3, 4)
    (flow_id,) = record.flow_ids  # same selectors: one flow with four child SAs
    sessions.update_counters({11: Counters(100, 1, 0, 0), 13: Counters(20, 2, 0, 0)}, 1.0)
    sessions.update_counters({11: Counters(100, 1, 0, 0), 14: Counters(3, 3, 0, 0)}, 2.0)
    (record,) = sessions_in(store)
    assert (record.totals.bytes_in, record.totals.packets_in) == (123, 6)
    flow = store.get(FLOWS, flow_id)
    by_child = {c.child_sa_id: c.counters.bytes_in for c in flow.children}  # type: ignore[union-attr]
    assert by_child == {11: 100, 12: 0, 13: 20, 14: 3}
    sessions.handle(
        IkeSaDown(3, "p", ("192.0.2.1", 500), ("192.0.2.2", 500), DownReason.PEER_DELETE, 0.0)
    )
    (record,) = sessions_in(store)
    assert record.ike_sa_ids == (1, 2, 4)


def test_session_up_and_down_reach_the_syslog_ring_in_the_spec_form() -> None:
    from engine.config.compile import CompiledConfig, PeerMeta
    from engine.ike.policy import IkeConfig

    sessions, store, _ = model()
    logbook = Logbook(store)
    sessions.publish = logbook.on_event
    meta = PeerMeta(
        "p",
        "MAP",
        10,
        False,
        "eth0",
        "SJC24-2-VPN-Gateway",
        "name10",
        "name20",
        None,
        False,
        False,
        None,
    )
    sessions.apply_config(CompiledConfig(IkeConfig(), {"p": meta}))
    sessions.handle(up(1, ("10.6.6.1", 500)))
    sessions.handle(
        IkeSaDown(1, "p", ("192.0.2.1", 500), ("10.6.6.1", 500), DownReason.PEER_DELETE, 0.0)
    )
    lines = [e.ios_line() for e in store.syslog]
    assert lines == [
        "%CRYPTO-5-SESSION_STATUS: Crypto session is UP. Peer 10.6.6.1:500 fvrf=name10 "
        "ivrf=name20 Description: SJC24-2-VPN-Gateway Id: 10.6.6.1",
        "%CRYPTO-5-SESSION_STATUS: Crypto session is DOWN. Peer 10.6.6.1:500 fvrf=name10 "
        "ivrf=name20 Description: SJC24-2-VPN-Gateway Id: 10.6.6.1",
    ]


def test_model_follows_a_real_engine_pair_through_rekeys() -> None:
    pair = EnginePair(*site_to_site_config())
    sessions, store, transitions = model()
    handled = 0

    def feed() -> None:
        nonlocal handled
        for event in pair.events_a[handled:]:
            sessions.handle(event)
        handled = len(pair.events_a)

    pair.established()
    feed()
    assert [t.new for t in transitions][-1] is SessionStatus.UP_ACTIVE
    seen = len(transitions)
    (ike,) = pair.live_ike("a")
    (ch,) = pair.children("a")
    pair.a.rekey_child_sa(ch.child_sa_id, pair.now)
    pair.run(2)
    pair.a.rekey_ike_sa(ike.ike_sa_id, pair.now)
    pair.run(2)
    feed()
    (record,) = sessions_in(store)
    assert record.status is SessionStatus.UP_ACTIVE
    assert record.ike_sa_ids == (pair.live_ike("a")[0].ike_sa_id,)
    assert len(record.flow_ids) == 1
    assert len(transitions) == seen  # rekeys are not status changes


def test_the_nat_capability_follows_the_ike_sas_through_a_nat() -> None:
    """`Capabilities: N` while an IKE SA of the session is through a NAT, kept as a count
    so that it costs nothing per event; it goes when that IKE SA goes."""
    from dataclasses import replace

    sessions, store, _ = model()
    sessions.handle(replace(up(1), nat_remote=True))
    (record,) = sessions_in(store)
    assert record.capabilities == "N"
    sessions.handle(up(2, rekeyed_from=1))
    sessions.handle(
        IkeSaDown(1, "p", ("192.0.2.1", 500), ("192.0.2.2", 500), DownReason.REKEYED, 0.0)
    )
    (record,) = sessions_in(store)
    assert record.capabilities == ""


def _following_a_pair() -> tuple[EnginePair, SessionModel, Store, list, list]:
    """Side a of an engine pair fed to a session model with a logbook behind it, as the
    service wires them; also every status the store published for the session."""
    pair = EnginePair(*site_to_site_config())
    sessions, store, transitions = model()
    logbook = Logbook(store)

    def publish(transition: object) -> None:
        transitions.append(transition)
        logbook.on_event(transition)

    sessions.publish = publish
    published: list = []

    def follow(changes) -> None:  # type: ignore[no-untyped-def]
        table = changes.table(SESSIONS)
        published.extend(r.status for r in (*table.added.values(), *table.changed.values()))
        published.extend("removed" for _ in table.removed)

    store.listen(follow, (SESSIONS,))
    pair.established()
    for event in pair.events_a:
        sessions.handle(event)
    return pair, sessions, store, transitions, published


def test_a_cleared_session_goes_down_in_one_transition_one_record_and_one_line() -> None:
    """Its child SA and IKE SA go in one close: UP-ACTIVE to DOWN at once, not through an
    UP-IDLE record and transition (which a clear of 10,000 sessions paid for twice)."""
    pair, sessions, store, transitions, published = _following_a_pair()
    assert transitions[-1].new is SessionStatus.UP_ACTIVE
    seen, handled, shown = len(transitions), len(pair.events_a), len(published)
    lines = len(store.syslog)
    (ike,) = pair.live_ike("a")
    pair.a.delete_ike_sa(ike.ike_sa_id, pair.now)
    pair.run(2)
    events = pair.events_a[handled:]
    (deleted,) = [e for e in events if isinstance(e, ChildSaDeleted)]
    assert deleted.with_ike_sa and deleted.reason is DownReason.CLEARED
    for event in events:
        sessions.handle(event)
    (down,) = transitions[seen:]
    assert (down.old, down.new, down.reason) == (
        SessionStatus.UP_ACTIVE,
        SessionStatus.DOWN,
        DownReason.CLEARED,
    )
    assert down.went_down and down.record.down_reason == DownReason.CLEARED.value
    assert not down.record.flow_ids and not down.record.ike_sa_ids
    # no UP-IDLE (nor DOWN) record on its way out: the session's removal is the change
    assert published[shown:] == ["removed"]
    assert not sessions_in(store) and not store.table(FLOWS)
    (line,) = [e.ios_line() for e in store.syslog][lines:]
    assert line.startswith("%CRYPTO-5-SESSION_STATUS: Crypto session is DOWN. Peer ")


def test_a_child_deleted_alone_still_leaves_the_session_up_idle() -> None:
    pair, sessions, store, transitions, published = _following_a_pair()
    seen, handled = len(transitions), len(pair.events_a)
    lines = len(store.syslog)
    (ch,) = pair.children("a")
    pair.a.delete_child_sa(ch.child_sa_id, pair.now)
    pair.run(2)
    events = pair.events_a[handled:]
    assert [e.with_ike_sa for e in events if isinstance(e, ChildSaDeleted)] == [False]
    for event in events:
        sessions.handle(event)
    (idle,) = transitions[seen:]
    assert (idle.old, idle.new) == (SessionStatus.UP_ACTIVE, SessionStatus.UP_IDLE)
    (record,) = sessions_in(store)
    assert record.status is SessionStatus.UP_IDLE and published[-1] is SessionStatus.UP_IDLE
    assert len(store.syslog) == lines  # still up: no line
