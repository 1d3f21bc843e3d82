"""IKE_SA_INIT: proposals, INVALID_KE_PAYLOAD retries, cookies, NAT detection."""

from __future__ import annotations

import pytest
from ike_pair import IKE_DEFAULT, EnginePair, site_to_site_config

from engine.crypto import encryption, integrity
from engine.crypto.algorithms import DhId, IntegId, PrfId
from engine.events import ChildSaInstalled, IkeSaUp, NegotiationFailed
from engine.ike.constants import NotifyType, ProtocolId, TransformType
from engine.ike.errors import LocalProtocolError
from engine.ike.message import decode_message
from engine.ike.payloads import KePayload, NotifyPayload, Proposal, SaPayload, Transform
from engine.ike.policy import (
    AES_CBC_128,
    AES_CBC_256,
    AES_GCM_128,
    AES_GCM_256,
    CHACHA20_POLY1305,
    ESP_NULL,
    TRIPLE_DES,
    EncrId,
    EncryptionChoice,
    EspProposalPolicy,
    IkeProposalPolicy,
)
from engine.ike.proposals import select_esp
from engine.ike.sk_cipher import SkCipher

AES_CBC_192 = EncryptionChoice(EncrId.AES_CBC, 192)
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


LEGACY_IKE_SUITES = [
    # (encryption, prf, integrity, group, the fields marked weak)
    (
        TRIPLE_DES,
        PrfId.HMAC_SHA1,
        IntegId.HMAC_SHA1_96,
        DhId.MODP_1024,
        ("encryption", "prf", "integrity", "dh_group"),
    ),
    (
        TRIPLE_DES,
        PrfId.HMAC_MD5,
        IntegId.HMAC_MD5_96,
        DhId.MODP_768,
        ("encryption", "prf", "integrity", "dh_group"),
    ),
    (
        AES_CBC_128,
        PrfId.HMAC_SHA1,
        IntegId.HMAC_SHA1_96,
        DhId.MODP_1536,
        ("prf", "integrity", "dh_group"),
    ),
    (AES_CBC_192, PrfId.HMAC_SHA2_256, IntegId.HMAC_SHA2_256_128, DhId.MODP_3072, ()),
    (AES_CBC_256, PrfId.HMAC_SHA2_512, IntegId.HMAC_SHA2_512_256, DhId.MODP_4096, ()),
    (AES_GCM_128, PrfId.HMAC_SHA2_256, None, DhId.MODP_2048_256, ("dh_group",)),
]


@pytest.mark.parametrize(
    ("enc", "prf", "integ", "group", "weak"),
    LEGACY_IKE_SUITES,
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_legacy_ike_suites_establish_and_are_marked_weak(enc, prf, integ, group, weak) -> None:
    integs = () if integ is None else (integ,)
    proposal = IkeProposalPolicy("p", (enc,), (prf,), integs, (group,))
    esp = EspProposalPolicy("old", (TRIPLE_DES,), (IntegId.HMAC_SHA1_96,))
    config = {"ike_proposals": (proposal,), "esp_proposals": (esp,)}
    pair = EnginePair(*site_to_site_config(config, config))
    pair.established()
    (up_a,), (up_b,) = pair.of_type("a", IkeSaUp), pair.of_type("b", IkeSaUp)
    assert up_a.algorithms == up_b.algorithms
    alg = up_a.algorithms
    assert (alg.encryption, alg.dh_group, alg.weak) == (enc.name, group, weak)
    (ca,), (cb,) = pair.of_type("a", ChildSaInstalled), pair.of_type("b", ChildSaInstalled)
    assert ca.keys == cb.keys
    assert (ca.algorithms.encryption, ca.algorithms.integrity) == ("3des", "sha1")
    assert ca.algorithms.weak == ("encryption", "integrity")
    assert ca.transforms.encryption.name == "3des" and ca.transforms.integrity is not None
    assert ca.transforms.integrity.icv_size == 12


def test_esp_null_negotiates_and_is_marked_weak() -> None:
    esp = EspProposalPolicy("null", (ESP_NULL,), (IntegId.HMAC_SHA2_256_128,))
    pair = EnginePair(*site_to_site_config({"esp_proposals": (esp,)}, {"esp_proposals": (esp,)}))
    pair.established()
    (ca,) = pair.of_type("a", ChildSaInstalled)
    assert (ca.algorithms.encryption, ca.algorithms.weak) == ("null", ("encryption",))
    assert ca.keys.encr_i == b"" and len(ca.keys.integ_i) == 32


def test_ike_refuses_encr_null_even_when_offered() -> None:
    # RFC 7296 section 3.3: ENCR_NULL is for ESP only; the IKE core cannot be keyed with it
    with pytest.raises(LocalProtocolError):
        SkCipher(encryption(11, None), integrity(12), b"", bytes(32))


def test_weak_dh_group_is_not_taken_for_unasked_pfs() -> None:
    """A peer may add PFS to an ESP proposal we configured without; a weak group must be
    configured to be used, so an offer with only group 2 is not taken."""
    esp = EspProposalPolicy("cbc", (AES_CBC_128,), (IntegId.HMAC_SHA1_96,))

    def offer(group: int) -> SaPayload:
        transforms = (
            Transform(TransformType.ENCR, 12, 128),
            Transform(TransformType.INTEG, 2),
            Transform(TransformType.DH, group),
            Transform(TransformType.ESN, 0),
        )
        return SaPayload((Proposal(1, ProtocolId.ESP, b"\x01\x02\x03\x04", transforms),))

    assert select_esp(offer(DhId.MODP_1024), (esp,), None) is None
    chosen = select_esp(offer(DhId.MODP_2048), (esp,), None)
    assert chosen is not None and chosen[1].dh_group == DhId.MODP_2048
    chosen = select_esp(offer(DhId.MODP_1024), (esp,), DhId.MODP_1024)
    assert chosen is not None and chosen[1].weak == ("integrity", "dh_group")


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
