"""What both sides run with in the strongSwan interop tests: the addresses, the algorithm
suites in both dialects, charon's strongswan.conf and swanctl.conf, and our IOS-style file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SS_ADDR = "10.99.0.1"  # charon
US_ADDR = "10.99.0.2"  # our gateway
SS_NET = "10.98.1.0/24"
US_NET = "10.98.2.0/24"
SS_HOST = "10.98.1.1"
US_HOST = "10.98.2.1"

CONN = "t"  # charon's connection
CHILD = "net"  # charon's child
PSK = "interop-psk-6f1c2a"

# md5 for HMAC-MD5; 3DES comes from openssl (Debian builds no des plugin), the legacy
# MODP groups from gmp and openssl
STRONGSWAN_PLUGINS = (
    "random nonce aes md5 sha1 sha2 hmac kdf pem pkcs1 x509 pubkey gmp openssl "
    "kernel-libipsec kernel-netlink socket-default vici updown xauth-generic"
)


# ---------------------------------------------------------------------- algorithms
@dataclass(frozen=True)
class IkeSuite:
    """One IKE proposal in both dialects and as each side reports it once chosen."""

    strongswan: str
    ios: tuple[str, ...]  # `crypto ikev2 proposal` sub-commands
    charon: dict[str, str]  # list-sas fields
    ours: dict[str, object]  # IkeAlgorithms

    def __str__(self) -> str:
        return self.strongswan


@dataclass(frozen=True)
class EspSuite:
    """One ESP proposal, with or without PFS, in both dialects."""

    strongswan: str
    transform_set: str
    pfs_group: int | None
    charon: dict[str, str]
    ours: dict[str, object]
    charon_dh: str | None = None  # list-sas dh-group of a child rekeyed with PFS

    def __str__(self) -> str:
        return self.strongswan


IKE_SUITES = {
    s.strongswan: s
    for s in (
        IkeSuite(
            "aes256gcm16-prfsha256-x25519",
            ("encryption aes-gcm-256", "prf sha256", "group 31"),
            {
                "encr-alg": "AES_GCM_16",
                "encr-keysize": "256",
                "prf-alg": "PRF_HMAC_SHA2_256",
                "dh-group": "CURVE_25519",
            },
            {"encryption": "aes-gcm-256", "prf": "sha256", "integrity": "none", "dh_group": 31},
        ),
        IkeSuite(
            "aes128-sha256-modp2048",
            ("encryption aes-cbc-128", "integrity sha256", "prf sha256", "group 14"),
            {
                "encr-alg": "AES_CBC",
                "encr-keysize": "128",
                "integ-alg": "HMAC_SHA2_256_128",
                "prf-alg": "PRF_HMAC_SHA2_256",
                "dh-group": "MODP_2048",
            },
            {"encryption": "aes-cbc-128", "prf": "sha256", "integrity": "sha256", "dh_group": 14},
        ),
        IkeSuite(
            "aes256-sha384-ecp384",
            ("encryption aes-cbc-256", "integrity sha384", "prf sha384", "group 20"),
            {
                "encr-alg": "AES_CBC",
                "encr-keysize": "256",
                "integ-alg": "HMAC_SHA2_384_192",
                "prf-alg": "PRF_HMAC_SHA2_384",
                "dh-group": "ECP_384",
            },
            {"encryption": "aes-cbc-256", "prf": "sha384", "integrity": "sha384", "dh_group": 20},
        ),
    )
}

_GCM = {"encr-alg": "AES_GCM_16", "encr-keysize": "256"}
_CBC = {"encr-alg": "AES_CBC", "encr-keysize": "128", "integ-alg": "HMAC_SHA2_256_128"}
ESP_SUITES = {
    s.strongswan: s
    for s in (
        EspSuite("aes256gcm16", "esp-gcm 256", None, _GCM, {"encryption": "aes-gcm-256"}),
        EspSuite(
            "aes256gcm16-ecp256",
            "esp-gcm 256",
            19,
            _GCM,
            {"encryption": "aes-gcm-256"},
            "ECP_256",
        ),
        EspSuite(
            "aes128-sha256",
            "esp-aes 128 esp-sha256-hmac",
            None,
            _CBC,
            {"encryption": "aes-cbc-128", "integrity": "sha256"},
        ),
        EspSuite(
            "aes128-sha256-ecp256",
            "esp-aes 128 esp-sha256-hmac",
            19,
            _CBC,
            {"encryption": "aes-cbc-128", "integrity": "sha256"},
            "ECP_256",
        ),
    )
}
#: what deployed peers still run, accepted by us with a warning and marked weak
LEGACY_IKE_SUITES = {
    s.strongswan: s
    for s in (
        IkeSuite(
            "aes128-sha1-modp1024",
            ("encryption aes-cbc-128", "integrity sha1", "group 2"),
            {
                "encr-alg": "AES_CBC",
                "encr-keysize": "128",
                "integ-alg": "HMAC_SHA1_96",
                "prf-alg": "PRF_HMAC_SHA1",
                "dh-group": "MODP_1024",
            },
            {
                "encryption": "aes-cbc-128",
                "prf": "sha1",
                "integrity": "sha1",
                "dh_group": 2,
                "weak": ["prf", "integrity", "dh_group"],
            },
        ),
        IkeSuite(
            "3des-sha1-modp1024",
            ("encryption 3des", "integrity sha1", "group 2"),
            {
                "encr-alg": "3DES_CBC",
                "integ-alg": "HMAC_SHA1_96",
                "prf-alg": "PRF_HMAC_SHA1",
                "dh-group": "MODP_1024",
            },
            {
                "encryption": "3des",
                "prf": "sha1",
                "integrity": "sha1",
                "dh_group": 2,
                "weak": ["encryption", "prf", "integrity", "dh_group"],
            },
        ),
    )
}
LEGACY_ESP_SUITES = {
    s.strongswan: s
    for s in (
        EspSuite(
            "aes128-sha1",
            "esp-aes esp-sha-hmac",
            None,
            {"encr-alg": "AES_CBC", "encr-keysize": "128", "integ-alg": "HMAC_SHA1_96"},
            {"encryption": "aes-cbc-128", "integrity": "sha1", "weak": ["integrity"]},
        ),
        EspSuite(
            "3des-sha1",
            "esp-3des esp-sha-hmac",
            None,
            {"encr-alg": "3DES_CBC", "integ-alg": "HMAC_SHA1_96"},
            {"encryption": "3des", "integrity": "sha1", "weak": ["encryption", "integrity"]},
        ),
    )
}
DEFAULT_IKE = IKE_SUITES["aes256gcm16-prfsha256-x25519"]
DEFAULT_ESP = ESP_SUITES["aes256gcm16"]


# ---------------------------------------------------------------------- configurations
def strongswan_conf(
    vici_socket: Path,
    port: int = 500,
    port_nat_t: int = 4500,
    *,
    plugins: str = STRONGSWAN_PLUGINS,
    settings: Sequence[str] = (),
    log_levels: Mapping[str, int] | None = None,
) -> str:
    """charon's strongswan.conf: the plugins it loads, `settings` as extra lines of the
    `charon` section (one setting per line), and `log_levels` by subsystem on top of
    `default = 1` (e.g. {"ike": 4, "enc": 4} to see every payload, decrypted)."""
    extra = "".join(f"  {line}\n" for line in settings)
    levels = "".join(f"      {name} = {level}\n" for name, level in (log_levels or {}).items())
    return f"""\
charon {{
  load_modular = no
  load = {plugins}
  port = {port}
  port_nat_t = {port_nat_t}
{extra}  filelog {{
    stderr {{
      default = 1
{levels}      flush_line = yes
      time_format = %H:%M:%S
    }}
  }}
  plugins {{
    vici {{
      socket = unix://{vici_socket}
    }}
  }}
}}
"""


def swanctl_conf(
    *,
    ike: IkeSuite = DEFAULT_IKE,
    esp: EspSuite = DEFAULT_ESP,
    psk: str = PSK,
    remote_port: int | None = None,
    children_extra: str = "",
    conn_extra: str = "",
    local_ts: str = SS_NET,
    remote_ts: str = US_NET,
) -> str:
    """One connection `t` with child `net` to our gateway, PSK, address identities;
    `local_ts` = `remote_ts` = 0.0.0.0/0 is strongSwan's route-based setup."""
    remote_port_line = f"remote_port = {remote_port}" if remote_port else ""
    return f"""\
connections {{
  {CONN} {{
    version = 2
    local_addrs = {SS_ADDR}
    remote_addrs = {US_ADDR}
    {remote_port_line}
    proposals = {ike.strongswan}
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
        esp_proposals = {esp.strongswan}
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


def our_conf(
    *,
    ike: IkeSuite = DEFAULT_IKE,
    esp: EspSuite = DEFAULT_ESP,
    psk: str = PSK,
    initiate: bool = False,
    ike_lifetime: int | None = None,
    child_lifetime: int | None = None,
    dpd: str | None = None,
    peer_mask: str = "255.255.255.255",
) -> str:
    """Our IOS-style file: a static crypto map entry (`set peer`: we initiate, and keep the
    tunnel up) or a dynamic one (we only answer). `peer_mask` widens the keyring peer and
    the profile's match from charon's address to its subnet (a dynamic entry serving
    many peers, e.g. 255.255.255.0 for all of 10.99.0.0/24)."""
    proposal = "\n".join(f" {line}" for line in ike.ios)
    keyring_address = SS_ADDR if peer_mask == "255.255.255.255" else f"{SS_ADDR} {peer_mask}"
    profile = [
        "crypto ikev2 profile STRONGSWAN",
        f" match identity remote address {SS_ADDR} {peer_mask}",
        " authentication local pre-share",
        " authentication remote pre-share",
        " keyring local KEYS",
    ]
    if ike_lifetime:
        profile.append(f" lifetime {ike_lifetime}")
    if dpd:
        profile.append(f" dpd {dpd}")
    entry = [" set transform-set TS", " set ikev2-profile STRONGSWAN"]
    if esp.pfs_group:
        entry.append(f" set pfs group{esp.pfs_group}")
    if child_lifetime:
        entry.append(f" set security-association lifetime seconds {child_lifetime}")
    entry.append(" match address TUNNEL")
    if initiate:
        crypto_map = ["crypto map WAN 10 ipsec-isakmp", f" set peer {SS_ADDR}", *entry]
    else:
        crypto_map = [
            "crypto dynamic-map STRONGSWAN 10",
            *entry,
            "crypto map WAN 10 ipsec-isakmp dynamic STRONGSWAN",
        ]
    body = "\n".join(profile + crypto_map)
    return f"""\
hostname interop-us
crypto ikev2 proposal PROPOSAL
{proposal}
crypto ikev2 policy POLICY
 proposal PROPOSAL
crypto ikev2 keyring KEYS
 peer STRONGSWAN
  address {keyring_address}
  pre-shared-key {psk}
crypto ipsec transform-set TS {esp.transform_set}
 mode tunnel
ip access-list extended TUNNEL
 permit ip 10.98.2.0 0.0.0.255 10.98.1.0 0.0.0.255
{body}
interface wan0
 ip address {US_ADDR} 255.255.255.0
 crypto map WAN
end
"""
