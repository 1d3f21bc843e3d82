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
