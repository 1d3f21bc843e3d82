"""IKE SA rekey, the children moving over, and simultaneous IKE rekeys."""

from __future__ import annotations

import random

from ike_pair import EnginePair, site_to_site_config

from engine.events import DownReason, IkeSaDown, IkeSaRekeyed, IkeSaUp


def test_ike_rekey_moves_children_and_deletes_the_old_sa() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (old_a,) = pair.live_ike("a")
    (child,) = pair.children("a")
    assert pair.a.rekey_ike_sa(old_a.ike_sa_id, pair.now)
    pair.run(2)
    (new_a,), (new_b,) = pair.live_ike("a"), pair.live_ike("b")
    assert new_a.ike_sa_id != old_a.ike_sa_id
    assert new_a.spi_i == new_b.spi_i and new_a.spi_r == new_b.spi_r
    assert list(new_a.children) == [child.child_sa_id]
    assert len(new_b.children) == 1
    (down,) = pair.of_type("a", IkeSaDown)
    assert down.reason is DownReason.REKEYED
    assert pair.of_type("a", IkeSaRekeyed)[0].new_ike_sa_id == new_a.ike_sa_id
    # The new SA works: a child rekey runs over it.
    assert pair.b.rekey_child_sa(next(iter(new_b.children)), pair.now)
    pair.run(2)
    assert len(pair.children("a")) == 1


def test_responder_can_rekey_the_ike_sa_and_roles_follow() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (old_b,) = pair.live_ike("b")
    pair.b.rekey_ike_sa(old_b.ike_sa_id, pair.now)
    pair.run(2)
    (new_b,) = pair.live_ike("b")
    assert new_b.initiator  # the rekey initiator is the new SA's original initiator
    (new_a,) = pair.live_ike("a")
    assert not new_a.initiator


def test_ike_rekey_by_lifetime() -> None:
    pair = EnginePair(*site_to_site_config({"ike_lifetime": 120.0}))
    pair.established()
    pair.run(500)
    assert len(pair.of_type("a", IkeSaUp)) >= 4
    assert len(pair.live_ike("a")) == len(pair.live_ike("b")) == 1
    assert len(pair.children("a")) == len(pair.children("b")) == 1


def test_simultaneous_ike_rekey_leaves_one_ike_sa_with_the_children() -> None:
    for seed in range(6):
        pair = EnginePair(*site_to_site_config())
        pair.a.random_bytes = random.Random(100 + seed).randbytes
        pair.established()
        (sa_a,), (sa_b,) = pair.live_ike("a"), pair.live_ike("b")
        pair.a.rekey_ike_sa(sa_a.ike_sa_id, pair.now)
        pair.b.rekey_ike_sa(sa_b.ike_sa_id, pair.now)
        pair.run(10)
        (left_a,), (left_b,) = pair.live_ike("a"), pair.live_ike("b")
        assert (left_a.spi_i, left_a.spi_r) == (left_b.spi_i, left_b.spi_r)
        assert len(left_a.children) == len(left_b.children) == 1
        assert not pair.a.drops and not pair.b.drops
        # both exchanges really crossed: each side brought up two new IKE SAs
        assert len(pair.of_type("a", IkeSaUp)) == len(pair.of_type("b", IkeSaUp)) == 3
        assert pair.a.ike_sas() == [left_a] and pair.b.ike_sas() == [left_b]
