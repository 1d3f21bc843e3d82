"""CREATE_CHILD_SA for an additional child SA."""

from __future__ import annotations

from ike_pair import EnginePair, site_to_site_config


def test_additional_child_sa() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    sa = pair.live_ike("a")[0]
    assert pair.a.create_child_sa(sa.ike_sa_id, pair.now)
    pair.run(1)
    assert len(pair.children("a")) == len(pair.children("b")) == 2


def test_one_new_child_at_a_time_while_the_peer_is_silent() -> None:
    """Asked again and again while the peer does not answer, the engine keeps one
    CREATE_CHILD_SA pending: when the peer is back it gets one child, not a pile."""
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa,) = pair.live_ike("a")
    (child,) = pair.children("a")
    pair.a.delete_child_sa(child.child_sa_id, pair.now)
    pair.run(1)
    pair.blocked.add("b")
    assert pair.a.create_child_sa(sa.ike_sa_id, pair.now)
    for _ in range(5):
        pair.run(1)
        assert not pair.a.create_child_sa(sa.ike_sa_id, pair.now)
    pair.blocked.clear()
    pair.run(60)
    assert len(pair.children("a")) == len(pair.children("b")) == 1


def test_no_new_child_while_a_rekey_of_the_expired_one_is_pending() -> None:
    """The child expired while its rekey waited on a silent peer; when the peer answers,
    the rekey installs the successor: a new child asked for meanwhile would be a second."""
    pair = EnginePair(*site_to_site_config({"child_lifetime": 60.0}, {"child_lifetime": 3600.0}))
    pair.established(1)
    (sa,) = pair.live_ike("a")
    pair.run(45)
    pair.blocked.add("b")
    pair.run(17)  # the rekey went out unanswered; the child reached its hard lifetime
    assert not pair.children("a")
    assert not pair.a.create_child_sa(sa.ike_sa_id, pair.now)
    pair.blocked.clear()
    pair.run(60)
    assert len(pair.children("a")) == len(pair.children("b")) == 1
