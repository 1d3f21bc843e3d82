"""IKEv1 policies for two in-memory engines (`tests.ike_pair.EnginePair` with
`IkeV1Engine`): a site-to-site pair with `crypto isakmp key`, and a remote-access pair
where B is the gateway (group key, XAUTH, mode-config) and A its client."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from engine.crypto.algorithms import DhId, EncrId, IntegId
from engine.ike.policy import (
    AES_CBC_128,
    AES_CBC_256,
    EncryptionChoice,
    EspProposalPolicy,
    IkeConfig,
    PeerPolicy,
    RetransmitPolicy,
)
from engine.ikev1.constants import Phase1Hash
from engine.ikev1.engine import IkeV1Engine
from engine.ikev1.policy import (
    ClientGroupPolicy,
    Ikev1PeerSettings,
    IsakmpProposal,
    IsakmpSettings,
    PresharedKey,
)
from engine.secret import Secret
from tests.ike_pair import A_ADDR, A_NET, B_ADDR, B_NET, EnginePair, LinkFaults

PSK = Secret("isakmp-key-1")
ISAKMP_AES_SHA = IsakmpProposal(10, AES_CBC_256, Phase1Hash.SHA2_256, DhId.MODP_2048, 86400.0)
ISAKMP_AES128_SHA1 = IsakmpProposal(20, AES_CBC_128, Phase1Hash.SHA1, DhId.MODP_1024, 86400.0)
ESP_AES_SHA = EspProposalPolicy(
    "aes-sha", (AES_CBC_256,), (IntegId.HMAC_SHA2_256_128, IntegId.HMAC_SHA1_96)
)
ESP_3DES_MD5 = EspProposalPolicy(
    "3des-md5", (EncryptionChoice(EncrId.DES_3DES, None),), (IntegId.HMAC_MD5_96,)
)
RETRANSMIT = RetransmitPolicy(timeout=1.0, base=2.0, tries=5)


def v1_peer(
    name: str, remote: str | None, local_net, remote_net, **overrides: object
) -> PeerPolicy:
    base = PeerPolicy(
        name=name,
        psk_local=PSK,
        psk_remote=PSK,
        ike_proposals=(),
        esp_proposals=(ESP_AES_SHA,),
        local_ts=(local_net,),
        remote_ts=(remote_net,),
        remote_addresses=(ipaddress.ip_network(f"{remote}/32"),) if remote else (),
        ike_version=1,
        ikev1=Ikev1PeerSettings(),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def settings(key_for: str, **overrides: object) -> IsakmpSettings:
    base = IsakmpSettings(
        proposals=(ISAKMP_AES_SHA, ISAKMP_AES128_SHA1),
        keys=(PresharedKey(PSK, ipaddress.ip_network(f"{key_for}/32")),),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def site_to_site(
    a: dict | None = None, b: dict | None = None, sa: dict | None = None, sb: dict | None = None
) -> tuple[IkeConfig, IkeConfig]:
    cfg_a = IkeConfig(
        peers=(v1_peer("to-b", B_ADDR, A_NET, B_NET, **(a or {})),),
        retransmit=RETRANSMIT,
        isakmp=settings(B_ADDR, **(sa or {})),
    )
    cfg_b = IkeConfig(
        peers=(v1_peer("to-a", A_ADDR, B_NET, A_NET, **(b or {})),),
        retransmit=RETRANSMIT,
        isakmp=settings(A_ADDR, **(sb or {})),
    )
    return cfg_a, cfg_b


def v1_pair(
    cfg: tuple[IkeConfig, IkeConfig], faults: LinkFaults | None = None, **kw: object
) -> EnginePair:
    return EnginePair(cfg[0], cfg[1], faults or LinkFaults(), engine_class=IkeV1Engine, **kw)  # type: ignore[arg-type]


GROUP = ClientGroupPolicy(
    "cclient",
    key=Secret("group-key-1"),
    pool="addressA",
    dns=(ipaddress.IPv4Address("10.2.0.53"),),
    domain="example.test",
    split_networks=(ipaddress.IPv4Network("10.2.0.0/16"),),
)
