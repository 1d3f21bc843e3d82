"""Phase 1 and quick mode proposals: what we offer, and what a responder takes (IOS's
order, the lifetime rule, RFC 2408's "one unknown attribute refuses the transform")."""

from __future__ import annotations

from dataclasses import replace

from engine.crypto.algorithms import DhId, EncrId, IntegId
from engine.ike.policy import AES_CBC_128, AES_CBC_256, EspProposalPolicy
from engine.ikev1.constants import (
    AuthMethod,
    EncapsulationMode,
    IpsecAttr,
    LifeType,
    Phase1Attr,
    Phase1Encryption,
    Phase1Hash,
    ProtocolId,
)
from engine.ikev1.payloads.attributes import DataAttribute
from engine.ikev1.payloads.sa import Proposal, SaPayload, Transform
from engine.ikev1.proposals import (
    choose_esp,
    choose_phase1,
    encapsulation_mode,
    esp_offer,
    phase1_offer,
    read_esp,
    read_phase1,
)
from tests.ikev1_pair import ESP_3DES_MD5, ESP_AES_SHA, ISAKMP_AES128_SHA1, ISAKMP_AES_SHA

SPI = b"\x00\x01\x02\x03"


def phase1_transform(*attrs: tuple[int, int]) -> Transform:
    return Transform(1, 1, tuple(DataAttribute(k, v) for k, v in attrs))


AES128_SHA1_G2 = (
    (Phase1Attr.ENCRYPTION, Phase1Encryption.AES_CBC),
    (Phase1Attr.HASH, Phase1Hash.SHA1),
    (Phase1Attr.AUTH_METHOD, AuthMethod.PRE_SHARED_KEY),
    (Phase1Attr.GROUP, DhId.MODP_1024),
)


# ------------------------------------------------------------------ phase 1
def test_offer_lists_policies_by_priority_with_their_attributes() -> None:
    offer = phase1_offer((ISAKMP_AES128_SHA1, ISAKMP_AES_SHA))
    (proposal,) = offer.proposals
    assert proposal.protocol == ProtocolId.ISAKMP
    first, second = (read_phase1(t) for t in proposal.transforms)
    assert first is not None and second is not None
    assert (first.encryption.key_bits, first.hash_id, first.group) == (
        256,
        Phase1Hash.SHA2_256,
        DhId.MODP_2048,
    )
    assert (second.encryption.key_bits, second.hash_id) == (128, Phase1Hash.SHA1)
    assert first.lifetime == ISAKMP_AES_SHA.lifetime
    assert first.auth_method == AuthMethod.PRE_SHARED_KEY and not first.xauth


def test_xauth_offer_uses_the_xauth_psk_method() -> None:
    (transform,) = phase1_offer((ISAKMP_AES_SHA,), xauth=True).proposals[0].transforms
    choice = read_phase1(transform)
    assert choice is not None and choice.xauth
    assert transform.attribute(Phase1Attr.AUTH_METHOD).value == AuthMethod.XAUTH_INIT_PSK  # type: ignore[union-attr]


def test_aes_without_a_key_length_is_aes_128() -> None:
    choice = read_phase1(phase1_transform(*AES128_SHA1_G2))
    assert choice is not None and choice.encryption.key_bits == 128


def test_an_unknown_attribute_refuses_the_transform() -> None:
    assert read_phase1(phase1_transform(*AES128_SHA1_G2, (99, 1))) is None
    assert read_phase1(phase1_transform(*AES128_SHA1_G2[:3])) is None  # no group
    rsa = tuple(
        (k, AuthMethod.RSA_SIG if k == Phase1Attr.AUTH_METHOD else v) for k, v in AES128_SHA1_G2
    )
    assert read_phase1(phase1_transform(*rsa)) is None  # only pre-shared keys


def test_responder_takes_its_highest_priority_policy_the_peer_offers() -> None:
    offer = phase1_offer((ISAKMP_AES128_SHA1, ISAKMP_AES_SHA))
    chosen = choose_phase1(offer, (ISAKMP_AES128_SHA1, ISAKMP_AES_SHA))
    assert chosen is not None
    choice, answer = chosen
    assert choice.hash_id == Phase1Hash.SHA2_256  # priority 10 before 20
    assert len(answer.proposals) == 1 and len(answer.proposals[0].transforms) == 1
    only_ours = choose_phase1(offer, (replace(ISAKMP_AES_SHA, priority=30), ISAKMP_AES128_SHA1))
    assert only_ours is not None and only_ours[0].hash_id == Phase1Hash.SHA1


def test_a_longer_lifetime_than_ours_does_not_match() -> None:
    """IOS takes the offer when its lifetime is not longer than the policy's."""
    offer = phase1_offer((replace(ISAKMP_AES_SHA, lifetime=86400.0),))
    assert choose_phase1(offer, (replace(ISAKMP_AES_SHA, lifetime=3600.0),)) is None
    shorter = phase1_offer((replace(ISAKMP_AES_SHA, lifetime=600.0),))
    chosen = choose_phase1(shorter, (ISAKMP_AES_SHA,))
    assert chosen is not None and chosen[0].lifetime == 600.0


def test_mismatched_policies_choose_nothing() -> None:
    offer = phase1_offer((ISAKMP_AES_SHA,))
    assert choose_phase1(offer, (replace(ISAKMP_AES_SHA, group=DhId.CURVE25519),)) is None
    assert choose_phase1(offer, (replace(ISAKMP_AES_SHA, encryption=AES_CBC_128),)) is None
    assert choose_phase1(offer, (replace(ISAKMP_AES_SHA, hash_id=Phase1Hash.SHA1),)) is None


def test_kilobyte_lifetimes_are_understood() -> None:
    choice = read_phase1(
        phase1_transform(
            *AES128_SHA1_G2,
            (Phase1Attr.LIFE_TYPE, LifeType.KILOBYTES),
            (Phase1Attr.LIFE_DURATION, 4608000 & 0xFFFF),
            (Phase1Attr.LIFE_TYPE, LifeType.SECONDS),
            (Phase1Attr.LIFE_DURATION, 7200),
        )
    )
    assert choice is not None and choice.lifetime == 7200.0


# ------------------------------------------------------------------ quick mode
def test_esp_offer_lists_every_cipher_integrity_pair_with_one_spi() -> None:
    offer = esp_offer(
        (ESP_AES_SHA, ESP_3DES_MD5),
        SPI,
        encapsulation=EncapsulationMode.TUNNEL,
        lifetime=3600.0,
        lifetime_kb=4608000,
        group=DhId.MODP_2048,
    )
    (proposal,) = offer.proposals
    assert proposal.spi == SPI and proposal.protocol == ProtocolId.ESP
    choices = [read_esp(t) for t in proposal.transforms]
    assert all(c is not None for c in choices)
    pairs = [(c.encryption.transform_id, c.integrity.transform_id) for c in choices]  # type: ignore[union-attr]
    assert pairs == [
        (EncrId.AES_CBC, IntegId.HMAC_SHA2_256_128),
        (EncrId.AES_CBC, IntegId.HMAC_SHA1_96),
        (EncrId.DES_3DES, IntegId.HMAC_MD5_96),
    ]
    first = choices[0]
    assert first is not None
    assert (first.lifetime, first.lifetime_kb, first.group) == (3600.0, 4608000, DhId.MODP_2048)


def test_esp_defaults_are_rfc_2407s() -> None:
    """No life attributes: 8 hours; no key length for AES-CBC: 128 bits; tunnel mode."""
    choice = read_esp(Transform(1, EncrId.AES_CBC, (DataAttribute(IpsecAttr.AUTH_ALGORITHM, 2),)))
    assert choice is not None
    assert (choice.lifetime, choice.encryption.key_bits, choice.encapsulation) == (
        28800.0,
        128,
        EncapsulationMode.TUNNEL,
    )


def test_esp_transform_with_unknown_attribute_or_no_integrity_is_refused() -> None:
    assert read_esp(Transform(1, EncrId.AES_CBC, (DataAttribute(77, 1),))) is None
    assert read_esp(Transform(1, EncrId.AES_CBC, ())) is None  # CBC without integrity


def offer_with(group: int | None, mode: int = EncapsulationMode.TUNNEL) -> SaPayload:
    return esp_offer(
        (ESP_AES_SHA,), SPI, encapsulation=mode, lifetime=3600.0, lifetime_kb=None, group=group
    )


def test_pfs_must_match_when_set() -> None:
    ours = (ESP_AES_SHA,)
    modes = (EncapsulationMode.TUNNEL,)
    assert choose_esp(
        offer_with(DhId.MODP_2048), ours, encapsulations=modes, pfs_group=DhId.MODP_2048
    )
    assert (
        choose_esp(offer_with(None), ours, encapsulations=modes, pfs_group=DhId.MODP_2048) is None
    )
    assert (
        choose_esp(
            offer_with(DhId.CURVE25519), ours, encapsulations=modes, pfs_group=DhId.MODP_2048
        )
        is None
    )
    # without `set pfs` the peer's group is taken, as IOS does
    chosen = choose_esp(offer_with(DhId.CURVE25519), ours, encapsulations=modes, pfs_group=None)
    assert chosen is not None and chosen[0].group == DhId.CURVE25519


def test_encapsulation_must_be_one_we_accept() -> None:
    udp = offer_with(None, EncapsulationMode.UDP_TUNNEL)
    assert (
        choose_esp(udp, (ESP_AES_SHA,), encapsulations=(EncapsulationMode.TUNNEL,), pfs_group=None)
        is None
    )
    assert choose_esp(
        udp, (ESP_AES_SHA,), encapsulations=(EncapsulationMode.UDP_TUNNEL,), pfs_group=None
    )
    assert encapsulation_mode(transport=True, udp=True) == EncapsulationMode.UDP_TRANSPORT
    assert (
        encapsulation_mode(transport=False, udp=True, draft=True)
        == EncapsulationMode.UDP_TUNNEL_DRAFT
    )


def test_responder_takes_its_first_transform_set_that_is_offered() -> None:
    offer = esp_offer(
        (ESP_3DES_MD5, ESP_AES_SHA),
        SPI,
        encapsulation=EncapsulationMode.TUNNEL,
        lifetime=3600.0,
        lifetime_kb=None,
        group=None,
    )
    chosen = choose_esp(
        offer,
        (ESP_AES_SHA, ESP_3DES_MD5),
        encapsulations=(EncapsulationMode.TUNNEL,),
        pfs_group=None,
    )
    assert chosen is not None
    assert chosen[0].encryption.transform_id == EncrId.AES_CBC
    aes128_only = EspProposalPolicy("aes128", (AES_CBC_128,), (IntegId.HMAC_SHA1_96,))
    assert (
        choose_esp(
            offer, (aes128_only,), encapsulations=(EncapsulationMode.TUNNEL,), pfs_group=None
        )
        is None
    )  # AES-256 offered, AES-128 wanted
    assert AES_CBC_256.key_bits == 256


def test_esp_proposal_needs_a_four_octet_spi() -> None:
    offer = offer_with(None)
    bad = SaPayload((replace(offer.proposals[0], spi=b"\x01\x02"),))
    assert (
        choose_esp(bad, (ESP_AES_SHA,), encapsulations=(EncapsulationMode.TUNNEL,), pfs_group=None)
        is None
    )
    assert isinstance(offer.proposals[0], Proposal)
