"""render(): `show running-config` re-parses to an equivalent model; secrets never show."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest
from config_snippets import normalize

from engine.config.compile import compile_config
from engine.config.model import Config
from engine.config.parser import parse_text
from engine.config.render import render
from engine.config.validate import validate
from engine.secret import MASK, Secret

FILE = "r.conf"

RICH = """\
hostname rich-gw
aaa new-model
aaa accounting network ACCT start-stop group radius
aaa accounting network ACCT-B stop-only broadcast group RAD-GRP
aaa accounting update newinfo periodic 10
aaa session-id common
aaa group server radius RAD-GRP
 server 192.0.2.20 auth-port 1812 acct-port 1813
 server 192.0.2.21
ip vrf INET
vrf definition CORP
crypto isakmp peer address 198.51.100.7
 description Branch seven (primary)
crypto isakmp peer address 198.51.100.8
crypto ikev2 proposal GCM
 encryption aes-gcm-256 aes-gcm-128
 prf sha512 sha256
 group 31 19 14
crypto ikev2 proposal CBC
 encryption aes-cbc-256 aes-cbc-128
 integrity sha384 sha256
 prf sha384
 group 20 21
crypto ikev2 policy POL
 proposal GCM
 proposal CBC
 match fvrf INET
 match address local 192.0.2.1
crypto ikev2 keyring KR
 peer branch7
  description Branch seven keys
  address 198.51.100.7
  identity fqdn br7.example.net
  pre-shared-key local Br7Out
  pre-shared-key remote Br7In
 peer branches
  address 198.51.100.0 255.255.255.0
  identity address 198.51.100.1
  pre-shared-key Branches
 peer users
  identity email ops@example.org
  pre-shared-key Users
 peer keyid
  identity key-id group-7
  pre-shared-key KeyId
crypto ikev2 profile SITES
 description Site routers
 match identity remote address 198.51.100.0 255.255.255.0
 match identity remote fqdn domain example.net
 match identity remote email ops@example.org
 match fvrf INET
 identity local fqdn hub.example.net
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
 lifetime 28800
 dpd 30 5 on-demand
 ivrf CORP
 aaa accounting psk ACCT
crypto ikev2 profile USERS
 match identity remote email domain example.org
 identity local address 192.0.2.1
 keyring local KR
 dpd 10 2 periodic
crypto ipsec transform-set TS-GCM esp-gcm
 mode tunnel
crypto ipsec transform-set TS-CBC esp-aes esp-sha256-hmac
ip access-list extended SITE-ACL
 permit ip 10.1.0.0 0.0.255.255 10.7.0.0 0.0.255.255
 permit ip host 10.1.1.1 any
 deny ip any any
access-list 120 permit ip 10.1.0.0 0.0.255.255 host 10.8.8.8
crypto dynamic-map DYN 10
 description Remote users
 set transform-set TS-GCM TS-CBC
 set ikev2-profile USERS
 set security-association lifetime seconds 900
 reverse-route
crypto map VPN 10 ipsec-isakmp
 description To branch seven
 set peer 198.51.100.7
 set peer 198.51.100.8
 set transform-set TS-GCM
 set ikev2-profile SITES
 set pfs group19
 set security-association lifetime seconds 1800
 set security-association lifetime kilobytes 102400
 match address SITE-ACL
 reverse-route remote-peer
crypto map VPN 20 ipsec-isakmp dynamic DYN
crypto map VPN client accounting list ACCT-B
interface GigabitEthernet0/1
 description WAN uplink
 vrf forwarding INET
 ip address 192.0.2.1 255.255.255.0
 crypto map VPN
interface GigabitEthernet0/2
 ip vrf forwarding CORP
 ip address 10.1.0.1 255.255.0.0
ip local pool POOL 10.8.0.10 10.8.0.200
logging host 192.0.2.50 transport udp port 5514
logging host 192.0.2.51
radius-server host 192.0.2.20 auth-port 1812 acct-port 1813 key RadKey
radius-server host 192.0.2.21
radius-server key GlobalRadKey
end
"""


def parse(text: str) -> Config:
    return validate(parse_text(text, FILE))


def test_rich_config_is_clean() -> None:
    assert parse(RICH).diagnostics == []


def test_round_trip_of_a_rich_config() -> None:
    original = parse(RICH)
    rendered = render(original)
    again = parse(rendered)
    assert again.errors == [], [str(d) for d in again.errors]
    assert normalize(again) == normalize(original)


def test_render_is_a_fixpoint() -> None:
    first = render(parse(RICH))
    second = render(parse(first))
    assert render(parse(second)) == second
    # the only difference: split local/remote keys come back as one masked key
    changed = set(first.splitlines()) ^ set(second.splitlines())
    assert changed == {"  pre-shared-key local *****", "  pre-shared-key remote *****"}


def test_render_shape() -> None:
    rendered = render(parse(RICH))
    lines = rendered.splitlines()
    assert lines[0] == "hostname rich-gw"
    assert lines[-1] == "end"
    assert "crypto map VPN 20 ipsec-isakmp dynamic DYN" in lines
    assert "crypto map VPN client accounting list ACCT-B" in lines
    assert " set pfs group19" in lines
    assert "  pre-shared-key local *****" in lines
    assert "  pre-shared-key remote *****" in lines
    assert "  pre-shared-key *****" in lines
    assert "radius-server key *****" in lines
    assert "access-list 120 permit ip 10.1.0.0 0.0.255.255 host 10.8.8.8" in lines


def test_round_trip_keeps_compiled_policy() -> None:
    original = compile_config(parse(RICH))
    again = compile_config(parse(render(parse(RICH))))
    assert [p.name for p in again.ike.peers] == [p.name for p in original.ike.peers]
    for a, b in zip(original.ike.peers, again.ike.peers, strict=True):
        # keys come back masked; everything negotiated besides them is the same
        assert dataclasses.replace(a, psk_local=Secret(MASK), psk_remote=Secret(MASK)) == b
    assert again.meta == original.meta


def test_empty_config_renders() -> None:
    assert render(Config()) == "hostname Router\n!\n!\n!\nend\n"


# --- secrets --------------------------------------------------------------------------

SECRETS = [f"SuperSecretKey{n}" for n in range(1, 9)]
SECRET_CONFIG = textwrap.dedent(f"""\
    hostname vault
    aaa new-model
    aaa accounting network ACCT start-stop group RAD-GRP
    aaa group server radius RAD-GRP
     server 192.0.2.20 auth-port 1812 acct-port 1813 key {SECRETS[0]}
    radius-server host 192.0.2.20 key {SECRETS[1]}
    radius-server key 0 {SECRETS[2]}
    crypto isakmp key {SECRETS[3]} address 198.51.100.9
    crypto ikev2 keyring KR
     peer one
      address 198.51.100.7
      pre-shared-key local {SECRETS[4]}
      pre-shared-key remote {SECRETS[5]}
     peer two
      address 198.51.100.8
      pre-shared-key 0 {SECRETS[6]}
     peer three
      address 198.51.100.9
      pre-shared-key 7 {SECRETS[7]}
    crypto ikev2 profile P
     keyring local KR
    crypto ipsec transform-set TS esp-gcm
    ip access-list extended A
     permit ip any any
    crypto map M 10 ipsec-isakmp
     set peer 198.51.100.7
     set peer 198.51.100.8
     set transform-set TS
     set ikev2-profile P
     match address A
    """)


def test_secrets_are_parsed() -> None:
    config = parse_text(SECRET_CONFIG, FILE)
    one, two, _ = config.keyrings["KR"].peers
    assert one.psk_local.reveal() == SECRETS[4].encode()
    assert one.psk_remote.reveal() == SECRETS[5].encode()
    assert two.psk_local.reveal() == SECRETS[6].encode()
    assert config.radius.key.reveal() == SECRETS[2].encode()
    assert config.radius_groups["RAD-GRP"].servers[0].key.reveal() == SECRETS[0].encode()


def test_no_secret_in_render_repr_or_diagnostics() -> None:
    config = parse(SECRET_CONFIG)
    views = {
        "render": render(config),
        "repr(model)": repr(config),
        "str(model)": str(config),
        "diagnostics": "\n".join(str(d) for d in config.diagnostics),
        "keyring repr": repr(config.keyrings),
    }
    for where, text in views.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret} shows in {where}"
    assert MASK in views["render"]
    assert MASK in views["repr(model)"]


def test_no_secret_in_compiled_repr() -> None:
    config = parse(
        SECRET_CONFIG.replace(f"  pre-shared-key 7 {SECRETS[7]}\n", "  pre-shared-key x\n")
    )
    assert config.errors == [], [str(d) for d in config.errors]
    compiled = compile_config(config)
    assert len(compiled.ike.peers) == 2
    text = repr(compiled)
    for secret in SECRETS:
        assert secret not in text


# --- what render loses ----------------------------------------------------------------


@pytest.mark.parametrize(
    "transforms", ["esp-gcm 256", "esp-aes 256 esp-sha256-hmac", "esp-aes 192 esp-sha512-hmac"]
)
def test_transform_set_key_size_survives_render(transforms: str) -> None:
    original = parse_text(f"crypto ipsec transform-set TS {transforms}\n", FILE)
    again = parse_text(render(original), FILE)
    assert again.transform_sets["TS"].encryption == original.transform_sets["TS"].encryption
    assert f"crypto ipsec transform-set TS {transforms}" in render(original)


@pytest.mark.parametrize(
    "snippet",
    [
        "crypto ikev2 keyring KR\n peer six\n  address 2001:db8::7\n  pre-shared-key k\n",
        "crypto ikev2 profile P\n match identity remote address 2001:db8::7\n",
    ],
)
def test_ipv6_addresses_survive_render(snippet: str) -> None:
    original = parse_text(snippet, FILE)
    assert original.diagnostics == []
    again = parse_text(render(original), FILE)
    assert again.errors == [], [str(d) for d in again.errors]
    assert normalize(again) == normalize(original)


@pytest.mark.parametrize(
    "snippet",
    [
        "logging buffered 64000\n",
        "logging trap warnings\n",
        "radius-server retransmit 5\n",
        "radius-server timeout 9\n",
        "radius-server deadtime 4\n",
        "radius-server vsa send accounting\n",
        "crypto map M 10 ipsec-isakmp\n set isakmp-profile V1\n",
        "crypto isakmp policy 10\n encr aes\n authentication pre-share\n group 14\n",
        "crypto isakmp key k address 198.51.100.9\n",
        "crypto isakmp profile V1\n vrf CORP\n match identity group staff\n",
        "crypto isakmp keepalive 20 5\n",
    ],
)
def test_render_keeps_every_parsed_setting(snippet: str) -> None:
    original = parse_text(snippet, FILE)
    assert original.errors == []
    again = parse_text(render(original), FILE)
    assert normalize(again) == normalize(original)


@pytest.mark.parametrize(
    "line",
    [
        "radius-server key Part SuperSecretKey9",
        "radius-server host 192.0.2.20 key Part SuperSecretKey9",
    ],
)
def test_radius_key_with_spaces(line: str) -> None:
    config = parse(line + "\n")
    assert config.errors == []
    assert "SuperSecretKey9" not in repr(config)


@pytest.mark.parametrize(
    "line",
    [
        "enable secret 0 SuperSecretKey10",
        "tacacs-server key SuperSecretKey10",
        "snmp-server community SuperSecretKey10 RO",
    ],
)
def test_unsupported_lines_do_not_echo_secrets(line: str) -> None:
    config = parse(line + "\n")
    assert config.warnings
    assert "SuperSecretKey10" not in repr(config)
