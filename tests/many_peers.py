"""Many IKEv2 peers on loopback against one gateway: the gateway's configuration and the
initiators' policy, shared by the clear-at-scale test and `bench/clear.py`.

Every 127/8 address is local on Linux, so each peer gets an address of its own and the
gateway sees N distinct peers, one IKE SA and one child each (X25519, AES-GCM-256, PSK).
"""

from __future__ import annotations

import ipaddress

from engine.crypto.algorithms import DhId, PrfId
from engine.ike.policy import AES_GCM_256, EspProposalPolicy, IkeProposalPolicy, PeerPolicy
from engine.secret import Secret

#: the peers' LAN and the gateway's, as the crypto map's ACL names them
PEER_LAN = ipaddress.ip_network("10.98.1.0/24")
GATEWAY_LAN = ipaddress.ip_network("10.98.2.0/24")


def _wildcard(network: ipaddress.IPv4Network) -> str:
    return f"{network.network_address} {network.hostmask}"


def gateway_config(
    hostname: str,
    psk: str,
    acct_port: int,
    radius_key: str,
    *,
    retransmit: int = 3,
    accounting: bool = True,
) -> str:
    """A responder for any 127/8 peer, with start-stop accounting to 127.0.0.1 (or, when
    not `accounting`, none at all)."""
    aaa = (
        f"""\
aaa new-model
aaa accounting network ACCT start-stop group radius
aaa session-id common
radius-server host 127.0.0.1 auth-port 1812 acct-port {acct_port} key {radius_key}
radius-server retransmit {retransmit}
radius-server timeout 2
radius-server vsa send accounting
"""
        if accounting
        else ""
    )
    method = " aaa accounting psk ACCT\n" if accounting else ""
    return f"""\
hostname {hostname}
{aaa}crypto ikev2 proposal P
 encryption aes-gcm-256
 prf sha256
 group 31
crypto ikev2 policy POLICY
 proposal P
crypto ikev2 keyring KEYS
 peer PEERS
  address 127.0.0.0 255.0.0.0
  pre-shared-key {psk}
crypto ikev2 profile PEERS
 match identity remote address 127.0.0.0 255.0.0.0
 authentication local pre-share
 authentication remote pre-share
 keyring local KEYS
{method}crypto ipsec transform-set TS esp-gcm 256
ip access-list extended TUNNEL
 permit ip {_wildcard(GATEWAY_LAN)} {_wildcard(PEER_LAN)}
crypto dynamic-map PEERS 10
 set transform-set TS
 set ikev2-profile PEERS
 match address TUNNEL
crypto map WAN 10 ipsec-isakmp dynamic PEERS
interface lo0
 ip address 127.0.0.1 255.0.0.0
 crypto map WAN
end
"""


def initiator_policy(psk: str, gateway: tuple[str, int]) -> PeerPolicy:
    """What each peer offers the gateway of `gateway_config`."""
    return PeerPolicy(
        name="gateway",
        psk_local=Secret(psk),
        psk_remote=Secret(psk),
        ike_proposals=(
            IkeProposalPolicy("p", (AES_GCM_256,), (PrfId.HMAC_SHA2_256,), (), (DhId.CURVE25519,)),
        ),
        esp_proposals=(EspProposalPolicy("t", (AES_GCM_256,)),),
        local_ts=(PEER_LAN,),
        remote_ts=(GATEWAY_LAN,),
        remote_addresses=(ipaddress.ip_network(f"{gateway[0]}/32"),),
        remote_ike_port=gateway[1],
    )
