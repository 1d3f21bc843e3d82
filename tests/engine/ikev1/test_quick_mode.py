"""Quick mode: IPsec SA pairs under an ISAKMP SA, their rekey before the lifetime ends,
RESPONDER-LIFETIME, PFS, and the proxy identities checked against the crypto ACL."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from engine.crypto.algorithms import DhId
from engine.events import (
    ChildSaDeleted,
    ChildSaInstalled,
    ChildSaRekeyed,
    DownReason,
    IkeSaDown,
    InboundSaStaged,
    NegotiationFailed,
)
from engine.ike.policy import IpsecMode, RetransmitPolicy
from engine.ikev1.exchanges.quick_mode import REKEYED_GRACE, QuickModeInitiator
from tests.ike_pair import A_NET, B_NET, LinkFaults
from tests.ikev1_pair import active, assert_one_flow, site_to_site, v1_pair

LIFETIME = 3600.0  # PeerPolicy.child_lifetime's default
MARGIN = 0.1  # IkeConfig.rekey_margin's default


def installed(pair, side: str) -> list[ChildSaInstalled]:
    return pair.of_type(side, ChildSaInstalled)


def test_the_responder_receives_on_the_new_sa_from_qm2_and_sends_on_it_from_qm3() -> None:
    """The initiator sends on the SA once it has read QM2, which may overtake its QM3:
    the responder stages the inbound SA as it sends QM2 (once, however often QM2 goes)
    and installs the pair at QM3, the SA the stage announced."""
    pair = v1_pair(site_to_site())
    pair.initiate()
    while not pair.of_type("b", InboundSaStaged):
        assert pair.step(), "no quick mode"
    (staged,) = pair.of_type("b", InboundSaStaged)
    assert not installed(pair, "a") and not installed(pair, "b")  # QM2 is on its way
    pair.blocked.add("a")  # QM3 is lost: QM2 goes again, and QM3 with it
    pair.step()
    assert installed(pair, "a") and not installed(pair, "b")
    pair.blocked.clear()
    pair.run(30)
    (child,) = installed(pair, "b")
    assert child.at > staged.installed.at
    assert replace(staged.installed, at=child.at) == child
    assert child.keys == staged.installed.keys
    assert len(pair.of_type("b", InboundSaStaged)) == 1
    assert not pair.of_type("a", InboundSaStaged)
    assert_one_flow(pair)


def test_initiator_rekeys_at_lifetime_times_one_minus_margin_and_keeps_the_flow() -> None:
    pair = v1_pair(site_to_site())
    pair.established(1)
    (first_a,), (first_b,) = pair.children("a"), pair.children("b")
    created = installed(pair, "a")[0].at
    assert first_a.rekey_at == pytest.approx(created + LIFETIME * (1 - MARGIN))
    # the responder renews only if the initiator has not, a little later
    assert first_b.rekey_at == pytest.approx(created + LIFETIME * (1 - MARGIN / 2))
    pair.run(LIFETIME * (1 - MARGIN) - 2)
    assert not pair.of_type("a", ChildSaRekeyed)
    assert len(pair.children("a")) == 1
    pair.run(4)
    for side, old in (("a", first_a), ("b", first_b)):
        (rekeyed,) = pair.of_type(side, ChildSaRekeyed)
        assert rekeyed.old_child_sa_id == old.child_sa_id
        assert rekeyed.at == pytest.approx(created + LIFETIME * (1 - MARGIN))
        new = installed(pair, side)[-1]
        assert new.child_sa_id == rekeyed.new_child_sa_id
        (deleted,) = pair.of_type(side, ChildSaDeleted)
        assert deleted.child_sa_id == old.child_sa_id
        # the new SA is installed before the old one goes: no gap in the flow
        events = pair.events_a if side == "a" else pair.events_b
        assert events.index(new) < events.index(deleted)
    assert pair.of_type("a", ChildSaDeleted)[0].reason is DownReason.REKEYED
    assert pair.of_type("b", ChildSaDeleted)[0].reason is DownReason.PEER_DELETE
    assert installed(pair, "a")[-1].rekeyed_from == first_a.child_sa_id
    assert_one_flow(pair)
    pair.run(3 * LIFETIME)
    assert len(pair.of_type("a", ChildSaRekeyed)) == 4
    assert_one_flow(pair)
    assert not pair.of_type("a", IkeSaDown)


def test_the_responder_renews_when_the_initiator_does_not() -> None:
    """A peer that keeps a longer lifetime of its own never renews our short one: the
    responder does, before the SA lapses, and the flow has no gap."""
    pair = v1_pair(site_to_site())
    pair.established(1)
    (first_a,), (first_b,) = pair.children("a"), pair.children("b")
    created = installed(pair, "b")[0].at
    first_a.rekey_at = float("inf")  # the initiator never renews
    pair.run(LIFETIME * (1 - MARGIN / 2) + 2)
    for side, old in (("a", first_a), ("b", first_b)):
        (rekeyed,) = pair.of_type(side, ChildSaRekeyed)
        assert rekeyed.old_child_sa_id == old.child_sa_id
        assert rekeyed.at == pytest.approx(created + LIFETIME * (1 - MARGIN / 2))
    assert installed(pair, "b")[-1].rekeyed_from == first_b.child_sa_id
    assert not [e for e in pair.of_type("b", ChildSaDeleted) if e.reason is not DownReason.REKEYED]
    assert_one_flow(pair)
    assert not pair.of_type("a", IkeSaDown)


def test_responder_lifetime_shortens_the_initiators_lifetime() -> None:
    pair = v1_pair(site_to_site(b={"child_lifetime": 600.0}))
    pair.established(1)
    (child_a,), (child_b,) = pair.children("a"), pair.children("b")
    assert child_a.choice.lifetime == child_b.choice.lifetime == 600.0
    assert installed(pair, "a")[0].lifetime == 600.0
    created = installed(pair, "a")[0].at
    assert child_a.rekey_at == pytest.approx(created + 600.0 * (1 - MARGIN))
    pair.run(600)
    assert pair.of_type("a", ChildSaRekeyed)
    assert_one_flow(pair)


def test_a_shorter_initiator_lifetime_is_taken_as_offered() -> None:
    pair = v1_pair(site_to_site(a={"child_lifetime": 900.0}))
    pair.established(1)
    assert [c.choice.lifetime for c in pair.children("a") + pair.children("b")] == [900.0, 900.0]


@pytest.mark.parametrize("group", [DhId.MODP_2048, DhId.ECP_256, DhId.CURVE25519])
def test_pfs_groups(group: DhId) -> None:
    pair = v1_pair(site_to_site(a={"pfs_group": group}, b={"pfs_group": group}))
    pair.established()
    assert_one_flow(pair)
    for side in "ab":
        (event,) = installed(pair, side)
        assert event.algorithms.dh_group == group


def test_pfs_changes_the_keys() -> None:
    """Same nonces and SKEYID_d would give the same KEYMAT: with PFS the DH secret is in it."""
    plain = v1_pair(site_to_site())
    plain.established()
    pfs = v1_pair(site_to_site(a={"pfs_group": DhId.MODP_2048}, b={"pfs_group": DhId.MODP_2048}))
    pfs.established()
    (keys_plain,), (keys_pfs,) = plain.children("a"), pfs.children("a")
    assert keys_plain.keys != keys_pfs.keys


def test_without_set_pfs_the_responder_takes_the_offered_group() -> None:
    pair = v1_pair(site_to_site(a={"pfs_group": DhId.ECP_256}))
    pair.established()
    assert_one_flow(pair)
    assert installed(pair, "b")[0].algorithms.dh_group == DhId.ECP_256


def test_pfs_mismatch_fails_the_quick_mode_and_keeps_the_isakmp_sa() -> None:
    pair = v1_pair(site_to_site(a={"pfs_group": DhId.MODP_2048}, b={"pfs_group": DhId.ECP_256}))
    pair.initiate()
    pair.run(60)
    assert pair.of_type("b", NegotiationFailed)[0].notify == "NO_PROPOSAL_CHOSEN"
    (at_a,) = pair.of_type("a", NegotiationFailed)
    assert at_a.notify == "NO_PROPOSAL_CHOSEN"
    assert not installed(pair, "a") and not installed(pair, "b")
    # the refusal ends the quick mode: it is not resent until the ISAKMP SA gives up
    assert len(active(pair.a)) == len(active(pair.b)) == 1
    assert not pair.of_type("a", IkeSaDown)


def test_proxy_identities_outside_the_crypto_acl_are_refused() -> None:
    elsewhere = ipaddress.ip_network("172.16.0.0/24")
    pair = v1_pair(site_to_site(a={"local_ts": (elsewhere,)}))
    pair.initiate()
    pair.run(60)
    (refused,) = pair.of_type("b", NegotiationFailed)
    assert refused.notify == "INVALID_ID_INFORMATION" and "172.16.0.0/24" in refused.reason
    assert pair.of_type("a", NegotiationFailed)[0].notify == "INVALID_ID_INFORMATION"
    assert not installed(pair, "a") and not installed(pair, "b")


def test_a_narrower_proxy_identity_inside_the_acl_is_taken() -> None:
    narrow = ipaddress.ip_network("10.1.5.0/24")
    pair = v1_pair(site_to_site(a={"local_ts": (narrow,)}))
    pair.established()
    assert_one_flow(pair)
    (child_b,) = pair.children("b")
    assert child_b.remote_ts == narrow and child_b.local_ts == B_NET


def test_one_ipsec_sa_pair_per_acl_line() -> None:
    extra_a, extra_b = ipaddress.ip_network("10.11.0.0/16"), ipaddress.ip_network("10.22.0.0/16")
    pair = v1_pair(
        site_to_site(
            a={"local_ts": (A_NET, extra_a), "remote_ts": (B_NET, extra_b)},
            b={"local_ts": (B_NET, extra_b), "remote_ts": (A_NET, extra_a)},
        )
    )
    pair.established()
    flows = {(c.local_ts, c.remote_ts) for c in pair.children("a")}
    assert flows == {(A_NET, B_NET), (extra_a, extra_b)}
    assert len(pair.children("b")) == 2


def test_transport_mode_when_both_ask_for_it() -> None:
    pair = v1_pair(site_to_site(a={"mode": IpsecMode.TRANSPORT}, b={"mode": IpsecMode.TRANSPORT}))
    pair.established()
    assert installed(pair, "a")[0].algorithms.mode == "transport"
    assert installed(pair, "b")[0].transforms.transport


def test_transport_wanted_by_one_side_falls_back_to_tunnel_mode() -> None:
    """`mode transport` asks for transport mode and takes tunnel mode if the peer refuses."""
    for a, b in (({"mode": IpsecMode.TRANSPORT}, {}), ({}, {"mode": IpsecMode.TRANSPORT})):
        pair = v1_pair(site_to_site(a=a, b=b))
        pair.established()
        assert_one_flow(pair)
        assert installed(pair, "a")[0].algorithms.mode == "tunnel"
        assert installed(pair, "b")[0].algorithms.mode == "tunnel"


def test_create_child_sa_brings_a_deleted_flow_back() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (sa_a,) = active(pair.a)
    (child,) = pair.children("a")
    pair.a.delete_child_sa(child.child_sa_id, pair.now)
    pair.run(1)
    assert not pair.children("a") and not pair.children("b")
    assert pair.a.create_child_sa(sa_a.ike_sa_id, pair.now)
    pair.run(2)
    assert_one_flow(pair)
    assert not pair.a.create_child_sa(sa_a.ike_sa_id, pair.now)  # nothing left to negotiate


@pytest.mark.parametrize("seed", range(6))
def test_quick_mode_rekeys_on_a_lossy_link(seed: int) -> None:
    retransmit = RetransmitPolicy(timeout=1.0, base=1.5, tries=10)
    cfg = tuple(replace(c, retransmit=retransmit) for c in site_to_site())
    pair = v1_pair(cfg, LinkFaults(seed=seed))  # type: ignore[arg-type]
    pair.established()
    pair.faults.loss, pair.faults.duplicate, pair.faults.reorder = 0.2, 0.1, 0.3
    for _ in range(3):
        (child,) = [c for sa in active(pair.a) for c in sa.children.values()]
        assert pair.a.rekey_child_sa(child.child_sa_id, pair.now)
        pair.run(120)
    # a lost DELETE leaves the peer's old SA until it expires: IKEv1 does not acknowledge
    pair.run(LIFETIME)
    assert_one_flow(pair)


def test_quick_modes_started_at_once_by_both_ends_keep_both_sas_until_their_lifetime() -> None:
    """Both ends negotiate the first IPsec SA at the same moment (a static crypto map on
    each side, traffic both ways). Neither SA is deleted early, since each end may take
    either as its current one; the older stops renewing and runs out its lifetime."""
    pair = v1_pair(site_to_site())
    pair.initiate()
    while not pair.live_ike("b"):
        assert pair.step()
    (sa_b,) = pair.live_ike("b")
    QuickModeInitiator.begin(sa_b, B_NET, A_NET, pair.now)
    pair.run(REKEYED_GRACE * 4)
    assert len(pair.children("a")) == len(pair.children("b")) == 2
    assert not pair.of_type("a", ChildSaDeleted) and not pair.of_type("b", ChildSaDeleted)
    (kept_a,) = [child for child in pair.children("a") if not child.superseded]
    (kept_b,) = [child for child in pair.children("b") if not child.superseded]
    assert (kept_a.spi_in, kept_a.spi_out) == (kept_b.spi_out, kept_b.spi_in)  # the same SA
    pair.run(LIFETIME + 5)
    reasons = {e.reason for side in "ab" for e in pair.of_type(side, ChildSaDeleted)}
    assert DownReason.LIFETIME_EXPIRED in reasons or DownReason.PEER_DELETE in reasons
    assert_one_flow(pair)
    assert not pair.of_type("a", IkeSaDown)


def test_an_early_renewal_by_the_same_end_is_a_rekey_not_a_collision() -> None:
    """charon renews on request (`swanctl --rekey`) seconds after the SA came up, without
    saying which SA it renews: the older SA goes after the grace, as for any rekey."""
    pair = v1_pair(site_to_site())
    pair.established(1)
    (sa_a,) = pair.live_ike("a")
    (first_a,) = pair.children("a")
    QuickModeInitiator.begin(sa_a, A_NET, B_NET, pair.now)  # no rekeyed_from: "a new SA"
    pair.run(REKEYED_GRACE * 3)
    assert [e.child_sa_id for e in pair.of_type("a", ChildSaDeleted)] == [first_a.child_sa_id]
    assert_one_flow(pair)
