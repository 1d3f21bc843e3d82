"""Offering and choosing algorithms: SA payloads built from policy, and selection.

The responder walks the initiator's proposals in the initiator's order and,
for each transform type, keeps the first transform our policy accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.crypto import STRONG_DH_GROUPS, SUPPORTED_DH_GROUPS
from engine.crypto.algorithms import (
    WEAK_DH_GROUPS,
    WEAK_ENCRYPTIONS,
    WEAK_INTEGRITIES,
    WEAK_PRFS,
    DhId,
    IntegId,
    PrfId,
)
from engine.ike.constants import EsnId, ProtocolId, TransformType
from engine.ike.payloads import Proposal, SaPayload, Transform
from engine.ike.policy import EncryptionChoice, EspProposalPolicy, IkeProposalPolicy

PRF_NAMES = {
    PrfId.HMAC_MD5: "md5",
    PrfId.HMAC_SHA1: "sha1",
    PrfId.HMAC_SHA2_256: "sha256",
    PrfId.HMAC_SHA2_384: "sha384",
    PrfId.HMAC_SHA2_512: "sha512",
}
INTEG_NAMES = {
    IntegId.NONE: "none",
    IntegId.HMAC_MD5_96: "md5",
    IntegId.HMAC_SHA1_96: "sha1",
    IntegId.HMAC_SHA2_256_128: "sha256",
    IntegId.HMAC_SHA2_384_192: "sha384",
    IntegId.HMAC_SHA2_512_256: "sha512",
}


@dataclass(frozen=True, slots=True)
class IkeSuite:
    """The algorithms of one IKE SA."""

    encryption: EncryptionChoice
    prf: PrfId
    integrity: IntegId
    dh_group: int

    @property
    def weak(self) -> tuple[str, ...]:
        """The fields (IkeAlgorithms' names) that hold a weak algorithm."""
        return tuple(
            name
            for name, weak in (
                ("encryption", self.encryption.encr_id in WEAK_ENCRYPTIONS),
                ("prf", self.prf in WEAK_PRFS),
                ("integrity", self.integrity in WEAK_INTEGRITIES),
                ("dh_group", self.dh_group in WEAK_DH_GROUPS),
            )
            if weak
        )


@dataclass(frozen=True, slots=True)
class EspSuite:
    """The algorithms of one child SA; `dh_group` is set when the exchange used PFS."""

    encryption: EncryptionChoice
    integrity: IntegId
    esn: bool
    dh_group: int | None

    @property
    def weak(self) -> tuple[str, ...]:
        """The fields (ChildAlgorithms' names) that hold a weak algorithm."""
        return tuple(
            name
            for name, weak in (
                ("encryption", self.encryption.encr_id in WEAK_ENCRYPTIONS),
                ("integrity", self.integrity in WEAK_INTEGRITIES),
                ("dh_group", self.dh_group in WEAK_DH_GROUPS),
            )
            if weak
        )


def _encr_transform(choice: EncryptionChoice) -> Transform:
    return Transform(TransformType.ENCR, int(choice.encr_id), choice.key_bits)


def ike_sa_payload(
    policies: tuple[IkeProposalPolicy, ...], spi: bytes = b"", first_group: int | None = None
) -> SaPayload:
    """One proposal per IOS proposal, split in two when it mixes AEAD and non-AEAD
    ciphers (RFC 5282 forbids both in one proposal). `first_group` moves the group we
    sent a KE for to the front so that the responder's first choice matches our KE."""
    proposals = []
    for policy in policies:
        groups = list(policy.groups)
        if first_group is not None and first_group in groups:
            groups.remove(first_group)
            groups.insert(0, first_group)
        dh = [Transform(TransformType.DH, int(g)) for g in groups]
        prfs = [Transform(TransformType.PRF, int(p)) for p in policy.prfs]
        integ = [Transform(TransformType.INTEG, int(i)) for i in policy.integrities]
        # the kind of cipher listed first keeps its preference
        for is_aead in dict.fromkeys(e.is_aead for e in policy.encryptions):
            encrs = [_encr_transform(e) for e in policy.encryptions if e.is_aead == is_aead]
            transforms = encrs + prfs + ([] if is_aead else integ) + dh
            proposals.append(Proposal(len(proposals) + 1, ProtocolId.IKE, spi, tuple(transforms)))
    return SaPayload(tuple(proposals))


def esp_sa_payload(
    policies: tuple[EspProposalPolicy, ...], spi: bytes, pfs_group: int | None
) -> SaPayload:
    proposals = []
    for number, policy in enumerate(policies, start=1):
        transforms = [_encr_transform(e) for e in policy.encryptions]
        if not all(e.is_aead for e in policy.encryptions):
            transforms += [Transform(TransformType.INTEG, int(i)) for i in policy.integrities]
        if pfs_group is not None:
            transforms.append(Transform(TransformType.DH, pfs_group))
        esn = EsnId.ESN if policy.esn else EsnId.NO_ESN
        transforms.append(Transform(TransformType.ESN, int(esn)))
        proposals.append(Proposal(number, ProtocolId.ESP, spi, tuple(transforms)))
    return SaPayload(tuple(proposals))


def _by_type(proposal: Proposal) -> dict[int, list[Transform]]:
    grouped: dict[int, list[Transform]] = {}
    for t in proposal.transforms:
        grouped.setdefault(int(t.transform_type), []).append(t)
    return grouped


def _pick_encryption(
    offered: list[Transform], allowed: tuple[EncryptionChoice, ...]
) -> EncryptionChoice | None:
    for t in offered:
        for choice in allowed:
            if t.transform_id == choice.encr_id and (t.key_length or None) == choice.key_bits:
                return choice
    return None


def _pick(offered: list[Transform], allowed: tuple[int, ...]) -> int | None:
    for t in offered:
        if t.transform_id in allowed:
            return int(t.transform_id)
    return None


def select_ike(
    offer: SaPayload, policies: tuple[IkeProposalPolicy, ...]
) -> tuple[Proposal, IkeSuite] | None:
    """The first acceptable proposal, reduced to one transform of each type."""
    for proposal in offer.proposals:
        if proposal.protocol != ProtocolId.IKE:
            continue
        grouped = _by_type(proposal)
        for policy in policies:
            suite = _match_ike(grouped, policy)
            if suite is not None:
                return _chosen_ike(proposal, suite), suite
    return None


def _match_ike(grouped: dict[int, list[Transform]], policy: IkeProposalPolicy) -> IkeSuite | None:
    encr = _pick_encryption(grouped.get(TransformType.ENCR, []), policy.encryptions)
    prf = _pick(grouped.get(TransformType.PRF, []), tuple(int(p) for p in policy.prfs))
    groups = tuple(int(g) for g in policy.groups if int(g) in SUPPORTED_DH_GROUPS)
    dh = _pick(grouped.get(TransformType.DH, []), groups)
    if encr is None or prf is None or dh is None:
        return None
    offered_integ = grouped.get(TransformType.INTEG, [])
    if encr.is_aead:
        if any(t.transform_id != IntegId.NONE for t in offered_integ):
            # RFC 5282: an AEAD proposal carries no integrity, or only NONE
            return None
        integ = int(IntegId.NONE)
    else:
        picked = _pick(offered_integ, tuple(int(i) for i in policy.integrities))
        if picked is None:
            return None
        integ = picked
    return IkeSuite(encr, PrfId(prf), IntegId(integ), dh)


def _chosen_ike(proposal: Proposal, suite: IkeSuite) -> Proposal:
    transforms = [_encr_transform(suite.encryption), Transform(TransformType.PRF, int(suite.prf))]
    if suite.integrity != IntegId.NONE:
        transforms.append(Transform(TransformType.INTEG, int(suite.integrity)))
    transforms.append(Transform(TransformType.DH, suite.dh_group))
    return Proposal(proposal.number, ProtocolId.IKE, proposal.spi, tuple(transforms))


def ike_suite_from_response(
    offer: SaPayload, sent: tuple[IkeProposalPolicy, ...]
) -> IkeSuite | None:
    """Check that the responder chose exactly one proposal we could have sent."""
    if len(offer.proposals) != 1:
        return None
    proposal = offer.proposals[0]
    grouped = _by_type(proposal)
    if any(len(v) != 1 for v in grouped.values()):
        return None
    for policy in sent:
        suite = _match_ike(grouped, policy)
        if suite is not None:
            return suite
    return None


def select_esp(
    offer: SaPayload, policies: tuple[EspProposalPolicy, ...], pfs_group: int | None
) -> tuple[Proposal, EspSuite] | None:
    """Choose an ESP proposal; with `pfs_group` set the proposal must carry that group,
    and a proposal with a DH group we support is accepted even when we have no PFS."""
    for proposal in offer.proposals:
        if proposal.protocol != ProtocolId.ESP or len(proposal.spi) != 4:
            continue
        grouped = _by_type(proposal)
        for policy in policies:
            suite = _match_esp(grouped, policy, pfs_group)
            if suite is not None:
                return _chosen_esp(proposal, suite), suite
    return None


def _match_esp(
    grouped: dict[int, list[Transform]], policy: EspProposalPolicy, pfs_group: int | None
) -> EspSuite | None:
    encr = _pick_encryption(grouped.get(TransformType.ENCR, []), policy.encryptions)
    if encr is None:
        return None
    offered_integ = grouped.get(TransformType.INTEG, [])
    if encr.is_aead:
        if any(t.transform_id != IntegId.NONE for t in offered_integ):
            return None
        integ = IntegId.NONE
    else:
        picked = _pick(offered_integ, tuple(int(i) for i in policy.integrities))
        if picked is None:
            return None
        integ = IntegId(picked)
    offered_dh = [t for t in grouped.get(TransformType.DH, []) if t.transform_id != DhId.NONE]
    dh: int | None = None
    if pfs_group is not None:
        dh = _pick(offered_dh, (pfs_group,))
        if dh is None:
            return None
    elif offered_dh:
        # unasked-for PFS is taken only with a strong group: a weak one must be configured
        dh = _pick(offered_dh, STRONG_DH_GROUPS)
        if dh is None:
            return None
    esn_offered = [t.transform_id for t in grouped.get(TransformType.ESN, [])] or [EsnId.NO_ESN]
    wanted = [EsnId.ESN, EsnId.NO_ESN] if policy.esn else [EsnId.NO_ESN]
    esn = next((w for w in wanted if w in esn_offered), None)
    if esn is None:
        return None
    return EspSuite(encr, integ, esn == EsnId.ESN, dh)


def _chosen_esp(proposal: Proposal, suite: EspSuite) -> Proposal:
    transforms = [_encr_transform(suite.encryption)]
    if suite.integrity != IntegId.NONE:
        transforms.append(Transform(TransformType.INTEG, int(suite.integrity)))
    if suite.dh_group is not None:
        transforms.append(Transform(TransformType.DH, suite.dh_group))
    esn = EsnId.ESN if suite.esn else EsnId.NO_ESN
    transforms.append(Transform(TransformType.ESN, int(esn)))
    return Proposal(proposal.number, ProtocolId.ESP, proposal.spi, tuple(transforms))


def esp_suite_from_response(
    offer: SaPayload, sent: tuple[EspProposalPolicy, ...], pfs_group: int | None
) -> tuple[Proposal, EspSuite] | None:
    if len(offer.proposals) != 1:
        return None
    proposal = offer.proposals[0]
    if proposal.protocol != ProtocolId.ESP or len(proposal.spi) != 4:
        return None
    grouped = _by_type(proposal)
    if any(len(v) != 1 for v in grouped.values()):
        return None
    for policy in sent:
        suite = _match_esp(grouped, policy, pfs_group)
        if suite is not None:
            return proposal, suite
    return None


def offered_groups(policies: tuple[IkeProposalPolicy, ...]) -> list[int]:
    seen: list[int] = []
    for policy in policies:
        for g in policy.groups:
            if int(g) not in seen:
                seen.append(int(g))
    return seen
