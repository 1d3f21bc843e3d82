"""Aggressive mode: three messages, the initiator's identity in the clear so the responder
picks the key by it (a client group's ID_KEY_ID, a hostname key, else the address)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from engine.crypto.algorithms import DhId
from engine.events import (
    AuthenticationFailed,
    ChildSaInstalled,
    ClientAuthorizationRequested,
    IkeSaAbandoned,
    IkeSaUp,
    NegotiationFailed,
)
from engine.ike.policy import AES_CBC_128, Identity, IdentityKind
from engine.ikev1.constants import Phase1Hash
from engine.ikev1.policy import Ikev1PeerSettings, IsakmpProposal, PresharedKey
from engine.secret import Secret
from tests.ike_pair import B_ADDR
from tests.ikev1_pair import (
    GROUP,
    ISAKMP_AES_SHA,
    active,
    assert_one_flow,
    grant_for,
    remote_access,
    site_to_site,
    v1_pair,
)

AGGRESSIVE = {"ikev1": Ikev1PeerSettings(aggressive=True)}


@pytest.mark.parametrize("from_b", [False, True], ids=["a-initiates", "b-initiates"])
def test_site_to_site_aggressive_mode_in_either_direction(from_b: bool) -> None:
    cfg = site_to_site(b=AGGRESSIVE) if from_b else site_to_site(a=AGGRESSIVE)
    pair = v1_pair(cfg)
    pair.initiate(from_b=from_b)
    pair.run(5)
    assert_one_flow(pair)
    for side in "ab":
        (up,) = pair.of_type(side, IkeSaUp)
        assert up.mode == "aggressive"
    # three messages for phase 1, three for quick mode
    assert len(pair.wire) == 6


def test_the_initiator_offers_one_group_only() -> None:
    """Its KE goes in the first message: every transform is of that one group."""
    pair = v1_pair(site_to_site(a=AGGRESSIVE))
    pair.established()
    (sa,) = active(pair.a)
    from engine.ikev1.payloads.sa import SaPayload

    offer = SaPayload.decode(sa.sa_i_body)
    groups = {t.attribute(4).number for t in offer.proposals[0].transforms}  # type: ignore[union-attr]
    assert groups == {ISAKMP_AES_SHA.group}


def test_a_responder_policy_of_another_group_is_no_proposal_chosen() -> None:
    other = (IsakmpProposal(1, AES_CBC_128, Phase1Hash.SHA1, DhId.MODP_1024),)
    pair = v1_pair(site_to_site(a=AGGRESSIVE, sb={"proposals": other}))
    pair.initiate()
    pair.run(40)
    assert pair.of_type("a", NegotiationFailed)[0].notify == "NO_PROPOSAL_CHOSEN"
    assert pair.of_type("a", IkeSaAbandoned)
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_aggressive_mode_disabled_refuses_it() -> None:
    pair = v1_pair(site_to_site(a=AGGRESSIVE, sb={"aggressive_disabled": True}))
    pair.initiate()
    pair.run(40)
    assert pair.of_type("a", NegotiationFailed)
    assert not pair.of_type("b", IkeSaUp) and not pair.b.ike_sas()


def test_the_group_name_selects_the_group_key() -> None:
    """B holds no key for A's address: only the group named by ID_KEY_ID has one."""
    cfg_a, cfg_b = remote_access(xauth=False)
    pair = v1_pair((cfg_a, cfg_b))
    pair.initiate()
    pair.run(2)
    # the gateway's session comes up once the client has its address
    assert not pair.of_type("b", IkeSaUp)
    (request,) = pair.of_type("b", ClientAuthorizationRequested)
    assert request.password is None and request.group == GROUP.name
    assert pair.b.authorize_client(request.ike_sa_id, grant_for(), "", pair.now)
    pair.run(2)
    (up_b,) = pair.of_type("b", IkeSaUp)
    assert up_b.remote_id == GROUP.name and up_b.mode == "aggressive"
    (sa_b,) = active(pair.b)
    assert sa_b.group == GROUP.name and sa_b.peer_name == "ra"


def test_a_wrong_group_key_fails_at_the_initiator() -> None:
    cfg_a, cfg_b = remote_access()
    assert cfg_b.isakmp is not None
    wrong = replace(cfg_b.isakmp, groups=(replace(GROUP, key=Secret("not-the-group-key")),))
    pair = v1_pair((cfg_a, replace(cfg_b, isakmp=wrong)))
    pair.initiate()
    pair.run(40)
    (failed,) = pair.of_type("a", AuthenticationFailed)
    assert "HASH_R" in failed.reason
    # A's AUTHENTICATION_FAILED is sealed with the keys of the wrong group key: B cannot
    # read it, waits, and says so when its negotiation times out
    (at_b,) = pair.of_type("b", NegotiationFailed)
    assert "does not verify" in at_b.reason and "not verified" in at_b.reason
    for side in "ab":
        assert not pair.of_type(side, IkeSaUp) and not pair.of_type(side, ChildSaInstalled)
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_an_unknown_group_has_no_key() -> None:
    cfg_a, cfg_b = remote_access()
    assert cfg_b.isakmp is not None
    other = replace(cfg_b.isakmp, groups=(replace(GROUP, name="someone-else"),))
    pair = v1_pair((cfg_a, replace(cfg_b, isakmp=other)))
    pair.initiate()
    pair.run(40)
    (failed,) = pair.of_type("b", AuthenticationFailed)
    assert GROUP.name in failed.reason
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_an_fqdn_identity_selects_the_hostname_key() -> None:
    host_key = Secret("hostname-key-1")
    a_settings = Ikev1PeerSettings(
        aggressive=True, self_identity=Identity(IdentityKind.FQDN, "branch.example.test")
    )
    cfg = site_to_site(
        a={"ikev1": a_settings, "psk_local": host_key, "psk_remote": host_key},
        sa={"keys": (PresharedKey(host_key, ipaddress.ip_network(f"{B_ADDR}/32")),)},
        sb={"keys": (PresharedKey(host_key, hostname="BRANCH.example.test"),)},
    )
    pair = v1_pair(cfg)
    pair.established()
    assert_one_flow(pair)
    assert pair.of_type("b", IkeSaUp)[0].remote_id == "branch.example.test"
