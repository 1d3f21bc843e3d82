"""INFORMATIONAL: deletes from either side, liveness checks, dead peers, give-up."""

from __future__ import annotations

import itertools

from ike_pair import EnginePair, site_to_site_config

from engine.events import ChildSaDeleted, DownReason, IkeSaDown, RetransmitGiveUp
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
