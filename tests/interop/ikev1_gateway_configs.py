"""IKEv1 configurations for the strongSwan interop tests: charon's swanctl.conf with
`version = 1`, and our IOS-style file with `crypto isakmp` policies and keys."""

from __future__ import annotations

from interop.strongswan_configs import CHILD, CONN, PSK, SS_ADDR, SS_NET, US_ADDR, US_NET


def swanctl_v1(
    *,
    proposals: str = "aes128-sha256-modp2048",
    esp: str = "aes128-sha256",
    psk: str = PSK,
    conn_extra: str = "",
    children_extra: str = "",
    local_ts: str = SS_NET,
    remote_ts: str = US_NET,
) -> str:
    """Main mode site-to-site with a pre-shared key, address identities."""
    return f"""\
connections {{
  {CONN} {{
    version = 1
    local_addrs = {SS_ADDR}
    remote_addrs = {US_ADDR}
    proposals = {proposals}
    {conn_extra}
    local {{
      auth = psk
      id = {SS_ADDR}
    }}
    remote {{
      auth = psk
      id = {US_ADDR}
    }}
    children {{
      {CHILD} {{
        local_ts = {local_ts}
        remote_ts = {remote_ts}
        esp_proposals = {esp}
        {children_extra}
      }}
    }}
  }}
}}
secrets {{
  ike-{CONN} {{
    id-ss = {SS_ADDR}
    id-us = {US_ADDR}
    secret = "{psk}"
  }}
}}
"""


def our_v1(
    *,
    policy: str = " encryption aes\n hash sha256\n authentication pre-share\n group 14",
    transform_set: str = "esp-aes esp-sha256-hmac",
    psk: str = PSK,
    initiate: bool = False,
    extra_entry: str = "",
    extra: str = "",
) -> str:
    entry = [" set transform-set TS", " match address TUNNEL"]
    if extra_entry:
        entry.append(extra_entry)
    if initiate:
        crypto_map = ["crypto map WAN 10 ipsec-isakmp", f" set peer {SS_ADDR}", *entry]
    else:
        crypto_map = [
            "crypto dynamic-map STRONGSWAN 10",
            *entry,
            "crypto map WAN 10 ipsec-isakmp dynamic STRONGSWAN",
        ]
    body = "\n".join(crypto_map)
    return f"""\
hostname interop-us
crypto isakmp policy 10
{policy}
crypto isakmp key {psk} address {SS_ADDR}
crypto ipsec transform-set TS {transform_set}
 mode tunnel
ip access-list extended TUNNEL
 permit ip 10.98.2.0 0.0.0.255 10.98.1.0 0.0.0.255
{extra}
{body}
interface wan0
 ip address {US_ADDR} 255.255.255.0
 crypto map WAN
end
"""


GROUP = "cclient"
GROUP_KEY = "grp-key-5e1a"
XAUTH_USER = "joe@cclient"
XAUTH_PASSWORD = "joe-pass-91c3"


def swanctl_v1_remote_access(
    *,
    proposals: str = "aes128-sha256-modp2048",
    esp: str = "aes128-sha256",
    password: str = XAUTH_PASSWORD,
    remote_ts: str = US_NET,
    group_key: str = GROUP_KEY,
) -> str:
    """charon as an IKEv1 remote-access client: aggressive mode with the group name as
    ID_KEY_ID and the group key, XAUTH as `XAUTH_USER`, a virtual IP asked for."""
    return f"""\
connections {{
  {CONN} {{
    version = 1
    aggressive = yes
    local_addrs = {SS_ADDR}
    remote_addrs = {US_ADDR}
    proposals = {proposals}
    vips = 0.0.0.0
    local-psk {{
      auth = psk
      id = keyid:{GROUP}
    }}
    local-xauth {{
      auth = xauth
      xauth_id = {XAUTH_USER}
    }}
    remote {{
      auth = psk
      id = {US_ADDR}
    }}
    children {{
      {CHILD} {{
        remote_ts = {remote_ts}
        esp_proposals = {esp}
      }}
    }}
  }}
}}
secrets {{
  ike-group {{
    id-a = keyid:{GROUP}
    id-b = {US_ADDR}
    secret = "{group_key}"
  }}
  xauth-user {{
    id = {XAUTH_USER}
    secret = "{password}"
  }}
}}
"""


def our_v1_remote_access(*, authentication: str = "local", extra: str = "") -> str:
    """The gateway's side: a client group with its key and pool, an ISAKMP profile that
    matches the group, XAUTH against `authentication`, mode-config answered."""
    return f"""\
hostname interop-us
aaa new-model
aaa authentication login RA-USERS {authentication}
aaa authorization network RA-GROUPS local
username {XAUTH_USER} secret 0 {XAUTH_PASSWORD}
crypto isakmp policy 10
 encryption aes
 hash sha256
 authentication pre-share
 group 14
crypto isakmp client configuration group {GROUP}
 key {GROUP_KEY}
 pool RA-POOL
 dns 10.98.2.53
 domain example.test
crypto isakmp profile RA
 match identity group {GROUP}
 client authentication list RA-USERS
 isakmp authorization list RA-GROUPS
 client configuration address respond
crypto ipsec transform-set TS esp-aes esp-sha256-hmac
 mode tunnel
crypto dynamic-map CLIENTS 10
 set transform-set TS
 set isakmp-profile RA
 reverse-route
crypto map WAN 10 ipsec-isakmp dynamic CLIENTS
ip local pool RA-POOL 10.98.3.10 10.98.3.20
{extra}
interface wan0
 ip address {US_ADDR} 255.255.255.0
 crypto map WAN
end
"""
