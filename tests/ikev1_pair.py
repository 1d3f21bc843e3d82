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
    Identity,
    IdentityKind,
    IkeConfig,
    PeerPolicy,
    RetransmitPolicy,
)
from engine.ikev1.constants import Phase1Hash
from engine.ikev1.engine import IkeV1Engine
from engine.ikev1.policy import (
    ClientCredentials,
    ClientGrant,
    ClientGroupPolicy,
    Ikev1PeerSettings,
    IsakmpProposal,
    IsakmpSettings,
    PresharedKey,
    RemoteAccessPolicy,
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


# ---------------------------------------------------------------------- remote access
CLIENT_ADDRESS = ipaddress.IPv4Address("192.168.100.7")
CLIENT_INSIDE = ipaddress.ip_network("192.168.1.5/32")
ANY = ipaddress.ip_network("0.0.0.0/0")
XAUTH_USER = "joe@cclient"
XAUTH_PASSWORD = Secret("joe-password-1")


def remote_access(
    *,
    xauth: bool = True,
    config_mode: str = "respond",
    credentials: ClientCredentials | None = None,
    gateway: dict | None = None,
    client: dict | None = None,
) -> tuple[IkeConfig, IkeConfig]:
    """(client A, gateway B): A runs aggressive mode with ID_KEY_ID `cclient` and the group
    key; B matches the group, asks XAUTH against `cisco-client` and runs mode-config
    (`respond`: the client pulls, `initiate`: the gateway pushes)."""
    ra = RemoteAccessPolicy(
        xauth_list="cisco-client" if xauth else "",
        config_mode=config_mode,
        groups=(GROUP.name,),
    )
    gw_peer = v1_peer("ra", None, ANY, ANY, ikev1=Ikev1PeerSettings(remote_access=ra))
    cfg_b = IkeConfig(
        peers=(replace(gw_peer, **(gateway or {})),),
        retransmit=RETRANSMIT,
        isakmp=settings(B_ADDR, keys=(), groups=(GROUP,)),
    )
    if credentials is None:
        credentials = ClientCredentials(XAUTH_USER if xauth else "", XAUTH_PASSWORD)
    assert GROUP.key is not None
    cl_peer = v1_peer(
        "to-b",
        B_ADDR,
        CLIENT_INSIDE,
        ANY,
        psk_local=GROUP.key,
        psk_remote=GROUP.key,
        ikev1=Ikev1PeerSettings(
            aggressive=True,
            self_identity=Identity(IdentityKind.KEY_ID, GROUP.name),
            client=credentials,
        ),
    )
    assert GROUP.key is not None
    cfg_a = IkeConfig(
        peers=(replace(cl_peer, **(client or {})),),
        retransmit=RETRANSMIT,
        isakmp=settings(
            B_ADDR, keys=(PresharedKey(GROUP.key, ipaddress.ip_network(f"{B_ADDR}/32")),)
        ),
    )
    return cfg_a, cfg_b


def grant_for(address: ipaddress.IPv4Address = CLIENT_ADDRESS, **overrides: object) -> ClientGrant:
    """What the service hands a client of GROUP: its address and the group's attributes."""
    base = ClientGrant(
        address=address,
        netmask=ipaddress.IPv4Address("255.255.255.0"),
        dns=GROUP.dns,
        domain=GROUP.domain,
        split_networks=GROUP.split_networks,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- views
def active(engine: IkeV1Engine) -> list:
    """ISAKMP SAs that are up and not replaced by a newer one (those only wait to expire)."""
    return [sa for sa in engine.ike_sas() if sa.is_up and not sa.replaced]


def assert_one_flow(pair: EnginePair) -> None:
    """One active ISAKMP SA on each side, with the same cookies, and one IPsec SA pair
    whose SPIs and keys match across; replaced ISAKMP SAs hold no IPsec SA."""
    (sa_a,), (sa_b,) = active(pair.a), active(pair.b)
    assert (sa_a.cookie_i, sa_a.cookie_r) == (sa_b.cookie_i, sa_b.cookie_r)
    children_a = [c for sa in pair.a.ike_sas() for c in sa.children.values()]
    children_b = [c for sa in pair.b.ike_sas() for c in sa.children.values()]
    assert len(children_a) == len(children_b) == 1, (children_a, children_b)
    (ca,), (cb,) = children_a, children_b
    assert ca.child_sa_id in sa_a.children and cb.child_sa_id in sa_b.children
    assert (ca.spi_in, ca.spi_out) == (cb.spi_out, cb.spi_in)
    assert ca.keys == cb.keys
    assert (ca.local_ts, ca.remote_ts) == (cb.remote_ts, cb.local_ts)
