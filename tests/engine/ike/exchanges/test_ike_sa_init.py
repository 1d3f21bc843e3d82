"""IKE_SA_INIT: proposals, INVALID_KE_PAYLOAD retries, cookies, NAT detection."""

from __future__ import annotations

import pytest
from ike_pair import IKE_DEFAULT, EnginePair, site_to_site_config

from engine.crypto.algorithms import DhId, IntegId, PrfId
from engine.events import ChildSaInstalled, IkeSaUp, NegotiationFailed
from engine.ike.constants import NotifyType
from engine.ike.message import decode_message
from engine.ike.payloads import KePayload, NotifyPayload
from engine.ike.policy import (
    AES_CBC_128,
    AES_CBC_256,
    AES_GCM_128,
    AES_GCM_256,
    CHACHA20_POLY1305,
    EspProposalPolicy,
    IkeProposalPolicy,
)

IKE_SUITES = [
    (enc, prf, integ, group)
    for enc, integ in [
        (AES_GCM_256, ()),
        (AES_GCM_128, ()),
        (CHACHA20_POLY1305, ()),
        (AES_CBC_128, (IntegId.HMAC_SHA2_256_128,)),
        (AES_CBC_256, (IntegId.HMAC_SHA2_384_192,)),
        (AES_CBC_256, (IntegId.HMAC_SHA2_512_256,)),
    ]
    for prf in (PrfId.HMAC_SHA2_256, PrfId.HMAC_SHA2_384, PrfId.HMAC_SHA2_512)
    for group in (DhId.CURVE25519, DhId.ECP_256)
] + [
    (AES_CBC_128, PrfId.HMAC_SHA2_256, (IntegId.HMAC_SHA2_256_128,), g)
    for g in (DhId.MODP_2048, DhId.ECP_384, DhId.ECP_521)
]


@pytest.mark.parametrize(
    ("enc", "prf", "integ", "group"), IKE_SUITES, ids=lambda v: getattr(v, "name", str(v))
)
def test_every_ike_suite_establishes(enc, prf, integ, group) -> None:
    proposal = IkeProposalPolicy("p", (enc,), (prf,), integ, (group,))
    pair = EnginePair(
        *site_to_site_config({"ike_proposals": (proposal,)}, {"ike_proposals": (proposal,)})
    )
    pair.established()
    up_a, up_b = pair.of_type("a", IkeSaUp), pair.of_type("b", IkeSaUp)
    assert len(up_a) == len(up_b) == 1
    assert up_a[0].algorithms == up_b[0].algorithms
    assert up_a[0].algorithms.dh_group == group
    assert up_a[0].algorithms.encryption == enc.name
    assert len(pair.of_type("a", ChildSaInstalled)) == 1


ESP_SUITES = [
    EspProposalPolicy("gcm256", (AES_GCM_256,)),
    EspProposalPolicy("gcm128", (AES_GCM_128,)),
    EspProposalPolicy("cbc128-sha256", (AES_CBC_128,), (IntegId.HMAC_SHA2_256_128,)),
    EspProposalPolicy("cbc256-sha512", (AES_CBC_256,), (IntegId.HMAC_SHA2_512_256,)),
    EspProposalPolicy("gcm256-esn", (AES_GCM_256,), esn=True),
]


@pytest.mark.parametrize("esp", ESP_SUITES, ids=lambda p: p.name)
def test_every_esp_suite_keys_both_ends_alike(esp: EspProposalPolicy) -> None:
    pair = EnginePair(*site_to_site_config({"esp_proposals": (esp,)}, {"esp_proposals": (esp,)}))
    pair.established()
    (ca,), (cb,) = pair.of_type("a", ChildSaInstalled), pair.of_type("b", ChildSaInstalled)
    assert ca.spi_in == cb.spi_out and ca.spi_out == cb.spi_in
    assert ca.keys == cb.keys  # same KEYMAT; each side picks its direction by `initiator`
    assert ca.initiator and not cb.initiator
    assert ca.algorithms == cb.algorithms
    assert ca.algorithms.esn == esp.esn


def test_no_common_proposal_fails_cleanly(pair_factory=None) -> None:
    a = IkeProposalPolicy("a", (AES_GCM_256,), (PrfId.HMAC_SHA2_256,), (), (DhId.CURVE25519,))
    b = IkeProposalPolicy(
        "b", (AES_CBC_128,), (PrfId.HMAC_SHA2_512,), (IntegId.HMAC_SHA2_256_128,), (DhId.ECP_256,)
    )
    pair = EnginePair(*site_to_site_config({"ike_proposals": (a,)}, {"ike_proposals": (b,)}))
    pair.established()
    failed = pair.of_type("a", NegotiationFailed)
    assert failed and failed[0].notify == "NO_PROPOSAL_CHOSEN"
    assert pair.of_type("b", NegotiationFailed)
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_invalid_ke_payload_retried_with_the_responders_group() -> None:
    initiator = IkeProposalPolicy(
        "i", (AES_GCM_256,), (PrfId.HMAC_SHA2_256,), (), (DhId.CURVE25519, DhId.ECP_384)
    )
    responder = IkeProposalPolicy("r", (AES_GCM_256,), (PrfId.HMAC_SHA2_256,), (), (DhId.ECP_384,))
    pair = EnginePair(
        *site_to_site_config({"ike_proposals": (initiator,)}, {"ike_proposals": (responder,)})
    )
    pair.established()
    answers = [
        decode_message(d.data)
        for side, d in pair.wire
        if side == "b" and d.data[18] == 34 and d.data[19] & 0x20
    ]
    first_notifies = [p for p in answers[0].payloads if isinstance(p, NotifyPayload)]
    assert first_notifies[0].notify_type == NotifyType.INVALID_KE_PAYLOAD
    assert int.from_bytes(first_notifies[0].data, "big") == DhId.ECP_384
    (up,) = pair.of_type("a", IkeSaUp)
    assert up.algorithms.dh_group == DhId.ECP_384
    requests = [decode_message(d.data) for side, d in pair.wire if side == "a" and d.data[18] == 34]
    assert [r.get(KePayload).dh_group for r in requests] == [DhId.CURVE25519, DhId.ECP_384]
    assert len(pair.b.ike_sas()) == 1  # no state kept for the refused first attempt


def test_cookie_demanded_above_the_half_open_threshold() -> None:
    cfg_a, cfg_b = site_to_site_config()
    from dataclasses import replace

    pair = EnginePair(cfg_a, replace(cfg_b, cookie_threshold=0))
    pair.established()
    from_b = [decode_message(d.data) for side, d in pair.wire if side == "b" and d.data[18] == 34]
    assert from_b[0].get_notify(NotifyType.COOKIE) is not None
    assert len(from_b[0].payloads) == 1
    to_b = [decode_message(d.data) for side, d in pair.wire if side == "a" and d.data[18] == 34]
    assert to_b[1].payloads[0].notify_type == NotifyType.COOKIE
    assert pair.of_type("a", IkeSaUp) and pair.of_type("b", IkeSaUp)
    assert pair.b.stats["cookies sent"] == 1


def test_forged_cookie_gets_no_state() -> None:
    cfg_a, cfg_b = site_to_site_config()
    from dataclasses import replace

    pair = EnginePair(cfg_a, replace(cfg_b, cookie_threshold=0))
    pair.initiate()
    pair.step()  # request out, COOKIE back
    (init,) = [d for side, d in pair.wire if side == "a"]
    pair.b.receive_datagram(init.data, init.remote, init.local, pair.now)
    assert not pair.b.ike_sas()


def test_nat_detected_and_initiator_moves_to_natt_port() -> None:
    pair = EnginePair(*site_to_site_config(b={"remote_addresses": ()}))
    pair.nat_a = ("192.0.2.7", 40000)
    pair.established()
    (up_a,), (up_b,) = pair.of_type("a", IkeSaUp), pair.of_type("b", IkeSaUp)
    assert up_a.nat_local and not up_a.nat_remote
    assert up_b.nat_remote and not up_b.nat_local
    assert up_a.local[1] == 4500 and up_a.remote[1] == 4500
    assert up_b.remote[0] == "192.0.2.7"
    (child,) = pair.of_type("b", ChildSaInstalled)
    assert child.udp_encapsulation


def test_ike_proposal_with_several_algorithms_takes_initiator_order() -> None:
    both = IkeProposalPolicy(
        "both",
        (AES_CBC_256, AES_GCM_256),
        (PrfId.HMAC_SHA2_384,),
        (IntegId.HMAC_SHA2_256_128,),
        (DhId.ECP_256, DhId.CURVE25519),
    )
    pair = EnginePair(
        *site_to_site_config({"ike_proposals": (both,)}, {"ike_proposals": (IKE_DEFAULT, both)})
    )
    pair.established()
    (up,) = pair.of_type("b", IkeSaUp)
    assert up.algorithms.encryption == "aes-cbc-256"
    assert up.algorithms.dh_group == DhId.ECP_256


def test_forced_encapsulation_makes_both_sides_use_udp() -> None:
    from dataclasses import replace

    cfg_a, cfg_b = site_to_site_config()
    pair = EnginePair(replace(cfg_a, force_encapsulation=True), cfg_b)
    pair.established()
    (up_a,), (up_b,) = pair.of_type("a", IkeSaUp), pair.of_type("b", IkeSaUp)
    assert up_a.nat_local and up_b.nat_remote
    assert up_a.local[1] == 4500 and up_b.local[1] == 4500
    assert pair.of_type("a", ChildSaInstalled)[0].udp_encapsulation
    assert pair.of_type("b", ChildSaInstalled)[0].udp_encapsulation
