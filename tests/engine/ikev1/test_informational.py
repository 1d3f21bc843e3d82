"""INFORMATIONAL exchanges: DELETE of IPsec SAs and of the ISAKMP SA (the IPsec SAs live
on, IOS's UP-NO-IKE), INITIAL-CONTACT, and dead peer detection (RFC 3706)."""

from __future__ import annotations

import pytest

from engine.events import (
    ChildSaDeleted,
    ChildSaInstalled,
    DownReason,
    IkeSaDown,
    IkeSaRekeyed,
    IkeSaUp,
)
from engine.ike.errors import IkeDrop
from engine.ike.policy import DpdMode, DpdPolicy
from engine.ikev1.constants import ExchangeType, NotifyType, ProtocolId
from engine.ikev1.engine import IkeV1Engine
from engine.ikev1.payloads import NotifyPayload
from tests.ike_pair import seeded
from tests.ikev1_pair import active, assert_one_flow, site_to_site, v1_pair

DPD = DpdPolicy(interval=10.0, retry_interval=2.0, retries=3)


# ------------------------------------------------------------------ DELETE
@pytest.mark.parametrize("side", ["a", "b"])
def test_deleting_an_ipsec_sa_deletes_it_on_both_sides(side: str) -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    engine = pair.a if side == "a" else pair.b
    (child,) = pair.children(side)
    assert engine.delete_child_sa(child.child_sa_id, pair.now)
    pair.run(1)
    other = "b" if side == "a" else "a"
    assert pair.of_type(side, ChildSaDeleted)[0].reason is DownReason.CLEARED
    assert pair.of_type(other, ChildSaDeleted)[0].reason is DownReason.PEER_DELETE
    assert not pair.children("a") and not pair.children("b")
    assert len(active(pair.a)) == len(active(pair.b)) == 1  # the ISAKMP SA stays


def test_clearing_the_session_deletes_everything_on_both_sides() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (sa,) = active(pair.a)
    assert pair.a.delete_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(1)
    assert pair.of_type("b", IkeSaDown)[0].reason is DownReason.PEER_DELETE
    assert pair.of_type("b", ChildSaDeleted)[0].reason is DownReason.PEER_DELETE
    assert not pair.a.ike_sas() and not pair.b.ike_sas()
    assert not pair.a.owns_child(pair.of_type("a", ChildSaInstalled)[0].child_sa_id)


def clear_isakmp_only(pair, side: str = "a") -> None:
    """`clear crypto isakmp`: the ISAKMP SA goes with a DELETE, its IPsec SAs stay."""
    engine = pair.a if side == "a" else pair.b
    (sa,) = active(engine)
    engine.orphan_children(sa, pair.now)
    sa.close(DownReason.CLEARED, pair.now, notify_peer=True)
    pair.run(1)


def test_isakmp_sa_delete_leaves_the_ipsec_sas_until_they_expire() -> None:
    pair = v1_pair(site_to_site())
    pair.established(1)
    (child_a,), (child_b,) = pair.children("a"), pair.children("b")
    clear_isakmp_only(pair)
    assert pair.of_type("b", IkeSaDown)[0].reason is DownReason.PEER_DELETE
    assert not pair.a.ike_sas() and not pair.b.ike_sas()
    # UP-NO-IKE: no ChildSaDeleted, and the engines still own the IPsec SAs
    assert not pair.of_type("a", ChildSaDeleted) and not pair.of_type("b", ChildSaDeleted)
    assert pair.a.owns_child(child_a.child_sa_id) and pair.b.owns_child(child_b.child_sa_id)
    pair.run(child_b.expire_at - pair.now - 1)
    assert not pair.of_type("b", ChildSaDeleted)
    pair.run(2)
    for side, child in (("a", child_a), ("b", child_b)):
        (deleted,) = pair.of_type(side, ChildSaDeleted)
        assert deleted.child_sa_id == child.child_sa_id
        assert deleted.reason is DownReason.LIFETIME_EXPIRED
    assert not pair.a.owns_child(child_a.child_sa_id)


def test_a_new_isakmp_sa_adopts_the_orphaned_ipsec_sas() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (child_a,) = pair.children("a")
    clear_isakmp_only(pair)
    pair.initiate()
    pair.run(5)
    assert_one_flow(pair)
    (sa_a,) = active(pair.a)
    assert child_a.child_sa_id in sa_a.children
    assert len(pair.of_type("a", ChildSaInstalled)) == 1  # no new quick mode was needed
    # and the adopted SA is rekeyed on the new ISAKMP SA when its time comes
    pair.run(3600)
    assert_one_flow(pair)
    assert pair.children("a")[0].child_sa_id != child_a.child_sa_id


def test_clearing_the_session_also_retires_its_orphans() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (child_b,) = pair.children("b")
    clear_isakmp_only(pair)
    pair.initiate()
    pair.run(5)
    (sa_b,) = active(pair.b)
    assert pair.b.delete_ike_sa(sa_b.ike_sa_id, pair.now)
    pair.run(1)
    assert not pair.b.owns_child(child_b.child_sa_id)
    assert not pair.a.ike_sas() and not pair.children("a")


# ------------------------------------------------------------------ INITIAL-CONTACT
def test_initial_contact_clears_the_stale_sas_of_a_restarted_peer() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (old_b,) = active(pair.b)
    (old_child_b,) = pair.children("b")
    pair.a = IkeV1Engine(pair.config_a, seeded(11))  # A restarts and knows nothing
    pair.initiate()
    pair.run(5)
    assert_one_flow(pair)
    down = [e for e in pair.of_type("b", IkeSaDown) if e.ike_sa_id == old_b.ike_sa_id]
    assert down and down[0].reason is DownReason.REPLACED
    (deleted,) = pair.of_type("b", ChildSaDeleted)
    assert deleted.child_sa_id == old_child_b.child_sa_id and deleted.reason is DownReason.REPLACED
    assert not pair.of_type("b", IkeSaRekeyed)  # not a renewal: nothing moved over


def test_a_renewal_does_not_send_initial_contact() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    honoured = pair.b.stats["INITIAL-CONTACT honoured"]
    (sa,) = active(pair.a)
    pair.a.rekey_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(5)
    assert pair.b.stats["INITIAL-CONTACT honoured"] == honoured
    assert not pair.of_type("b", ChildSaDeleted)


# ------------------------------------------------------------------ DPD
def test_dpd_probes_a_live_peer_and_keeps_the_sa() -> None:
    pair = v1_pair(site_to_site(a={"dpd": DPD}, b={"dpd": DPD}))
    pair.established(1)
    (sa_a,) = active(pair.a)
    assert sa_a.dpd is not None and sa_a.peer_dpd
    pair.run(300)
    assert sa_a.dpd.sequence >= 10  # it probed ...
    assert sa_a.dpd.outstanding == 0  # ... and every probe was answered
    assert_one_flow(pair)
    assert not pair.of_type("a", IkeSaDown) and not pair.of_type("b", IkeSaDown)


def test_dpd_declares_a_silent_peer_dead_after_the_retries() -> None:
    pair = v1_pair(site_to_site(a={"dpd": DPD}))
    pair.established(1)
    (sa_a,) = active(pair.a)
    pair.blocked.add("b")
    silent_since = sa_a.last_inbound
    sent_before = sum(1 for side, _ in pair.wire if side == "a")
    pair.run(60)
    (down,) = pair.of_type("a", IkeSaDown)
    assert down.reason is DownReason.DPD_TIMEOUT
    assert pair.of_type("a", ChildSaDeleted)[0].reason is DownReason.DPD_TIMEOUT
    # first probe after `interval` of silence, then one per `retry_interval`
    expected = silent_since + DPD.interval + (DPD.retries + 1) * DPD.retry_interval
    assert down.at == pytest.approx(expected)
    probes = sum(1 for side, _ in pair.wire if side == "a") - sent_before
    assert probes == DPD.retries + 1
    assert not pair.a.ike_sas()


def test_traffic_from_the_peer_postpones_dpd() -> None:
    pair = v1_pair(site_to_site(a={"dpd": DPD}))
    pair.established(1)
    (child,) = pair.children("a")
    pair.blocked.add("b")
    for _ in range(10):  # ESP keeps arriving though IKE does not
        pair.run(5)
        pair.a.note_inbound_traffic(child.child_sa_id, pair.now)
    assert not pair.of_type("a", IkeSaDown)


def test_on_demand_dpd_does_not_probe_a_peer_without_ipsec_sas() -> None:
    on_demand = DpdPolicy(interval=10.0, retry_interval=2.0, mode=DpdMode.ON_DEMAND)
    pair = v1_pair(site_to_site(a={"dpd": on_demand}))
    pair.established(1)
    (child,) = pair.children("a")
    pair.a.delete_child_sa(child.child_sa_id, pair.now)
    pair.run(1)
    pair.blocked.add("b")
    sent = len(pair.wire)
    pair.run(120)
    assert len(pair.wire) == sent
    assert not pair.of_type("a", IkeSaDown)


# ------------------------------------------------------------------ unprotected
def test_an_unprotected_notify_for_an_sa_that_is_up_is_ignored() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (sa_b,) = active(pair.b)
    clear = sa_b.seal(
        ExchangeType.INFORMATIONAL,
        0,
        [
            NotifyPayload(
                NotifyType.INITIAL_CONTACT, ProtocolId.ISAKMP, sa_b.cookie_i + sa_b.cookie_r
            )
        ],
        encrypted=False,
    )
    pair.a.receive_datagram(clear, ("10.0.0.1", 500), ("10.0.0.2", 500), pair.now)
    assert pair.a.drops[IkeDrop.PROTOCOL] == 1
    assert_one_flow(pair)
    assert not pair.of_type("a", IkeSaDown)
    assert len(pair.of_type("a", IkeSaUp)) == 1
