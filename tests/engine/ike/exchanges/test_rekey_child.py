"""Child SA rekeys (CREATE_CHILD_SA with REKEY_SA): by request, by lifetime, with PFS,
and simultaneous ones resolved as RFC 7296 2.8.1 says."""

from __future__ import annotations

from ike_pair import EnginePair, site_to_site_config

from engine.crypto.algorithms import DhId
from engine.events import ChildSaDeleted, ChildSaInstalled, ChildSaRekeyed, DownReason


def test_child_rekey_with_pfs_replaces_the_old_child() -> None:
    pair = EnginePair(
        *site_to_site_config({"pfs_group": DhId.ECP_256}, {"pfs_group": DhId.ECP_256})
    )
    pair.established()
    (old,) = pair.children("a")
    assert pair.a.rekey_child_sa(old.child_sa_id, pair.now)
    pair.run(1)
    (new_a,), (new_b,) = pair.children("a"), pair.children("b")
    assert new_a.rekeyed_from == old.child_sa_id
    assert new_a.suite.dh_group == DhId.ECP_256
    assert new_a.spi_in == new_b.spi_out
    rekeyed = pair.of_type("a", ChildSaRekeyed)
    assert rekeyed[0].old_child_sa_id == old.child_sa_id
    deleted = pair.of_type("b", ChildSaDeleted)
    assert deleted[0].reason is DownReason.REKEYED


def test_child_rekeys_by_lifetime_on_its_own() -> None:
    pair = EnginePair(*site_to_site_config({"child_lifetime": 60.0}, {"child_lifetime": 3600.0}))
    pair.established()
    pair.run(200)
    installed = pair.of_type("a", ChildSaInstalled)
    assert len(installed) >= 4
    assert len(pair.children("a")) == len(pair.children("b")) == 1
    assert {c.spi_in for c in pair.children("a")} == {c.spi_out for c in pair.children("b")}


def test_simultaneous_child_rekey_leaves_exactly_one_child() -> None:
    for seed in range(6):
        pair = EnginePair(*site_to_site_config())
        pair.a.random_bytes = __import__("random").Random(seed).randbytes
        pair.established()
        (child_a,), (child_b,) = pair.children("a"), pair.children("b")
        pair.a.rekey_child_sa(child_a.child_sa_id, pair.now)
        pair.b.rekey_child_sa(child_b.child_sa_id, pair.now)
        pair.run(5)
        (left_a,), (left_b,) = pair.children("a"), pair.children("b")
        assert left_a.spi_in == left_b.spi_out and left_a.spi_out == left_b.spi_in
        assert left_a.keys == left_b.keys
        assert left_a.child_sa_id not in (child_a.child_sa_id,)
        # both exchanges really crossed: each side installed two new children
        assert len(pair.of_type("a", ChildSaInstalled)) == 3
        assert len(pair.of_type("b", ChildSaInstalled)) == 3
        # every child either side installed was deleted again except the survivor
        assert (
            len(pair.of_type("a", ChildSaInstalled)) - len(pair.of_type("a", ChildSaDeleted)) == 1
        )
