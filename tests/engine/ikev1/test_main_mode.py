"""Main mode with pre-shared keys between two in-memory engines: both roles, the keys
both sides derive, a wrong key, no matching policy, phase 1 renewal and late copies."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pytest

from engine.crypto.algorithms import DhId
from engine.events import (
    AuthenticationFailed,
    ChildSaDeleted,
    ChildSaInstalled,
    IkeSaAbandoned,
    IkeSaDown,
    IkeSaRekeyed,
    IkeSaUp,
    NegotiationFailed,
)
from engine.ike.errors import IkeDrop
from engine.ike.policy import AES_CBC_128
from engine.ikev1.constants import Phase1Hash
from engine.ikev1.isakmp_sa import Ikev1State
from engine.ikev1.policy import IsakmpProposal, PresharedKey
from engine.secret import Secret
from tests.ike_pair import A_ADDR
from tests.ikev1_pair import PSK, active, assert_one_flow, site_to_site, v1_pair


@pytest.mark.parametrize("from_b", [False, True], ids=["a-initiates", "b-initiates"])
def test_main_mode_then_quick_mode_in_either_direction(from_b: bool) -> None:
    pair = v1_pair(site_to_site())
    pair.initiate(from_b=from_b)
    pair.run(5)
    assert_one_flow(pair)
    initiator, responder = ("b", "a") if from_b else ("a", "b")
    (up_i,), (up_r,) = pair.of_type(initiator, IkeSaUp), pair.of_type(responder, IkeSaUp)
    assert up_i.initiator and not up_r.initiator
    assert up_i.version == up_r.version == 1 and up_i.mode == up_r.mode == "main"
    assert up_i.algorithms.encryption == "aes-cbc-256" and up_i.algorithms.dh_group == 14
    assert up_i.remote_id == up_r.local_id
    (sa_i,) = active(pair.a if initiator == "a" else pair.b)
    assert sa_i.state is Ikev1State.QM_IDLE
    assert not pair.a.drops and not pair.b.drops


def test_both_sides_derive_the_rfc_2409_keys() -> None:
    """SKEYID = prf(PSK, Ni | Nr) and the chain after it, computed here from what the SAs
    exchanged (nonces, cookies, the Diffie-Hellman secret)."""
    pair = v1_pair(site_to_site())
    pair.established()
    (sa_a,), (sa_b,) = active(pair.a), active(pair.b)
    assert sa_a.keys == sa_b.keys and sa_a.dh is not None
    shared = sa_a.dh.shared_secret(sa_a.public_r)
    mac = lambda key, data: hmac.new(key, data, hashlib.sha256).digest()  # noqa: E731
    skeyid = mac(PSK.reveal(), sa_a.nonce_i + sa_a.nonce_r)
    tail = shared + sa_a.cookie_i + sa_a.cookie_r
    skeyid_d = mac(skeyid, tail + b"\x00")
    skeyid_a = mac(skeyid, skeyid_d + tail + b"\x01")
    skeyid_e = mac(skeyid, skeyid_a + tail + b"\x02")
    assert sa_a.keys is not None
    assert (sa_a.keys.skeyid, sa_a.keys.skeyid_d, sa_a.keys.skeyid_a) == (
        skeyid,
        skeyid_d,
        skeyid_a,
    )
    assert sa_a.keys.key == skeyid_e[:32]  # AES-256 under SHA-256: no stretching needed


def test_a_wrong_pre_shared_key_fails_and_installs_nothing() -> None:
    wrong = (PresharedKey(Secret("not-the-key"), ipaddress.ip_network(f"{A_ADDR}/32")),)
    pair = v1_pair(site_to_site(sb={"keys": wrong}))
    pair.initiate()
    pair.run(60)
    (failed,) = pair.of_type("b", AuthenticationFailed)
    assert "pre-shared key" in failed.reason
    # B's AUTHENTICATION_FAILED is sealed with keys A does not have: A cannot read it,
    # resends MM5 until it gives up, and then says what it could not verify
    (refused,) = pair.of_type("a", NegotiationFailed)
    assert "does not verify" in refused.reason and "not verified" in refused.reason
    (abandoned,) = pair.of_type("a", IkeSaAbandoned)
    assert abandoned.reason.name in ("HALF_OPEN_TIMEOUT", "RETRANSMIT_GIVE_UP")
    for side in "ab":
        assert not pair.of_type(side, IkeSaUp) and not pair.of_type(side, ChildSaInstalled)
    assert not pair.a.ike_sas() and not pair.b.ike_sas()
    assert pair.b.drops[IkeDrop.INTEGRITY] == 1


def test_no_key_for_the_peer_fails_at_mm3() -> None:
    pair = v1_pair(site_to_site(sb={"keys": ()}))
    pair.initiate()
    pair.run(60)
    assert pair.of_type("b", AuthenticationFailed)
    assert pair.of_type("a", NegotiationFailed)[0].notify == "AUTHENTICATION_FAILED"
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_no_matching_isakmp_policy_is_answered_no_proposal_chosen() -> None:
    other = (IsakmpProposal(5, AES_CBC_128, Phase1Hash.SHA1, DhId.MODP_1536),)
    pair = v1_pair(site_to_site(sb={"proposals": other}))
    pair.initiate()
    pair.run(60)
    (at_b,) = pair.of_type("b", NegotiationFailed)  # MM1 resent is answered, not renegotiated
    assert at_b.notify == "NO_PROPOSAL_CHOSEN"
    # the answer is in the clear, so anyone could have sent it: A resends MM1 until it
    # gives up, then reports what the peer said
    (at_a,) = pair.of_type("a", NegotiationFailed)
    assert at_a.notify == "NO_PROPOSAL_CHOSEN" and at_a.at > pair.wire_times[-1] - 1
    assert "without protection" in at_a.reason
    assert pair.of_type("a", IkeSaAbandoned)[0].reason.name in (
        "HALF_OPEN_TIMEOUT",
        "RETRANSMIT_GIVE_UP",
    )
    # the responder keeps nothing: no half-open SA waits for a timeout
    assert not pair.b.ike_sas() and pair.b.half_open_count() == 0
    assert not pair.a.ike_sas()


def test_second_policy_is_chosen_when_the_first_does_not_match() -> None:
    only_second = (IsakmpProposal(1, AES_CBC_128, Phase1Hash.SHA1, DhId.MODP_1024),)
    pair = v1_pair(site_to_site(sb={"proposals": only_second}))
    pair.established()
    assert_one_flow(pair)
    (up,) = pair.of_type("a", IkeSaUp)
    assert (up.algorithms.encryption, up.algorithms.prf, up.algorithms.dh_group) == (
        "aes-cbc-128",
        "sha1",
        2,
    )
    assert "dh_group" in up.algorithms.weak and "prf" in up.algorithms.weak


def test_phase1_renewal_moves_the_ipsec_sas_without_deleting_them() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (old_a,), (old_b,) = active(pair.a), active(pair.b)
    (child_a,) = old_a.children.values()
    assert pair.a.rekey_ike_sa(old_a.ike_sa_id, pair.now)
    pair.run(5)
    assert_one_flow(pair)
    (new_a,), (new_b,) = active(pair.a), active(pair.b)
    assert new_a.ike_sa_id != old_a.ike_sa_id and new_b.ike_sa_id != old_b.ike_sa_id
    assert child_a.child_sa_id in new_a.children
    for side, old, new in (("a", old_a, new_a), ("b", old_b, new_b)):
        (rekeyed,) = pair.of_type(side, IkeSaRekeyed)
        assert (rekeyed.old_ike_sa_id, rekeyed.new_ike_sa_id) == (old.ike_sa_id, new.ike_sa_id)
        assert not pair.of_type(side, ChildSaDeleted)
        (down,) = pair.of_type(side, IkeSaDown)
        assert down.ike_sa_id == old.ike_sa_id
    assert pair.of_type("a", IkeSaUp)[-1].rekeyed_from == old_a.ike_sa_id
    # the new SA carries on: a child rekey runs on it
    assert pair.a.rekey_child_sa(child_a.child_sa_id, pair.now)
    pair.run(5)
    assert_one_flow(pair)


def test_phase1_is_renewed_before_it_expires_by_the_initiator() -> None:
    short = {
        "proposals": (IsakmpProposal(10, AES_CBC_128, Phase1Hash.SHA2_256, DhId.MODP_2048, 1000.0),)
    }
    pair = v1_pair(site_to_site(sa=short, sb=short))
    pair.established(1)
    start = pair.now
    pair.run(950)
    rekeyed = pair.of_type("a", IkeSaRekeyed)
    assert len(rekeyed) == 1
    # initiator renews at lifetime * (1 - rekey_margin)
    assert rekeyed[0].at == pytest.approx(start - 1 + 900, abs=1.0)
    assert_one_flow(pair)
    pair.run(3000)  # renewals go on; the IPsec SA is rekeyed under them
    assert len(pair.of_type("a", IkeSaRekeyed)) >= 3
    assert_one_flow(pair)
    # B deletes an IPsec SA only when told to, or when the rekeying side did not
    assert all(
        e.reason.name in ("PEER_DELETE", "REKEYED") for e in pair.of_type("b", ChildSaDeleted)
    )


def test_late_copy_of_mm1_does_not_take_over_the_sa() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    _, mm1 = pair.wire[0]
    pair.b.receive_datagram(mm1.data, mm1.remote, mm1.local, pair.now)
    assert len(pair.b.ike_sas()) == 1 and pair.b.half_open_count() == 0
    (child,) = pair.children("a")
    pair.a.delete_child_sa(child.child_sa_id, pair.now)
    pair.run(1)
    assert not pair.children("b")  # B still hears its ISAKMP SA


def test_late_copy_of_mm1_after_mm3_does_not_fail_phase1() -> None:
    """The responder remembers every message of main mode, not only the last one."""
    pair = v1_pair(site_to_site())
    pair.initiate()
    for _ in range(3):  # MM1, MM2, MM3 delivered; MM4 in flight
        pair.step()
    _, mm1 = pair.wire[0]
    pair.b.receive_datagram(mm1.data, mm1.remote, mm1.local, pair.now)
    pair.run(5)
    assert_one_flow(pair)
    assert pair.b.drops[IkeDrop.PROTOCOL] == 1
