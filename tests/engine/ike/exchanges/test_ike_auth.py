"""IKE_AUTH: pre-shared keys, identities, the first child SA and its selectors."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from ike_pair import EnginePair, site_to_site_config

from engine.crypto.algorithms import IntegId
from engine.events import (
    AuthenticationFailed,
    ChildSaInstalled,
    IkeSaUp,
    NegotiationFailed,
)
from engine.ike.policy import AES_CBC_128, EspProposalPolicy, Identity
from engine.secret import Secret


def test_psk_establishes_ike_and_first_child() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (up_a,), (up_b,) = pair.of_type("a", IkeSaUp), pair.of_type("b", IkeSaUp)
    assert up_a.initiator and not up_b.initiator
    assert up_a.spi_i == up_b.spi_i and up_a.spi_r == up_b.spi_r
    assert up_a.remote_id == "10.0.0.2" and up_b.remote_id == "10.0.0.1"
    (ca,) = pair.of_type("a", ChildSaInstalled)
    assert ca.traffic_selectors.local == ("10.1.0.0/16",)
    assert ca.traffic_selectors.remote == ("10.2.0.0/16",)


def test_different_key_per_direction() -> None:
    a = {"psk_local": Secret("a-to-b"), "psk_remote": Secret("b-to-a")}
    b = {"psk_local": Secret("b-to-a"), "psk_remote": Secret("a-to-b")}
    pair = EnginePair(*site_to_site_config(a, b))
    pair.established()
    assert pair.of_type("a", IkeSaUp) and pair.of_type("b", IkeSaUp)


def test_wrong_psk_at_responder_fails_cleanly() -> None:
    pair = EnginePair(*site_to_site_config({"psk_local": Secret("wrong")}))
    pair.established()
    (fail_b,) = pair.of_type("b", AuthenticationFailed)
    assert "does not verify" in fail_b.reason
    (fail_a,) = pair.of_type("a", AuthenticationFailed)
    assert "rejected" in fail_a.reason
    assert not pair.of_type("a", IkeSaUp) and not pair.of_type("b", IkeSaUp)
    assert not pair.a.ike_sas() and not pair.b.ike_sas()
    assert "wrong" not in repr(pair.events_a + pair.events_b)


def test_wrong_psk_at_initiator_fails_cleanly() -> None:
    pair = EnginePair(*site_to_site_config({"psk_remote": Secret("wrong")}))
    pair.established()
    (fail_a,) = pair.of_type("a", AuthenticationFailed)
    assert "responder's AUTH" in fail_a.reason
    # B believed it was up, then learned the initiator refused it.
    assert pair.of_type("b", AuthenticationFailed)
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_fqdn_identities_and_remote_identity_check() -> None:
    a = {
        "local_identity": Identity.fqdn("a.example"),
        "remote_identity": Identity.fqdn("b.example"),
    }
    b = {
        "local_identity": Identity.fqdn("b.example"),
        "remote_identity": Identity.fqdn("a.example"),
    }
    pair = EnginePair(*site_to_site_config(a, b))
    pair.established()
    (up_b,) = pair.of_type("b", IkeSaUp)
    assert up_b.remote_id == "a.example" and up_b.local_id == "b.example"


def test_unknown_identity_is_refused() -> None:
    a = {"local_identity": Identity.email("mallory@example")}
    b = {"remote_identity": Identity.email("alice@example")}
    pair = EnginePair(*site_to_site_config(a, b))
    pair.established()
    assert pair.of_type("b", AuthenticationFailed)
    assert not pair.b.ike_sas()


def test_traffic_selectors_are_narrowed_by_the_responder() -> None:
    a = {
        "local_ts": (ipaddress.ip_network("10.0.0.0/8"),),
        "remote_ts": (ipaddress.ip_network("0.0.0.0/0"),),
    }
    pair = EnginePair(*site_to_site_config(a))
    pair.established()
    (ca,) = pair.of_type("a", ChildSaInstalled)
    assert ca.traffic_selectors.local == ("10.1.0.0/16",)
    assert ca.traffic_selectors.remote == ("10.2.0.0/16",)


def test_disjoint_selectors_leave_ike_up_without_child() -> None:
    a = {"remote_ts": (ipaddress.ip_network("172.16.0.0/12"),)}
    pair = EnginePair(*site_to_site_config(a))
    pair.established()
    assert pair.of_type("a", IkeSaUp)
    (failed,) = pair.of_type("a", NegotiationFailed)
    assert failed.notify == "TS_UNACCEPTABLE"
    assert not pair.of_type("a", ChildSaInstalled)
    assert pair.live_ike("a") and not pair.children("a")


def test_child_proposal_mismatch_reports_no_proposal_chosen() -> None:
    cbc = EspProposalPolicy("cbc", (AES_CBC_128,), (IntegId.HMAC_SHA2_256_128,))
    pair = EnginePair(*site_to_site_config({"esp_proposals": (cbc,)}))
    pair.established()
    (failed,) = pair.of_type("a", NegotiationFailed)
    assert failed.notify == "NO_PROPOSAL_CHOSEN"
    assert pair.live_ike("a") and pair.live_ike("b")


def test_the_peer_naming_the_address_most_closely_answers() -> None:
    """A hub with a dynamic entry for a whole subnet and a tunnel interface to one peer
    of it: that peer's IKE_AUTH lands on the tunnel interface, wherever it is written."""
    cfg_a, cfg_b = site_to_site_config()
    (to_a,) = cfg_b.peers
    subnet = replace(to_a, name="dynamic", remote_addresses=(ipaddress.ip_network("10.0.0.0/24"),))
    tunnel = replace(
        to_a,
        name="Tunnel1",
        interface="Tunnel1",
        local_ts=(ipaddress.ip_network("0.0.0.0/0"),),
        remote_ts=(ipaddress.ip_network("0.0.0.0/0"),),
    )
    pair = EnginePair(cfg_a, replace(cfg_b, peers=(subnet, tunnel)))
    pair.established()
    (child,) = pair.of_type("b", ChildSaInstalled)
    assert (child.peer_name, child.interface) == ("Tunnel1", "Tunnel1")
    # the tunnel accepts what the initiator narrows it to
    assert child.traffic_selectors.local == ("10.2.0.0/16",)
    assert child.traffic_selectors.remote == ("10.1.0.0/16",)
