"""A whole IOS XE running configuration pasted in: warnings for what the gateway does
not use, no error, and every line of its crypto map site-to-site setup taken.

The configuration is written for this project (own names, addresses and keys) in the
shape `show running-config` gives on a virtual IOS XE router: platform and licence
lines, a self-signed trustpoint, NAT, BGP, static routes, SNMP, lines, a banner. It is
read as shown (indented) and with its indentation lost, as pasted configurations
often are; both must give the same tunnel.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config.compile import compile_config
from engine.config.diagnostics import Severity
from engine.config.model import Config
from engine.config.parser import parse_text
from engine.config.validate import validate

REPO = Path(__file__).resolve().parents[3]

RUNNING_CONFIG = """\
Building configuration...

Current configuration : 7311 bytes
!
! Last configuration change at 09:14:02 UTC Tue Mar 3 2026 by netops
!
version 16.9
service timestamps debug datetime msec
service timestamps log datetime msec
service password-encryption
platform qfp utilization monitor load 80
no platform punt-keepalive disable-kernel-core
platform console virtual
!
hostname edge-fra-01
!
boot-start-marker
boot-end-marker
!
!
vrf definition Mgmt-intf
 !
 address-family ipv4
 exit-address-family
 !
 address-family ipv6
 exit-address-family
!
logging buffered 32768 informational
no logging console
enable secret 9 $9$Ex4mpleHashN0tReal$abcdefghijklmnopqrstuvwxyz0123456789ABCD
!
aaa new-model
!
!
aaa authentication login default local
aaa authorization exec default local
!
!
aaa session-id common
!
!
!
!
!
!
!
ip domain name corp.example.net
ip name-server 192.0.2.53
!
!
!
login on-success log
!
!
!
!
!
!
!
subscriber templating
!
!
!
!
!
!
multilink bundle-name authenticated
!
!
!
crypto pki trustpoint TP-self-signed-3141592653
 enrollment selfsigned
 subject-name cn=IOS-Self-Signed-Certificate-3141592653
 revocation-check none
 rsakeypair TP-self-signed-3141592653
!
!
crypto pki certificate chain TP-self-signed-3141592653
 certificate self-signed 01
  30820330 30820218 A0030201 02020101 300D0609 2A864886 F70D0101 05050030
  31312F30 2D060355 04031326 494F532D 53656C66 2D536967 6E65642D 43657274
  69666963 6174652D 33313431 35393236 3533301E 170D3236 30333033 30393134
  \tquit
!
!
!
!
!
!
!
!
license udi pid CSR1000V sn 9Z8Y7X6W5V4
license boot level ax
no license smart enable
diagnostic bootup level minimal
!
spanning-tree extend system-id
!
!
!
username netops privilege 15 secret 9 $9$Ex4mpleHashN0tReal$zyxwvutsrqponmlkjihgfedcba9876543210DCBA
!
redundancy
!
!
!
!
!
!
!
crypto ikev2 proposal PROP-GCM
 encryption aes-gcm-256
 prf sha384
 group 20 19
!
crypto ikev2 policy POL-BRANCH
 proposal PROP-GCM
!
crypto ikev2 keyring KR-BRANCH
 peer branch-ams
  address 203.0.113.40
  pre-shared-key local Fr4ToAmsKey
  pre-shared-key remote Ams2FraKey
 !
!
!
crypto ikev2 profile PROF-BRANCH
 match identity remote address 203.0.113.40 255.255.255.255
 identity local address 198.51.100.10
 authentication remote pre-share
 authentication local pre-share
 keyring local KR-BRANCH
 lifetime 28800
 dpd 10 3 periodic
!
!
!
crypto ipsec security-association replay window-size 128
!
crypto ipsec transform-set TS-GCM esp-gcm 256
 mode tunnel
!
!
!
crypto map CM-WAN 10 ipsec-isakmp
 description to branch Amsterdam
 set peer 203.0.113.40
 set transform-set TS-GCM
 set ikev2-profile PROF-BRANCH
 set pfs group19
 set security-association lifetime seconds 3600
 match address ACL-VPN-AMS
!
!
!
!
!
!
interface Loopback0
 description router id
 ip address 10.255.0.1 255.255.255.255
!
interface GigabitEthernet1
 description Internet (ISP A)
 ip address 198.51.100.10 255.255.255.0
 ip nat outside
 ip tcp adjust-mss 1360
 negotiation auto
 crypto map CM-WAN
 no mop enabled
 no mop sysid
!
interface GigabitEthernet2
 description LAN
 ip address 10.20.0.1 255.255.0.0
 ip nat inside
 ip mtu 1400
 negotiation auto
 no mop enabled
 no mop sysid
!
interface GigabitEthernet3
 vrf forwarding Mgmt-intf
 ip address 192.168.250.10 255.255.255.0
 negotiation auto
 no mop enabled
 no mop sysid
!
router bgp 65010
 bgp router-id 10.255.0.1
 bgp log-neighbor-changes
 neighbor 198.51.100.1 remote-as 64500
 neighbor 198.51.100.1 description ISP A
 !
 address-family ipv4
  network 10.20.0.0 mask 255.255.0.0
  neighbor 198.51.100.1 activate
  neighbor 198.51.100.1 prefix-list PL-OUT out
 exit-address-family
!
ip forward-protocol nd
no ip http server
ip http authentication local
no ip http secure-server
ip nat inside source list ACL-NAT interface GigabitEthernet1 overload
ip route 0.0.0.0 0.0.0.0 198.51.100.1
ip route vrf Mgmt-intf 0.0.0.0 0.0.0.0 192.168.250.1
ip ssh version 2
!
ip prefix-list PL-OUT seq 5 permit 10.20.0.0/16
!
ip access-list standard ACL-SNMP
 10 permit 192.0.2.0 0.0.0.255
ip access-list extended ACL-NAT
 10 deny   ip 10.20.0.0 0.0.255.255 10.40.0.0 0.0.255.255
 20 permit ip 10.20.0.0 0.0.255.255 any
ip access-list extended ACL-VPN-AMS
 10 permit ip 10.20.0.0 0.0.255.255 10.40.0.0 0.0.255.255
!
logging host 192.0.2.50
!
snmp-server community Sn4mpR34d RO ACL-SNMP
snmp-server location Frankfurt rack 12
snmp-server contact netops@corp.example.net
!
!
!
!
control-plane
!
!
!
!
!
banner motd ^C
*** edge-fra-01 ***
Authorised access only. crypto map and interface lines here are banner text:
crypto map EVIL 1 ipsec-isakmp
interface GigabitEthernet9
end
^C
!
line con 0
 exec-timeout 15 0
 logging synchronous
 stopbits 1
line vty 0 4
 access-class ACL-SNMP in
 login local
 transport input ssh
line vty 5 15
 login local
 transport input ssh
!
ntp server 192.0.2.123
!
!
!
!
!
end
"""

#: the lines of the site-to-site setup: each must be read, none reported
VPN_PREFIXES = (
    "crypto ikev2",
    "crypto ipsec",
    "crypto map",
    "encryption",
    "prf",
    "group",
    "proposal",
    "peer",
    "address 203.0.113.40",
    "pre-shared-key",
    "match",
    "identity",
    "authentication",
    "keyring",
    "lifetime",
    "dpd",
    "mode tunnel",
    "description to branch",
    "set",
    "ip access-list extended ACL-VPN-AMS",
    "10 permit ip 10.20.0.0 0.0.255.255 10.40.0.0 0.0.255.255",
    "interface GigabitEthernet1",
    "ip address 198.51.100.10 255.255.255.0",
)


def unindented(text: str) -> str:
    return "\n".join(line.lstrip() for line in text.split("\n"))


def line_numbers(text: str, predicate) -> list[int]:
    return [n for n, line in enumerate(text.split("\n"), start=1) if predicate(line.strip())]


def vpn_lines(text: str) -> list[int]:
    before_end = text.split("\nend\n")[0]
    banner = before_end.index("banner motd")
    return line_numbers(
        text[:banner], lambda line: line.startswith(VPN_PREFIXES) and "pki" not in line
    )


@pytest.fixture(scope="module", params=["indented", "unindented"])
def pasted(request) -> tuple[str, Config]:
    text = RUNNING_CONFIG if request.param == "indented" else unindented(RUNNING_CONFIG)
    return text, validate(parse_text(text, f"{request.param}.conf"))


def test_pasted_running_config_has_no_error(pasted) -> None:
    _, config = pasted
    assert config.errors == [], [str(d) for d in config.errors]
    assert config.warnings


def test_every_line_of_the_vpn_setup_is_taken(pasted) -> None:
    text, config = pasted
    lines = vpn_lines(text)
    assert len(lines) > 30
    reported = {d.source.line: d.message for d in config.diagnostics}
    assert {n: reported[n] for n in lines if n in reported} == {}


def test_unused_commands_are_warnings_that_name_no_wrong_mode(pasted) -> None:
    text, config = pasted
    warned = {d.source.line: d.message for d in config.warnings}
    for command in (
        "version 16.9",
        "boot-start-marker",
        "license boot level ax",
        "crypto pki trustpoint TP-self-signed-3141592653",
        "router bgp 65010",
        "ip nat inside source list ACL-NAT interface GigabitEthernet1 overload",
        "banner motd ^C",
        "line vty 0 4",
        "ntp server 192.0.2.123",
        "control-plane",
    ):
        (number,) = line_numbers(text, lambda line, c=command: line.startswith(c))
        assert warned[number].startswith("ignored: not supported: "), (command, warned[number])
    # a user whose type 9 secret is no type 9 hash is left out, as IOS refuses the line
    (number,) = line_numbers(text, lambda line: line.startswith("username netops"))
    assert warned[number] == (
        "ignored: username netops secret 9 *****: a type 9 secret looks like $9$SALT$HASH: "
        "the user is not added"
    )
    assert config.local_users == {}
    assert config.access_lists["ACL-SNMP"].standard
    # a route not into a tunnel interface is the host's: said so, not "not supported"
    (number,) = line_numbers(text, lambda line: line.startswith("ip route 0.0.0.0 0.0.0.0"))
    assert "not into a tunnel interface" in warned[number]
    for command in ("ip nat outside", "negotiation auto"):
        for number in line_numbers(text, lambda line, c=command: line == c):
            assert warned[number].startswith("ignored: not supported in interface mode: ")
    for number in line_numbers(text, lambda line: line == "ip tcp adjust-mss 1360"):
        assert "applies it on its tunnel interfaces only" in warned[number]
    # no line outside an interface, transform set, ... is said to be in one
    in_mode = [d for d in config.warnings if " mode: " in d.message]
    assert {d.message.split(": ", 2)[1] for d in in_mode} == {"not supported in interface mode"}
    # nor is anything in the banner or a skipped block's body read or reported
    assert "EVIL" not in config.crypto_maps
    assert "GigabitEthernet9" not in config.interfaces
    for body in ("neighbor 198.51.100.1 activate", "enrollment selfsigned", "transport input ssh"):
        for number in line_numbers(text, lambda line, b=body: line == b):
            assert number not in warned


def test_secrets_of_unused_lines_do_not_show(pasted) -> None:
    _, config = pasted
    shown = "\n".join(str(d) for d in config.diagnostics)
    for secret in ("Sn4mpR34d", "$9$Ex4mple", "Fr4ToAmsKey", "Ams2FraKey"):
        assert secret not in shown


def test_the_tunnel_is_the_same_either_way(pasted) -> None:
    _, config = pasted
    assert config.hostname == "edge-fra-01"
    entry = config.crypto_maps["CM-WAN"][10]
    assert [str(address) for address, _ in entry.peers] == ["203.0.113.40"]
    assert [name for name, _ in entry.transform_sets] == ["TS-GCM"]
    assert entry.ikev2_profile is not None and entry.ikev2_profile[0] == "PROF-BRANCH"
    assert entry.pfs_group == 19 and entry.lifetime_seconds == 3600
    assert entry.match_address is not None and entry.match_address[0] == "ACL-VPN-AMS"
    (selector,) = config.access_lists["ACL-VPN-AMS"].entries
    assert selector.source_net == ipaddress.ip_network("10.20.0.0/16")
    assert selector.destination_net == ipaddress.ip_network("10.40.0.0/16")
    assert config.interfaces["GigabitEthernet1"].crypto_map is not None
    assert [name for name, i in config.interfaces.items() if i.crypto_map] == ["GigabitEthernet1"]
    assert config.interfaces["GigabitEthernet3"].vrf == "Mgmt-intf"
    assert config.replay_window == 128
    (peer,) = config.keyrings["KR-BRANCH"].peers
    assert peer.psk_local is not None and peer.psk_local.reveal() == b"Fr4ToAmsKey"
    profile = config.ikev2_profiles["PROF-BRANCH"]
    assert profile.keyring is not None and profile.dpd is not None
    compiled = compile_config(config)
    (policy,) = compiled.ike.peers
    assert policy.remote_addresses == (ipaddress.ip_network("203.0.113.40/32"),)
    assert policy.local_ts == (ipaddress.ip_network("10.20.0.0/16"),)
    assert policy.remote_ts == (ipaddress.ip_network("10.40.0.0/16"),)


def test_check_accepts_the_pasted_config(tmp_path) -> None:
    path = tmp_path / "edge.conf"
    path.write_text(unindented(RUNNING_CONFIG), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout
    last = result.stdout.splitlines()[-1]
    assert last.startswith(f"{path}: 0 errors, ")
    assert all(": warning: " in line for line in result.stdout.splitlines()[:-1])
    assert Severity.ERROR.value not in result.stdout.replace("0 errors", "")
