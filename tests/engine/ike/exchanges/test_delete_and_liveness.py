"""INFORMATIONAL: deletes from either side, liveness checks, dead peers, give-up."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from ike_pair import EnginePair, site_to_site_config

from engine.events import ChildSaDeleted, DownReason, IkeSaDown, RetransmitGiveUp
from engine.ike.exchanges.liveness import LivenessCheck
from engine.ike.policy import DpdPolicy


def test_delete_ike_sa_from_initiator() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa,) = pair.live_ike("a")
    pair.a.delete_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(1)
    assert pair.of_type("a", IkeSaDown)[0].reason is DownReason.CLEARED
    assert pair.of_type("b", IkeSaDown)[0].reason is DownReason.PEER_DELETE
    assert pair.of_type("b", ChildSaDeleted)[0].reason is DownReason.PEER_DELETE
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_delete_ike_sa_from_responder() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa,) = pair.live_ike("b")
    pair.b.delete_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(1)
    assert pair.of_type("a", IkeSaDown)[0].reason is DownReason.PEER_DELETE
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_delete_child_from_either_side_keeps_ike() -> None:
    for side in ("a", "b"):
        pair = EnginePair(*site_to_site_config())
        pair.established()
        engine = pair.a if side == "a" else pair.b
        (child,) = pair.children(side)
        engine.delete_child_sa(child.child_sa_id, pair.now)
        pair.run(1)
        assert not pair.children("a") and not pair.children("b")
        assert pair.live_ike("a") and pair.live_ike("b")


def test_simultaneous_child_delete() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (ca,), (cb,) = pair.children("a"), pair.children("b")
    pair.a.delete_child_sa(ca.child_sa_id, pair.now)
    pair.b.delete_child_sa(cb.child_sa_id, pair.now)
    pair.run(1)
    assert not pair.children("a") and not pair.children("b")
    assert len(pair.of_type("a", ChildSaDeleted)) == 1


def test_empty_informational_is_answered() -> None:
    dpd = DpdPolicy(interval=10, retry_interval=2, retries=3)
    pair = EnginePair(*site_to_site_config({"dpd": dpd}))
    pair.established()
    sent_before = len(pair.wire)
    pair.run(11)
    informational = [d for _, d in pair.wire[sent_before:] if d.data[18] == 37]
    assert len(informational) == 2  # one check, one answer
    assert pair.live_ike("a")


def test_dpd_declares_a_silent_peer_dead_within_interval_and_retries() -> None:
    dpd = DpdPolicy(interval=10, retry_interval=2, retries=3)
    pair = EnginePair(*site_to_site_config({"dpd": dpd}))
    pair.established()
    start = pair.now
    pair.blocked.add("b")
    pair.run(60)
    (down,) = pair.of_type("a", IkeSaDown)
    assert down.reason is DownReason.DPD_TIMEOUT
    assert down.at - start <= dpd.interval + dpd.retry_interval * (dpd.retries + 1) + 0.001
    assert pair.of_type("a", ChildSaDeleted)[0].reason is DownReason.DPD_TIMEOUT


def test_retransmission_backs_off_exponentially_then_gives_up() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.blocked.add("b")
    pair.initiate()
    pair.run(100)
    sent = [t for (side, _), t in zip(pair.wire, pair.wire_times, strict=True) if side == "a"]
    assert [b - a for a, b in itertools.pairwise(sent)] == [1.0, 2.0, 4.0, 8.0]
    (give_up,) = pair.of_type("a", RetransmitGiveUp)
    assert give_up.exchange == "IKE_SA_INIT"
    assert not pair.a.ike_sas()


def test_retransmitted_request_gets_the_cached_response() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa,) = pair.live_ike("a")
    pair.a.create_child_sa(sa.ike_sa_id, pair.now)
    pair._collect()
    request = next(d for side, d in reversed(pair.wire) if side == "a")
    pair.run(1)
    count = len(pair.children("b"))
    before = len(pair.wire)
    pair.b.receive_datagram(request.data, request.remote, request.local, pair.now)
    pair._collect()
    (again,) = [d for _, d in pair.wire[before:]]
    first_answer = [d for side, d in pair.wire[:before] if side == "b" and d.data[18] == 36]
    assert again.data == first_answer[-1].data
    assert len(pair.children("b")) == count


def _answer_lost(pair: EnginePair, start: Callable[[], object]) -> None:
    """A request goes out and is processed by B, whose answer is lost: it stays outstanding."""
    start()
    pair.blocked.add("b")
    pair.step()
    pair.blocked.clear()
    (sa,) = pair.live_ike("a")
    assert sa.tasks.outstanding is not None


@pytest.mark.parametrize("pending", ["liveness check", "child rekey", "new child"])
def test_clear_during_an_outstanding_request_deletes_at_the_peer(pending: str) -> None:
    """The DELETE must not reuse the Message ID of the unanswered request: the peer would
    take it for a retransmission, replay its cached answer and keep its SA."""
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa,) = pair.live_ike("a")
    (child,) = pair.children("a")
    actions = {
        "liveness check": lambda: sa.start(LivenessCheck(), pair.now),
        "child rekey": lambda: pair.a.rekey_child_sa(child.child_sa_id, pair.now),
        "new child": lambda: pair.a.create_child_sa(sa.ike_sa_id, pair.now),
    }
    _answer_lost(pair, actions[pending])
    in_flight = sa.tasks.outstanding
    assert in_flight is not None
    pair.a.delete_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(5)
    deletes = [
        d for side, d in pair.wire if side == "a" and d.data[18] == 37 and d.data[19] & 0x20 == 0
    ]
    assert int.from_bytes(deletes[-1].data[20:24], "big") == in_flight.message_id + 1
    assert [e.reason for e in pair.of_type("b", IkeSaDown)] == [DownReason.PEER_DELETE]
    assert [e.reason for e in pair.of_type("a", IkeSaDown)] == [DownReason.CLEARED]
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_shutdown_delete_skips_the_message_id_of_an_unanswered_request() -> None:
    """The one-shot DELETE at shutdown cannot wait for the window: it takes the next ID,
    which the peer accepts once it has processed the request it already answered."""
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa,) = pair.live_ike("a")
    _answer_lost(pair, lambda: sa.start(LivenessCheck(), pair.now))
    pair.a.shutdown(pair.now)
    pair.run(1)
    assert [e.reason for e in pair.of_type("b", IkeSaDown)] == [DownReason.PEER_DELETE]
    assert not pair.b.ike_sas()


def test_clear_with_a_silent_peer_ends_within_the_retransmissions() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa,) = pair.live_ike("a")
    pair.blocked.add("b")
    sa.start(LivenessCheck(), pair.now)
    pair.run(3)
    pair.a.delete_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(120)
    (down,) = pair.of_type("a", IkeSaDown)
    assert down.reason is DownReason.CLEARED
    assert not pair.a.ike_sas()
