"""Phase 1 and quick mode proposals: from policy to SA payload, and the responder's
choice (RFC 2409 section 5 and appendix A, RFC 2407 section 4.5).

A transform is taken only when every attribute is understood and acceptable; one
attribute we do not know makes the whole transform unacceptable, as RFC 2408 asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.crypto import Encryption, Integrity, Prf, encryption, integrity
from engine.crypto.algorithms import EncrId, IntegId
from engine.crypto.errors import UnsupportedAlgorithm
from engine.ike.policy import EspProposalPolicy
from engine.ikev1.constants import (
    DOI_IPSEC,
    SIT_IDENTITY_ONLY,
    AuthMethod,
    EncapsulationMode,
    EspAuth,
    IpsecAttr,
    LifeType,
    NotifyType,
    Phase1Attr,
    Phase1Encryption,
    ProtocolId,
)
from engine.ikev1.errors import Ikev1Error
from engine.ikev1.keys import phase1_prf
from engine.ikev1.payloads.attributes import DataAttribute, basic
from engine.ikev1.payloads.sa import Proposal, SaPayload, Transform
from engine.ikev1.policy import IsakmpProposal

KEY_IKE = 1

_PHASE1_ENCR = {
    EncrId.AES_CBC: Phase1Encryption.AES_CBC,
    EncrId.DES_3DES: Phase1Encryption.TRIPLE_DES,
}
_PHASE1_ENCR_BACK = {v: k for k, v in _PHASE1_ENCR.items()}
_ESP_AUTH = {
    IntegId.HMAC_MD5_96: EspAuth.HMAC_MD5,
    IntegId.HMAC_SHA1_96: EspAuth.HMAC_SHA1,
    IntegId.HMAC_SHA2_256_128: EspAuth.HMAC_SHA2_256,
    IntegId.HMAC_SHA2_384_192: EspAuth.HMAC_SHA2_384,
    IntegId.HMAC_SHA2_512_256: EspAuth.HMAC_SHA2_512,
}
_ESP_AUTH_BACK = {v: k for k, v in _ESP_AUTH.items()}
_PSK_METHODS = (AuthMethod.PRE_SHARED_KEY, AuthMethod.XAUTH_INIT_PSK)


@dataclass(frozen=True, slots=True)
class Phase1Choice:
    encryption: Encryption
    prf: Prf
    hash_id: int
    group: int
    auth_method: int
    lifetime: float

    @property
    def xauth(self) -> bool:
        return self.auth_method == AuthMethod.XAUTH_INIT_PSK


@dataclass(frozen=True, slots=True)
class EspChoice:
    encryption: Encryption
    integrity: Integrity | None
    group: int | None
    encapsulation: int
    lifetime: float
    lifetime_kb: int | None

    @property
    def transport(self) -> bool:
        return self.encapsulation in (
            EncapsulationMode.TRANSPORT,
            EncapsulationMode.UDP_TRANSPORT,
            EncapsulationMode.UDP_TRANSPORT_DRAFT,
        )


def _life(
    seconds: float, kilobytes: int | None, life_type: int, life_duration: int
) -> list[DataAttribute]:
    attrs = [basic(life_type, LifeType.SECONDS), DataAttribute(life_duration, int(seconds))]
    if kilobytes:
        attrs += [basic(life_type, LifeType.KILOBYTES), DataAttribute(life_duration, kilobytes)]
    return attrs


# ---------------------------------------------------------------------- checks
#: IPCOMP (RFC 2407 4.4.1): a protocol a phase 2 proposal may name, though we take none
PROTO_IPCOMP = 4


def check_offer(offer: SaPayload, *, phase1: bool) -> None:
    """RFC 2408 sections 5.4-5.5 on an SA payload offered to us: the DOI, the situation,
    proposal numbering and transforms, each proposal's protocol and SPI. A refusal names
    the notify the RFC answers it with."""
    if offer.doi != DOI_IPSEC:
        raise Ikev1Error(f"DOI {offer.doi}", notify=NotifyType.DOI_NOT_SUPPORTED)
    if offer.situation != SIT_IDENTITY_ONLY:
        raise Ikev1Error(
            f"situation {offer.situation:#x}", notify=NotifyType.SITUATION_NOT_SUPPORTED
        )
    if not offer.proposals:
        raise Ikev1Error("SA payload without a proposal", notify=NotifyType.BAD_PROPOSAL_SYNTAX)
    previous = -1
    for proposal in offer.proposals:
        if proposal.number < previous:
            # 3.5: numbers grow; equal numbers are one proposal of several protocols
            raise Ikev1Error(
                f"proposal {proposal.number} after proposal {previous}",
                notify=NotifyType.BAD_PROPOSAL_SYNTAX,
            )
        previous = proposal.number
        numbers = [t.number for t in proposal.transforms]
        if not numbers or len(set(numbers)) != len(numbers):
            raise Ikev1Error(
                f"proposal {proposal.number}: transforms {numbers}",
                notify=NotifyType.BAD_PROPOSAL_SYNTAX,
            )
        _check_protocol_and_spi(proposal, phase1)


def _check_protocol_and_spi(proposal: Proposal, phase1: bool) -> None:
    protocol, spi = proposal.protocol, proposal.spi
    if phase1 and protocol != ProtocolId.ISAKMP:
        raise Ikev1Error(
            f"protocol {protocol} in a phase 1 proposal", notify=NotifyType.INVALID_PROTOCOL_ID
        )
    if not phase1 and protocol not in (ProtocolId.AH, ProtocolId.ESP, PROTO_IPCOMP):
        raise Ikev1Error(
            f"protocol {protocol} in a quick mode proposal", notify=NotifyType.INVALID_PROTOCOL_ID
        )
    if protocol == ProtocolId.ISAKMP:
        valid = len(spi) in (0, 8, 16)  # none, or cookies: RFC 2408 2.4 lets us ignore it
    elif protocol == PROTO_IPCOMP:
        valid = len(spi) in (2, 4)
    else:
        # RFC 4303 2.1: SPIs 1 to 255 are reserved, 0 is none
        valid = len(spi) == 4 and int.from_bytes(spi, "big") > 255
    if not valid:
        raise Ikev1Error(
            f"SPI of {len(spi)} bytes ({spi.hex() or 'none'}) for protocol {protocol}",
            notify=NotifyType.INVALID_SPI,
        )


def why_refused(transforms: list[NotifyType | None]) -> NotifyType:
    """The notify for an offer none of whose transforms we take: the most specific reason
    when every transform was refused for it (an unknown transform ID, an attribute we do
    not support), else NO_PROPOSAL_CHOSEN (some we understood, but policy said no)."""
    reasons = set(transforms)
    if len(reasons) == 1 and None not in reasons:
        return reasons.pop()  # type: ignore[return-value]
    return NotifyType.NO_PROPOSAL_CHOSEN


def phase1_refusal(transform: Transform) -> NotifyType | None:
    """Why a phase 1 transform cannot be taken whatever our policy, or None."""
    if transform.transform_id != KEY_IKE:
        return NotifyType.INVALID_TRANSFORM_ID
    if read_phase1(transform) is None:
        return NotifyType.ATTRIBUTES_NOT_SUPPORTED
    return None


def phase1_refusal_of(offer: SaPayload) -> NotifyType:
    return why_refused([phase1_refusal(t) for p in offer.proposals for t in p.transforms])


def esp_refusal(transform: Transform) -> NotifyType | None:
    """Why an ESP transform cannot be taken whatever our policy, or None."""
    try:
        encr_id = EncrId(transform.transform_id)
        default_bits = 128 if encr_id in (EncrId.AES_CBC, EncrId.AES_GCM_16) else None
        encryption(encr_id, default_bits)
    except (ValueError, KeyError, UnsupportedAlgorithm):
        return NotifyType.INVALID_TRANSFORM_ID
    if read_esp(transform) is None:
        return NotifyType.ATTRIBUTES_NOT_SUPPORTED
    return None


def esp_refusal_of(offer: SaPayload) -> NotifyType:
    reasons: list[NotifyType | None] = []
    for proposal in offer.proposals:
        if proposal.protocol != ProtocolId.ESP:
            reasons.append(None)  # AH or IPCOMP: understood, not taken
            continue
        reasons += [esp_refusal(t) for t in proposal.transforms]
    return why_refused(reasons)


# ---------------------------------------------------------------------- phase 1
def phase1_offer(proposals: tuple[IsakmpProposal, ...], xauth: bool = False) -> SaPayload:
    """Our `crypto isakmp policy` entries, in priority order, as transforms of one proposal."""
    transforms = []
    for number, policy in enumerate(sorted(proposals, key=lambda p: p.priority), start=1):
        attrs = [basic(Phase1Attr.ENCRYPTION, _PHASE1_ENCR[policy.encryption.encr_id])]
        if policy.encryption.encr_id == EncrId.AES_CBC:
            attrs.append(basic(Phase1Attr.KEY_LENGTH, policy.encryption.key_bits or 128))
        attrs += [
            basic(Phase1Attr.HASH, policy.hash_id),
            basic(
                Phase1Attr.AUTH_METHOD,
                AuthMethod.XAUTH_INIT_PSK if xauth else AuthMethod.PRE_SHARED_KEY,
            ),
            basic(Phase1Attr.GROUP, policy.group),
            *_life(policy.lifetime, None, Phase1Attr.LIFE_TYPE, Phase1Attr.LIFE_DURATION),
        ]
        transforms.append(Transform(number, KEY_IKE, tuple(attrs)))
    return SaPayload((Proposal(1, ProtocolId.ISAKMP, b"", tuple(transforms)),))


def read_phase1(transform: Transform) -> Phase1Choice | None:
    """The transform as a choice, or None when any attribute is unknown or unsupported."""
    values: dict[int, int] = {}
    lifetime = 86400.0
    life_type = None
    for attr in transform.attributes:
        if attr.kind == Phase1Attr.LIFE_TYPE:
            life_type = attr.number
        elif attr.kind == Phase1Attr.LIFE_DURATION:
            if life_type == LifeType.SECONDS:
                lifetime = float(attr.number)
            elif life_type != LifeType.KILOBYTES:
                return None
        elif attr.kind in (
            Phase1Attr.ENCRYPTION,
            Phase1Attr.HASH,
            Phase1Attr.AUTH_METHOD,
            Phase1Attr.GROUP,
            Phase1Attr.KEY_LENGTH,
        ):
            values[attr.kind] = attr.number
        else:
            return None
    encr = _PHASE1_ENCR_BACK.get(values.get(Phase1Attr.ENCRYPTION, 0))  # type: ignore[call-overload]
    if encr is None or transform.transform_id != KEY_IKE:
        return None
    key_bits = values.get(Phase1Attr.KEY_LENGTH)
    if encr == EncrId.AES_CBC and key_bits is None:
        key_bits = 128  # RFC 3602: AES without a key length attribute is AES-128
    try:
        cipher = encryption(encr, key_bits if encr == EncrId.AES_CBC else None)
        prf = phase1_prf(values.get(Phase1Attr.HASH, 0))
    except (UnsupportedAlgorithm, ValueError, KeyError):
        return None
    auth = values.get(Phase1Attr.AUTH_METHOD, 0)
    if auth not in _PSK_METHODS or Phase1Attr.GROUP not in values:
        return None
    return Phase1Choice(
        cipher, prf, values[Phase1Attr.HASH], values[Phase1Attr.GROUP], auth, lifetime
    )


def choose_phase1(
    offer: SaPayload, ours: tuple[IsakmpProposal, ...]
) -> tuple[Phase1Choice, SaPayload] | None:
    """IOS's order: our policies by priority, each against every transform offered; the
    peer's lifetime is taken when it is not longer than ours."""
    if len(offer.proposals) != 1 or offer.proposals[0].protocol != ProtocolId.ISAKMP:
        candidates = [p for p in offer.proposals if p.protocol == ProtocolId.ISAKMP]
    else:
        candidates = list(offer.proposals)
    for policy in sorted(ours, key=lambda p: p.priority):
        for proposal in candidates:
            for transform in proposal.transforms:
                choice = read_phase1(transform)
                if choice is None:
                    continue
                if (
                    choice.encryption.transform_id == policy.encryption.encr_id
                    and (
                        policy.encryption.encr_id != EncrId.AES_CBC
                        or choice.encryption.key_bits == (policy.encryption.key_bits or 128)
                    )
                    and choice.hash_id == policy.hash_id
                    and choice.group == policy.group
                    and choice.lifetime <= policy.lifetime
                ):
                    answer = SaPayload(
                        (Proposal(proposal.number, proposal.protocol, proposal.spi, (transform,)),),
                        offer.doi,
                        offer.situation,
                    )
                    return choice, answer
    return None


# ---------------------------------------------------------------------- quick mode
def esp_transform_id(encr: EncrId) -> int:
    return int(encr)  # IKEv1's ESP transform ids are IKEv2's ENCR numbers for these ciphers


def esp_offer(
    proposals: tuple[EspProposalPolicy, ...],
    spi: bytes,
    *,
    encapsulation: int,
    lifetime: float,
    lifetime_kb: int | None,
    group: int | None,
) -> SaPayload:
    """Every cipher/integrity combination of our transform-sets as transforms of one ESP
    proposal (alternatives, in preference order), all with our one inbound SPI."""
    transforms: list[Transform] = []
    for policy in proposals:
        integrities = policy.integrities or (IntegId.NONE,)
        for encr in policy.encryptions:
            for integ in integrities:
                if encr.is_aead != (integ == IntegId.NONE):
                    continue
                attrs = _life(lifetime, lifetime_kb, IpsecAttr.LIFE_TYPE, IpsecAttr.LIFE_DURATION)
                attrs.append(basic(IpsecAttr.ENCAPSULATION_MODE, encapsulation))
                if integ != IntegId.NONE:
                    attrs.append(basic(IpsecAttr.AUTH_ALGORITHM, _ESP_AUTH[IntegId(integ)]))
                if encr.key_bits and encr.encr_id in (EncrId.AES_CBC, EncrId.AES_GCM_16):
                    attrs.append(basic(IpsecAttr.KEY_LENGTH, encr.key_bits))
                if group:
                    attrs.append(basic(IpsecAttr.GROUP, group))
                transforms.append(
                    Transform(len(transforms) + 1, esp_transform_id(encr.encr_id), tuple(attrs))
                )
    return SaPayload((Proposal(1, ProtocolId.ESP, spi, tuple(transforms)),))


def read_esp(transform: Transform) -> EspChoice | None:
    lifetime, lifetime_kb = 28800.0, None  # RFC 2407 4.5: the default of 8 hours
    life_type = None
    values: dict[int, int] = {}
    for attr in transform.attributes:
        if attr.kind == IpsecAttr.LIFE_TYPE:
            life_type = attr.number
        elif attr.kind == IpsecAttr.LIFE_DURATION:
            if life_type == LifeType.SECONDS:
                lifetime = float(attr.number)
            elif life_type == LifeType.KILOBYTES:
                lifetime_kb = attr.number
            else:
                return None
        elif attr.kind in (
            IpsecAttr.GROUP,
            IpsecAttr.ENCAPSULATION_MODE,
            IpsecAttr.AUTH_ALGORITHM,
            IpsecAttr.KEY_LENGTH,
        ):
            values[attr.kind] = attr.number
        else:
            return None
    try:
        encr_id = EncrId(transform.transform_id)
        key_bits = values.get(IpsecAttr.KEY_LENGTH)
        if encr_id == EncrId.AES_CBC and key_bits is None:
            key_bits = 128
        cipher = encryption(
            encr_id, key_bits if encr_id in (EncrId.AES_CBC, EncrId.AES_GCM_16) else None
        )
        auth = values.get(IpsecAttr.AUTH_ALGORITHM)
        integ = integrity(_ESP_AUTH_BACK[EspAuth(auth)]) if auth is not None else None
    except (ValueError, KeyError, UnsupportedAlgorithm):
        return None
    if cipher.is_aead != (integ is None):
        return None
    return EspChoice(
        cipher,
        integ,
        values.get(IpsecAttr.GROUP),
        values.get(IpsecAttr.ENCAPSULATION_MODE, EncapsulationMode.TUNNEL),
        lifetime,
        lifetime_kb,
    )


def choose_esp(
    offer: SaPayload,
    ours: tuple[EspProposalPolicy, ...],
    *,
    encapsulations: tuple[int, ...],
    pfs_group: int | None,
) -> tuple[EspChoice, Proposal, Transform] | None:
    """Our transform-sets in order against the offered transforms. With `set pfs` the
    peer must offer that group; without, its group (if any) is taken, as IOS does."""
    for policy in ours:
        integrities = policy.integrities or (IntegId.NONE,)
        for proposal in offer.proposals:
            if proposal.protocol != ProtocolId.ESP or len(proposal.spi) != 4:
                continue
            for transform in proposal.transforms:
                choice = read_esp(transform)
                if choice is None or choice.encapsulation not in encapsulations:
                    continue
                if pfs_group is not None and choice.group != pfs_group:
                    continue
                if not any(
                    e.encr_id == choice.encryption.transform_id
                    and (e.key_bits or choice.encryption.key_bits) == choice.encryption.key_bits
                    for e in policy.encryptions
                ):
                    continue
                ours_integ = {int(i) for i in integrities}
                theirs = choice.integrity.transform_id if choice.integrity else IntegId.NONE
                if int(theirs) not in ours_integ:
                    continue
                return choice, proposal, transform
    return None


def encapsulation_mode(transport: bool, udp: bool, draft: bool = False) -> int:
    if not udp:
        return EncapsulationMode.TRANSPORT if transport else EncapsulationMode.TUNNEL
    if draft:
        return (
            EncapsulationMode.UDP_TRANSPORT_DRAFT
            if transport
            else EncapsulationMode.UDP_TUNNEL_DRAFT
        )
    return EncapsulationMode.UDP_TRANSPORT if transport else EncapsulationMode.UDP_TUNNEL
