"""A link that loses 30% of datagrams and reorders them still converges, with no
duplicate or orphaned SAs, through setup, rekeys and a delete."""

from __future__ import annotations

import pytest
from ike_pair import EnginePair, LinkFaults, site_to_site_config

from engine.ike.policy import RetransmitPolicy


@pytest.mark.parametrize("seed", range(8))
def test_lossy_reordering_link_converges(seed: int) -> None:
    retransmit = RetransmitPolicy(timeout=1.0, base=1.5, tries=10)
    pair = EnginePair(
        *site_to_site_config(retransmit=retransmit),
        faults=LinkFaults(loss=0.3, duplicate=0.1, reorder=0.3, seed=seed),
    )
    pair.established(120)
    assert len(pair.live_ike("a")) == len(pair.live_ike("b")) == 1
    (sa_a,), (sa_b,) = pair.live_ike("a"), pair.live_ike("b")
    (child_a,) = pair.children("a")
    pair.a.rekey_child_sa(child_a.child_sa_id, pair.now)
    pair.run(120)
    pair.b.rekey_ike_sa(sa_b.ike_sa_id, pair.now)
    pair.run(120)
    (sa_a,), (sa_b,) = pair.live_ike("a"), pair.live_ike("b")
    assert (sa_a.spi_i, sa_a.spi_r) == (sa_b.spi_i, sa_b.spi_r)
    (ca,), (cb,) = pair.children("a"), pair.children("b")
    assert ca.spi_in == cb.spi_out and ca.spi_out == cb.spi_in
    pair.a.delete_ike_sa(sa_a.ike_sa_id, pair.now)
    pair.run(600)
    assert not pair.a.ike_sas()
    assert not pair.b.ike_sas()
