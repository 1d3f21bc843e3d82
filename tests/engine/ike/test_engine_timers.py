"""The engine's timers never spin: a due timer is handled and the next one lies ahead.

A child SA reaching its hard lifetime while a rekey or delete of it is outstanding
once left its expiry in the past, so `handle_timer` found it due again forever.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ike_pair import EnginePair, assert_timers_ahead, site_to_site_config
from timeouts import within

from engine.crypto.algorithms import IntegId
from engine.events import ChildSaDeleted, DownReason, NegotiationFailed
from engine.ike.engine import IkeEngine
from engine.ike.policy import AES_CBC_128, EspProposalPolicy

CBC_ONLY = EspProposalPolicy("cbc", (AES_CBC_128,), (IntegId.HMAC_SHA2_256_128,))


def refuse_rekeys(engine: IkeEngine) -> None:
    """The peer's transform set changed: it refuses a rekey with NO_PROPOSAL_CHOSEN."""
    config = engine.config
    engine.update_config(
        replace(config, peers=tuple(replace(p, esp_proposals=(CBC_ONLY,)) for p in config.peers))
    )


def expired(pair: EnginePair, side: str) -> list[ChildSaDeleted]:
    return [
        e for e in pair.of_type(side, ChildSaDeleted) if e.reason is DownReason.LIFETIME_EXPIRED
    ]


def test_child_expires_while_its_rekey_waits_on_a_silent_peer() -> None:
    pair = EnginePair(*site_to_site_config({"child_lifetime": 60.0}, {"child_lifetime": 3600.0}))
    pair.established(1)
    (child,) = pair.children("a")
    pair.run(44)
    pair.blocked.add("b")  # a WAN outage 15 s before the hard lifetime
    with within(10):
        pair.run(30)
    (gone,) = expired(pair, "a")
    assert gone.child_sa_id == child.child_sa_id
    assert gone.at == child.expire_at
    assert_timers_ahead(pair.a, pair.now)


def test_child_expires_after_the_peer_refused_its_rekey() -> None:
    pair = EnginePair(*site_to_site_config({"child_lifetime": 60.0}, {"child_lifetime": 3600.0}))
    pair.established(1)
    (child,) = pair.children("a")
    refuse_rekeys(pair.b)
    with within(10):
        pair.run(70)
    refused = [e for e in pair.of_type("a", NegotiationFailed) if "rekey" in e.reason]
    assert refused and refused[0].notify == "NO_PROPOSAL_CHOSEN"
    (gone,) = expired(pair, "a")
    assert gone.child_sa_id == child.child_sa_id
    assert not pair.children("a") and not pair.children("b")  # the peer was told
    assert len(pair.live_ike("a")) == len(pair.live_ike("b")) == 1
    assert_timers_ahead(pair.a, pair.now)
    assert_timers_ahead(pair.b, pair.now)


def test_child_expires_while_its_delete_waits_on_a_silent_peer() -> None:
    pair = EnginePair(*site_to_site_config({"child_lifetime": 60.0}, {"child_lifetime": 3600.0}))
    pair.established(1)
    refuse_rekeys(pair.b)
    pair.run(58)  # rekey refused; the child lives to its hard lifetime
    pair.blocked.add("b")
    with within(10):
        pair.run(10)
    assert len(expired(pair, "a")) == 1
    assert_timers_ahead(pair.a, pair.now)


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "wait",
                "silence a",
                "silence b",
                "heal",
                "refuse",
                "rekey child",
                "rekey ike",
                "new child",
                "delete child",
                "delete ike",
                "initiate",
            ]
        ),
        st.sampled_from(["a", "b"]),
        st.floats(min_value=0.0, max_value=40.0),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS, seed=st.integers(0, 2**16))
def test_timers_always_drain_and_move_forward(
    actions: list[tuple[str, str, float]], seed: int
) -> None:
    """Losses, refusals, rekeys, deletes and lifetimes in any order: every call of
    `handle_timer` returns, and every SA's next timer lies after `now`."""
    pair = EnginePair(
        *site_to_site_config(
            {"child_lifetime": 45.0, "ike_lifetime": 90.0},
            {"child_lifetime": 50.0, "ike_lifetime": 120.0},
        )
    )
    pair.a.random_bytes = __import__("random").Random(seed).randbytes
    pair.established(1)
    for action, side, seconds in actions:
        engine = pair.a if side == "a" else pair.b
        sas = [sa for sa in engine.ike_sas() if sa.is_up]
        children = [c for sa in sas for c in sa.children.values()]
        if action == "silence a":
            pair.blocked.add("a")
        elif action == "silence b":
            pair.blocked.add("b")
        elif action == "heal":
            pair.blocked.clear()
        elif action == "refuse":
            refuse_rekeys(engine)
        elif action == "rekey child" and children:
            engine.rekey_child_sa(children[0].child_sa_id, pair.now)
        elif action == "rekey ike" and sas:
            engine.rekey_ike_sa(sas[0].ike_sa_id, pair.now)
        elif action == "new child" and sas:
            engine.create_child_sa(sas[0].ike_sa_id, pair.now)
        elif action == "delete child" and children:
            engine.delete_child_sa(children[-1].child_sa_id, pair.now)
        elif action == "delete ike" and sas:
            engine.delete_ike_sa(sas[0].ike_sa_id, pair.now)
        elif action == "initiate":
            pair.initiate(from_b=side == "b")
        with within(10):
            pair.run(seconds)
            assert_timers_ahead(pair.a, pair.now)
            assert_timers_ahead(pair.b, pair.now)


def test_the_timer_heap_forgets_the_sas_that_are_gone(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """After a clear the heap holds a bounded number of entries per live SA, not every
    entry the gone SAs left (one `get_timer` popped them all, 40,000 after 10,000 SAs);
    the timers of the SAs still there keep working."""
    from engine.ike import engine as engine_module

    monkeypatch.setattr(engine_module, "TIMER_SLACK", 0, raising=False)
    monkeypatch.setattr(engine_module, "TIMERS_PER_SA", 2, raising=False)
    pair = EnginePair(*site_to_site_config())
    for _ in range(12):
        pair.initiate()
    pair.run(5)
    sas = pair.live_ike("a")
    assert len(sas) == 12
    for sa in sas[1:]:
        pair.a.delete_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(2)
    (kept,) = pair.live_ike("a")
    assert kept is sas[0]
    # the gone SAs' entries went with them; the one left has only its own
    assert {entry[2] for entry in pair.a._timers} == {kept.ike_sa_id}
    assert pair.a.get_timer() == kept.next_timer()
    assert_timers_ahead(pair.a, pair.now)
