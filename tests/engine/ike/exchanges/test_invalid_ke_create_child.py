"""INVALID_KE_PAYLOAD in CREATE_CHILD_SA: a group we never offered is the peer's error.

An authenticated peer answering a child rekey, an IKE rekey or a new child with a group
we did not offer (or cannot compute) once made `UnsupportedAlgorithm` escape from the
socket callback. Now the exchange fails as a negotiation failure, and the SA goes on.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from ike_pair import EnginePair, assert_timers_ahead, site_to_site_config
from timeouts import within

import engine.ike.responder as responder
from engine.crypto.algorithms import DhId
from engine.events import NegotiationFailed
from engine.ike.constants import ExchangeType, NotifyType
from engine.ike.ike_sa import IkeSa
from engine.ike.message import IkeMessage
from engine.ike.payloads import NotifyPayload, Payload

#: unassigned, zero, supported but never offered here, and the group already sent
GROUPS = [52159, 0, int(DhId.ECP_521), int(DhId.ECP_256)]


def answer_create_child_with(group: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every CREATE_CHILD_SA request be answered with INVALID_KE_PAYLOAD(group)."""
    answered: list[int] = []
    real = responder.respond

    def hostile(sa: IkeSa, request: IkeMessage, now: float) -> list[Payload]:
        if request.exchange == ExchangeType.CREATE_CHILD_SA:
            answered.append(group)
            return [NotifyPayload(NotifyType.INVALID_KE_PAYLOAD, group.to_bytes(2, "big"))]
        return real(sa, request, now)

    monkeypatch.setattr(responder, "respond", hostile)
    return answered


def established_with_pfs() -> EnginePair:
    pair = EnginePair(
        *site_to_site_config({"pfs_group": DhId.ECP_256}, {"pfs_group": DhId.ECP_256})
    )
    pair.established(1)
    return pair


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("action", ["rekey child", "rekey ike", "new child"])
def test_unoffered_group_fails_the_exchange_and_keeps_the_sa(
    action: str, group: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = established_with_pfs()
    (sa,) = pair.live_ike("a")
    (child,) = pair.children("a")
    answered = answer_create_child_with(group, monkeypatch)
    with within(10):
        if action == "rekey child":
            assert pair.a.rekey_child_sa(child.child_sa_id, pair.now)
        elif action == "rekey ike":
            assert pair.a.rekey_ike_sa(sa.ike_sa_id, pair.now)
        else:
            assert pair.a.create_child_sa(sa.ike_sa_id, pair.now)
        pair.run(5)
    assert answered == [group]  # not followed, so asked once
    (failed,) = pair.of_type("a", NegotiationFailed)
    assert failed.notify == "INVALID_KE_PAYLOAD"
    assert f"group {group}" in failed.reason
    assert pair.live_ike("a") == [sa]
    assert [c.child_sa_id for c in pair.children("a")] == [child.child_sa_id]
    assert_timers_ahead(pair.a, pair.now)


def test_ike_rekey_follows_a_group_it_offered() -> None:
    """The legitimate case still works: we offer X25519 then P-256, the peer wants P-256."""
    pair = EnginePair(*site_to_site_config())
    offer_both = pair.a.config.peers[0].ike_proposals[0]
    both = replace(offer_both, groups=(DhId.CURVE25519, DhId.ECP_256))
    only_p256 = replace(offer_both, groups=(DhId.ECP_256,))
    pair.a.update_config(
        replace(pair.a.config, peers=(replace(pair.a.config.peers[0], ike_proposals=(both,)),))
    )
    pair.established(1)
    pair.b.update_config(
        replace(pair.b.config, peers=(replace(pair.b.config.peers[0], ike_proposals=(only_p256,)),))
    )
    (sa,) = pair.live_ike("a")
    assert sa.suite is not None and sa.suite.dh_group == DhId.CURVE25519
    pair.a.rekey_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(5)
    (new,) = pair.live_ike("a")
    assert new is not sa
    assert new.suite is not None and new.suite.dh_group == DhId.ECP_256
    assert not pair.of_type("a", NegotiationFailed)
