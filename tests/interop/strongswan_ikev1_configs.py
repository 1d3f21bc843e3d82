"""IKEv1 configurations for charon: a main mode site-to-site peer with a pre-shared key,
and both ends of EzVPN-style remote access (aggressive mode with a group key id, XAUTH,
mode config handing out a virtual IP). The charon-to-charon tests prove them; later the
same builders face our gateway, which then stands where the second charon stands.

The names follow the IKEv2 ones (connection `t`, child `net`) so that `Charon.initiate`,
`terminate_ike` and friends work unchanged. Each builder returns swanctl.conf text with
one setting per line (swanctl rejects several settings on one line)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from interop.strongswan_configs import (
    CHILD,
    CONN,
    PSK,
    STRONGSWAN_PLUGINS,
    US_NET,
    strongswan_conf,
)

#: xauth-generic (libcharon-extauth-plugins) checks and answers XAUTH with swanctl
#: secrets; unity decodes Cisco Unity attributes (split include) on the client side
IKEV1_PLUGINS = f"{STRONGSWAN_PLUGINS} xauth-generic unity"
#: charon refuses aggressive mode with a PSK as responder without this
AGGRESSIVE_PSK = "i_dont_care_about_security_and_use_aggressive_mode_psk = yes"
#: every payload, decrypted, with its hex and the derived keys: the reference trace
TRACE_LOG_LEVELS: Mapping[str, int] = {
    "ike": 4,
    "enc": 4,
    "cfg": 2,
    "chd": 4,
    "net": 2,
    "knl": 1,
}

V1_IKE = "aes128-sha1-modp2048"  # IOS: encryption aes, hash sha, group 14
V1_ESP = "aes128-sha1"  # IOS: esp-aes esp-sha-hmac

GROUP = "cclient"  # the EzVPN group name, sent as ID_KEY_ID
GROUP_PSK = "ezvpn-group-key-4d1e"
XAUTH_USER = "joe@cclient"
XAUTH_PASSWORD = "xauth-joe-pass-93ab"
POOL = "10.98.3.0/24"
FIRST_VIP = "10.98.3.1"  # the first address charon's pool hands out
POOL_DNS = "10.98.2.53"
POOL_NAME = "rw"


@dataclass(frozen=True)
class CharonV1:
    """What a charon speaking IKEv1 needs in strongswan.conf beyond the IKEv2 harness:
    the XAUTH plugin, aggressive mode PSK as responder, optionally the Cisco Unity vendor
    ID (`cisco_unity = yes`) and trace logging."""

    cisco_unity: bool = False
    trace: bool = False

    def __call__(self, vici_socket: Path, port: int, port_nat_t: int) -> str:
        settings = [AGGRESSIVE_PSK]
        if self.cisco_unity:
            settings.append("cisco_unity = yes")
        return strongswan_conf(
            vici_socket,
            port,
            port_nat_t,
            plugins=IKEV1_PLUGINS,
            settings=settings,
            log_levels=TRACE_LOG_LEVELS if self.trace else None,
        )


def _lines(prefix: str, items: Sequence[str]) -> str:
    return "".join(f"{prefix}{item}\n" for item in items if item)


def main_mode_psk_conf(
    *,
    local_addr: str,
    remote_addr: str,
    local_ts: str,
    remote_ts: str,
    psk: str = PSK,
    start_action: str = "none",
    ike: str = V1_IKE,
    esp: str = V1_ESP,
    dpd_delay: int | None = None,
) -> str:
    """Site-to-site, main mode, PSK, address identities: `version = 1`, one child
    protecting `local_ts` <-> `remote_ts`. `start_action = start` brings it up on load
    (either side can be the initiator); `none` waits for `swanctl --initiate`."""
    conn = [f"dpd_delay = {dpd_delay}s" if dpd_delay else ""]
    return f"""\
connections {{
  {CONN} {{
    version = 1
    local_addrs = {local_addr}
    remote_addrs = {remote_addr}
    proposals = {ike}
{_lines("    ", conn)}    local {{
      auth = psk
      id = {local_addr}
    }}
    remote {{
      auth = psk
      id = {remote_addr}
    }}
    children {{
      {CHILD} {{
        local_ts = {local_ts}
        remote_ts = {remote_ts}
        esp_proposals = {esp}
        start_action = {start_action}
      }}
    }}
  }}
}}
secrets {{
  ike-{CONN} {{
    id-local = {local_addr}
    id-remote = {remote_addr}
    secret = "{psk}"
  }}
}}
"""


def xauth_client_conf(
    *,
    local_addr: str,
    remote_addr: str,
    remote_ts: str = US_NET,
    group: str = GROUP,
    group_psk: str = GROUP_PSK,
    user: str = XAUTH_USER,
    password: str = XAUTH_PASSWORD,
    pull: bool = True,
    start_action: str = "none",
    ike: str = V1_IKE,
    esp: str = V1_ESP,
    dpd_delay: int | None = None,
) -> str:
    """The remote-access client (Cisco EzVPN's software client as charon does it):
    aggressive mode, the group name as `keyid:` identity with the group key, then XAUTH
    as `user`, then a virtual IP by mode config (`pull = yes`: the client asks with
    CFG_REQUEST; `no`: it waits for the gateway's CFG_SET). Its child carries traffic
    from the virtual IP to `remote_ts` (a subnet, or 0.0.0.0/0 for a full tunnel).
    `dpd_delay`: R-U-THERE after that many idle seconds (the gateway must send the DPD
    vendor ID)."""
    conn = [f"dpd_delay = {dpd_delay}s" if dpd_delay else ""]
    return f"""\
connections {{
  {CONN} {{
    version = 1
    aggressive = yes
    pull = {"yes" if pull else "no"}
    local_addrs = {local_addr}
    remote_addrs = {remote_addr}
    proposals = {ike}
    vips = 0.0.0.0
{_lines("    ", conn)}    local {{
      auth = psk
      id = keyid:{group}
    }}
    local-xauth {{
      auth = xauth
      xauth_id = {user}
    }}
    remote {{
      auth = psk
    }}
    children {{
      {CHILD} {{
        remote_ts = {remote_ts}
        esp_proposals = {esp}
        start_action = {start_action}
      }}
    }}
  }}
}}
secrets {{
  ike-grp {{
    id = keyid:{group}
    secret = "{group_psk}"
  }}
  xauth-user {{
    id = {user}
    secret = "{password}"
  }}
}}
"""


def xauth_server_conf(
    *,
    local_addr: str,
    local_ts: str = US_NET,
    group: str = GROUP,
    group_psk: str = GROUP_PSK,
    users: Mapping[str, str] | None = None,
    pool: str = POOL,
    dns: Sequence[str] = (POOL_DNS,),
    pull: bool = True,
    ike: str = V1_IKE,
    esp: str = V1_ESP,
    dpd_delay: int | None = None,
) -> str:
    """The gateway side of the same remote access, as charon does it: accepts aggressive
    mode from any address for the group's key id, checks XAUTH against `users`
    (xauth-generic), hands out an address of `pool` and `dns` by mode config (answering
    CFG_REQUEST with `pull = yes`, pushing CFG_SET after XAUTH with `no`), and protects
    `local_ts` <-> the client's virtual IP."""
    conn = [f"dpd_delay = {dpd_delay}s" if dpd_delay else ""]
    users = {XAUTH_USER: XAUTH_PASSWORD} if users is None else users
    secrets = "".join(
        f"""\
  xauth-{n} {{
    id = {user}
    secret = "{password}"
  }}
"""
        for n, (user, password) in enumerate(users.items())
    )
    return f"""\
connections {{
  {CONN} {{
    version = 1
    aggressive = yes
    pull = {"yes" if pull else "no"}
    local_addrs = {local_addr}
    proposals = {ike}
    pools = {POOL_NAME}
{_lines("    ", conn)}    local {{
      auth = psk
      id = {local_addr}
    }}
    remote {{
      auth = psk
      id = keyid:{group}
    }}
    remote-xauth {{
      auth = xauth-generic
    }}
    children {{
      {CHILD} {{
        local_ts = {local_ts}
        esp_proposals = {esp}
      }}
    }}
  }}
}}
pools {{
  {POOL_NAME} {{
    addrs = {pool}
{_lines("    ", [f"dns = {', '.join(dns)}" if dns else ""])}  }}
}}
secrets {{
  ike-grp {{
    id = keyid:{group}
    secret = "{group_psk}"
  }}
{secrets}}}
"""
