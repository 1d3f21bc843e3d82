"""Whole router configurations shaped like the spec's two examples: warnings only.

The two configurations here are written for this project (own names, addresses and
keys) with the structure of the spec's examples: IKEv1 remote access with an isakmp
profile and an unindented dynamic map, and accounting without isakmp profiles through
`crypto map X client accounting list L`. The spec's own examples are checked too when
the spec file is present next to the repository.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from engine.config.compile import compile_config
from engine.config.diagnostics import Severity, Source
from engine.config.parser import parse_text
from engine.config.validate import validate

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO.parent / "shared" / "seed" / "ipsec-monitoring-accounting-vdm.txt"

REMOTE_ACCESS = """\
version 15.1
service timestamps debug datetime msec
service timestamps log datetime msec
no service password-encryption
!
hostname ewe
!
aaa new-model
!
!
aaa accounting network vpnacct start-stop group radius
aaa accounting update periodic 5
aaa session-id common
aaa authentication login ra-login group radius local
aaa authorization network ra-login local
ip subnet-zero
ip cef
!
username ewe-ops privilege 15 secret 9 $9$plz/kf0e3.dns.$cKvJDd6bXmyaUWdx42dgcRwpdDs0djBEqzjlmMbYEW6
!
no ip domain lookup
ip domain name example.org
ip name-server 198.18.0.53
!
ip vrf tenant
 rd 65001:7
!
crypto isakmp policy 5
  encr aes
  authentication pre-share
  group 14
!
crypto isakmp key Tr0ub4dorKey address 198.18.200.9

crypto-isakmp profile typo-prof
  vrf nowhere
  match identity group nobody
  accounting missing-list
!
crypto isakmp client configuration group roadwarriors
  key Gr0upK3yEwe
  dns 198.18.0.53
  pool ra-pool
  acl 150
!
crypto isakmp profile ra-users
  vrf tenant
  match identity group roadwarriors
  client authentication list ra-login
  isakmp authorization list ra-login
  client configuration address respond
  accounting vpnacct
!
crypto ipsec transform-set ra_ts esp-aes esp-sha-hmac
!
crypto dynamic-map ra-dyn 5
set peer 198.18.200.9
set security-association lifetime seconds 300
set transform-set ra_ts
set isakmp-profile ra-users
reverse-route
!
crypto map outside 20 ipsec-isakmp dynamic ra-dyn
!
voice call carrier capacity active
!
interface Loopback1
ip address 10.44.44.44 255.255.255.0
no ip route-cache
no ip mroute-cache
!
interface GigabitEthernet0/0
ip address 10.3.90.5 255.255.255.0
no ip mroute-cache
load-interval 30
duplex full
!
interface GigabitEthernet0/1
ip address 198.18.210.1 255.255.255.0
no ip mroute-cache
duplex auto
speed auto
crypto map outside
!
no fair-queue
ip default-gateway 10.3.90.1
ip classless
ip route 0.0.0.0 0.0.0.0 10.3.90.1
ip route 10.60.0.0 255.255.0.0 10.3.90.77
ip local pool ra-pool 192.168.77.10 192.168.77.200
no ip http server
!
ip access-list extended ra-traffic
permit ip host 10.44.44.1 host 10.66.0.1
!
access-list 150 permit ip host 10.44.44.44 host 10.66.66.66
!
radius-server host 198.18.5.10 auth-port 1645 acct-port 1646 key R4diusK3yEwe
radius-server retransmit 3
radius-server authorization permit missing Service-Type
radius-server vsa send accounting
call rsvp-sync
!
mgcp profile default
!
dial-peer cor custom
!
gatekeeper
shutdown
!
line con 0
exec-timeout 0 0
exec prompt timestamp
line aux 0
line vty 0 4
  ntp server 198.18.1.123
end
this line is after end and never read
"""

CLIENT_ACCOUNTING = """\
version 15.1
no service password-encryption
!
hostname ram
!
aaa new-model
aaa accounting network ramacct start-stop group radius
aaa accounting update periodic 2
aaa session-id common
ip cef
!
crypto isakmp policy 7
  encr aes
  authentication pre-share
  group 14
!
crypto isakmp key Cl1entK3yRam address 198.18.220.4
!
crypto ipsec transform-set ram_ts esp-aes esp-sha-hmac
!
crypto map uplink client accounting list ramacct
crypto map uplink 10 ipsec-isakmp
  set peer 198.18.220.4
  set security-association lifetime seconds 600
  set transform-set ram_ts
  match address 101
!
voice call carrier capacity active
!
interface Loopback0
  ip address 10.55.55.55 255.255.255.0
  no ip route-cache
!
interface GigabitEthernet0/0
  ip address 10.3.91.5 255.255.255.0
  duplex full
!
interface GigabitEthernet0/2
  ip address 198.18.230.1 255.255.255.0
  no ip mroute-cache
  duplex auto
  speed auto
  crypto map uplink
!
ip classless
ip route 0.0.0.0 0.0.0.0 10.3.91.1
!
ip access-list extended uplink-traffic
  permit ip host 10.55.55.1 host 10.77.0.1
!
access-list 101 permit ip host 10.55.55.55 host 10.77.77.77
!
radius-server host 198.18.5.20 auth-port 1645 acct-port 1646 key Ram5ecretKey
radius-server retransmit 3
radius-server authorization permit missing Service-Type
radius-server vsa send accounting
call rsvp-sync
!
mgcp profile default
!
dial-peer cor custom
!
gatekeeper
  shutdown
!
line con 0
  exec-timeout 0 0
line aux 0
line vty 5 15
!
exception dump 198.18.1.129
ntp clock-period 17208229
ntp server 198.18.1.123
!
end
"""


def line_of(text: str, body: str) -> int:
    for number, line in enumerate(body.splitlines(), start=1):
        if line.strip() == text:
            return number
    raise AssertionError(f"{text!r} not found")


def load(body: str, name: str):
    return validate(parse_text(body, name))


# --- the remote-access router (IKEv1, isakmp profile, unindented dynamic map) ---------


@pytest.fixture(scope="module")
def ewe():
    return load(REMOTE_ACCESS, "ewe.conf")


def test_remote_access_router_has_warnings_only(ewe) -> None:
    assert ewe.errors == [], [str(d) for d in ewe.errors]
    assert ewe.warnings
    assert all(d.source.file == "ewe.conf" for d in ewe.diagnostics)


def test_remote_access_router_crypto_map_on_the_right_interface(ewe) -> None:
    uplink = ewe.interfaces["GigabitEthernet0/1"]
    assert uplink.crypto_map == (
        "outside",
        Source("ewe.conf", line_of("crypto map outside", REMOTE_ACCESS)),
    )
    assert uplink.address == ipaddress.IPv4Interface("198.18.210.1/24")
    assert ewe.interfaces["Loopback1"].crypto_map is None
    assert ewe.interfaces["GigabitEthernet0/0"].crypto_map is None
    assert ewe.interfaces["Loopback1"].address == ipaddress.IPv4Interface("10.44.44.44/24")
    assert ewe.interfaces["GigabitEthernet0/0"].address == ipaddress.IPv4Interface("10.3.90.5/24")


def test_remote_access_router_unindented_dynamic_map(ewe) -> None:
    entry = ewe.dynamic_maps["ra-dyn"][5]
    assert entry.peers == [
        (
            ipaddress.ip_address("198.18.200.9"),
            Source("ewe.conf", line_of("set peer 198.18.200.9", REMOTE_ACCESS)),
        )
    ]
    assert entry.lifetime_seconds == 300
    assert [name for name, _ in entry.transform_sets] == ["ra_ts"]
    assert entry.isakmp_profile is not None and entry.isakmp_profile[0] == "ra-users"
    assert entry.reverse_route
    outside = ewe.crypto_maps["outside"][20]
    assert outside.dynamic_map is not None and outside.dynamic_map[0] == "ra-dyn"


def test_remote_access_router_ikev1_family(ewe) -> None:
    assert ewe.isakmp_policies[5].encryption == "aes-128"
    assert ewe.isakmp_policies[5].group == 14
    assert ewe.isakmp_keys[0].key.reveal() == b"Tr0ub4dorKey"
    profile = ewe.isakmp_profiles["ra-users"]
    assert profile.vrf == "tenant"
    assert profile.groups == ["roadwarriors"]
    assert profile.client_configuration_address == "respond"
    assert profile.accounting is not None and profile.accounting[0] == "vpnacct"
    assert profile.client_authentication_list is not None
    assert profile.client_authentication_list[0] == "ra-login"
    assert ewe.authentication_lists["ra-login"].methods == ("group:radius", "local")
    assert ewe.authorization_lists["ra-login"].methods == ("local",)
    group = ewe.client_groups["roadwarriors"]
    assert group.key.reveal() == b"Gr0upK3yEwe"
    assert group.pool is not None and group.pool[0] == "ra-pool"
    assert group.dns == [ipaddress.ip_address("198.18.0.53")]
    assert group.acl is not None and group.acl[0] == "150"
    assert ewe.local_users["ewe-ops"].privilege == 15
    assert ewe.local_users["ewe-ops"].kind == 9
    assert "typo-prof" not in ewe.isakmp_profiles
    assert ewe.local_pools["ra-pool"].ranges[0].first == ipaddress.ip_address("192.168.77.10")
    assert [e.destination_net for e in ewe.access_lists["150"].entries] == [
        ipaddress.ip_network("10.66.66.66/32")
    ]
    assert ewe.access_lists["ra-traffic"].entries[0].source_net == ipaddress.ip_network(
        "10.44.44.1/32"
    )
    assert ewe.radius_servers[0].key.reveal() == b"R4diusK3yEwe"


def test_remote_access_router_warnings_name_their_lines(ewe) -> None:
    warned = {d.source.line: d.message for d in ewe.warnings}
    for text in [
        "version 15.1",
        "crypto-isakmp profile typo-prof",
        "voice call carrier capacity active",
        "no ip route-cache",
        "duplex auto",
        "ip route 0.0.0.0 0.0.0.0 10.3.90.1",
        "radius-server authorization permit missing Service-Type",
        "mgcp profile default",
        "dial-peer cor custom",
        "gatekeeper",
        "line con 0",
        "line vty 0 4",
    ]:
        number = line_of(text, REMOTE_ACCESS)
        assert number in warned, text
        assert text in warned[number]
    # the typo'd block's indented body is skipped with its header
    assert line_of("accounting missing-list", REMOTE_ACCESS) not in warned
    assert line_of("ntp server 198.18.1.123", REMOTE_ACCESS) not in warned
    # IKEv1 is negotiated: none of its lines is warned about as unsupported
    for number in (
        line_of("crypto isakmp policy 5", REMOTE_ACCESS),
        line_of("crypto isakmp key Tr0ub4dorKey address 198.18.200.9", REMOTE_ACCESS),
        line_of("crypto isakmp profile ra-users", REMOTE_ACCESS),
        line_of("crypto dynamic-map ra-dyn 5", REMOTE_ACCESS),
    ):
        assert all("IKEv1" not in w for w in warned.get(number, [])), warned.get(number)


def test_remote_access_router_compiles_to_ikev1_remote_access(ewe) -> None:
    compiled = compile_config(ewe)
    assert compiled.hostname == "ewe"
    assert compiled.ike.peers and all(p.ike_version == 1 for p in compiled.ike.peers)
    ra = [p.ikev1.remote_access for p in compiled.ike.peers if p.ikev1 and p.ikev1.remote_access]
    assert ra and ra[0].config_mode == "respond" and ra[0].xauth_list


# --- accounting without isakmp profiles ------------------------------------------------


@pytest.fixture(scope="module")
def ram():
    return load(CLIENT_ACCOUNTING, "ram.conf")


def test_client_accounting_router_has_warnings_only(ram) -> None:
    assert ram.errors == [], [str(d) for d in ram.errors]
    assert ram.isakmp_profiles == {}
    assert ram.warnings


def test_client_accounting_router_model(ram) -> None:
    src = lambda text: Source("ram.conf", line_of(text, CLIENT_ACCOUNTING))  # noqa: E731
    assert ram.crypto_map_accounting == {
        "uplink": ("ramacct", src("crypto map uplink client accounting list ramacct"))
    }
    entry = ram.crypto_maps["uplink"][10]
    assert entry.match_address == ("101", src("match address 101"))
    assert entry.peers == [(ipaddress.ip_address("198.18.220.4"), src("set peer 198.18.220.4"))]
    assert entry.lifetime_seconds == 600
    assert ram.interfaces["GigabitEthernet0/2"].crypto_map == ("uplink", src("crypto map uplink"))
    assert ram.interfaces["Loopback0"].crypto_map is None
    assert ram.interfaces["GigabitEthernet0/0"].crypto_map is None
    (acl_entry,) = ram.access_lists["101"].entries
    assert acl_entry.text() == "permit ip host 10.55.55.55 host 10.77.77.77"
    assert ram.accounting_update_minutes == 2
    assert ram.aaa_session_id_common


def test_client_accounting_router_ikev1_entry_compiles(ram) -> None:
    number = line_of("crypto map uplink 10 ipsec-isakmp", CLIENT_ACCOUNTING)
    assert not any(d.source.line == number and "IKEv1" in d.message for d in ram.diagnostics)
    (peer,) = compile_config(ram).ike.peers
    assert peer.ike_version == 1 and peer.child_lifetime == 600


# --- the spec's own examples -----------------------------------------------------------


def spec_examples() -> list[str]:
    """The configurations of the spec: from `version 12.2` to `end`, without fences."""
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    examples = []
    for start, line in enumerate(lines):
        if line.strip() != "version 12.2":
            continue
        body = []
        for text in lines[start:]:
            if text.strip().startswith("```"):
                continue
            body.append(text)
            if text.strip() == "end":
                break
        examples.append("\n".join(body) + "\n")
    return examples


@pytest.mark.skipif(not SPEC.exists(), reason=f"spec file not present: {SPEC}")
def test_spec_examples_check_with_zero_errors() -> None:
    examples = spec_examples()
    assert len(examples) == 2
    for number, body in enumerate(examples, start=1):
        assert body.rstrip().endswith("end")
        config = load(body, f"spec-example-{number}.conf")
        assert config.errors == [], [str(d) for d in config.errors]
        assert config.warnings
        interface = config.interfaces["FastEthernet1/1"]
        assert interface.crypto_map is not None and interface.crypto_map[0] == "test"
        assert all(
            config.interfaces[name].crypto_map is None
            for name in ("Loopback0", "FastEthernet0/0", "FastEthernet1/0")
        )


def _spec_line(body: str, text: str) -> int:
    (number,) = [n for n, line in enumerate(body.splitlines(), 1) if line.strip() == text]
    return number


def _unread(config, number: int) -> list[str]:
    """What was said of a line that did not land in the model."""
    return [
        d.message
        for d in config.diagnostics
        if d.source.line == number and ("ignored" in d.message or d.severity is Severity.ERROR)
    ]


#: the lines of the spec's examples that configure IKEv1 and remote access
SPEC_REMOTE_ACCESS = (
    "aaa new-model",
    "aaa accounting network ipsecaaa start-stop group radius",
    "aaa accounting update periodic 1",
    "aaa session-id common",
    "crypto isakmp policy 1",
    "encr aes",
    "authentication pre-share",
    "group 14",
    "crypto isakmp key cisco address 172.31.100.2",
    "crypto ipsec transform-set my_transform_set esp-aes esp-sha-hmac",
    "set peer 172.31.100.2",
    "set security-association lifetime seconds 120",
    "set transform-set my_transform_set",
    "crypto map test",
    "radius-server host 172.27.162.206 auth-port 1645 acct-port 1646 key cisco123",
    "radius-server retransmit 3",
    "radius-server vsa send accounting",
)


def _check_common_ikev1(config, body: str) -> None:
    for text in SPEC_REMOTE_ACCESS:
        assert _unread(config, _spec_line(body, text)) == [], text
    policy = config.isakmp_policies[1]
    assert (policy.encryption, policy.authentication, policy.group) == ("aes-128", "pre-share", 14)
    (key,) = config.isakmp_keys
    assert key.key.reveal() == b"cisco"
    assert key.address == ipaddress.ip_network("172.31.100.2/32")
    assert not key.no_xauth
    assert config.transform_sets["my_transform_set"].transforms == ["esp-aes", "esp-sha-hmac"]
    assert config.accounting_lists["ipsecaaa"].mode == "start-stop"
    assert config.radius_servers[0].key.reveal() == b"cisco123"
    assert config.radius.vsa_send_accounting


@pytest.mark.skipif(not SPEC.exists(), reason=f"spec file not present: {SPEC}")
def test_spec_isakmp_profile_example_lands_in_the_model() -> None:
    """The spec writes `crypto-isakmp profile groupA`: a router refuses that line, and so
    does the parser (with the block under it), pointing at what was meant."""
    body = spec_examples()[0]
    config = load(body, "spec-example-1.conf")
    _check_common_ikev1(config, body)
    typo = _spec_line(body, "crypto-isakmp profile groupA")
    assert [d.message for d in config.diagnostics if d.source.line == typo] == [
        "ignored: not supported: crypto-isakmp profile groupA "
        "(did you mean 'crypto isakmp profile'?)"
    ]
    assert config.isakmp_profiles == {}
    entry = config.dynamic_maps["remotes"][1]
    assert entry.peers[0][0] == ipaddress.ip_address("172.31.100.2")
    assert (entry.lifetime_seconds, entry.reverse_route) == (120, True)
    assert [n for n, _ in entry.transform_sets] == ["my_transform_set"]
    assert config.crypto_maps["test"][10].dynamic_map[0] == "remotes"
    (pool_range,) = config.local_pools["addressA"].ranges
    assert (str(pool_range.first), str(pool_range.last)) == ("192.168.1.1", "192.168.1.253")
    assert pool_range.size == 253


@pytest.mark.skipif(not SPEC.exists(), reason=f"spec file not present: {SPEC}")
def test_spec_isakmp_profile_example_with_its_typo_mended() -> None:
    """Read as meant, every line of the profile lands in it; and check names what the
    example leaves undefined (its lists, VRF and accounting list are not configured)."""
    body = spec_examples()[0].replace("crypto-isakmp profile", "crypto isakmp profile")
    config = load(body, "spec-example-1.conf")
    _check_common_ikev1(config, body)
    profile = config.isakmp_profiles["groupA"]
    assert profile.vrf == "cisco"
    assert profile.groups == ["cclient"]
    assert profile.client_authentication_list[0] == "cisco-client"
    assert profile.isakmp_authorization_list[0] == "cisco-client"
    assert profile.client_configuration_address == "respond"
    assert profile.accounting[0] == "acc"
    for text in (
        "vrf cisco",
        "match identity group cclient",
        "client configuration address respond",
    ):
        assert _unread(config, _spec_line(body, text)) == [], text
    errors = {(d.source.line, d.message) for d in config.errors}
    assert errors == {
        (
            _spec_line(body, "client authentication list cisco-client"),
            "authentication list cisco-client does not exist "
            "(aaa authentication login cisco-client ...)",
        ),
        (
            _spec_line(body, "isakmp authorization list cisco-client"),
            "authorization list cisco-client does not exist "
            "(aaa authorization network cisco-client ...)",
        ),
        (
            _spec_line(body, "accounting acc"),
            "accounting list acc does not exist (aaa accounting network acc ...)",
        ),
    }


@pytest.mark.skipif(not SPEC.exists(), reason=f"spec file not present: {SPEC}")
def test_spec_example_without_isakmp_profiles_lands_in_the_model() -> None:
    body = spec_examples()[1]
    config = load(body, "spec-example-2.conf")
    _check_common_ikev1(config, body)
    for text in ("crypto map test client accounting list ipsecaaa", "match address 101"):
        assert _unread(config, _spec_line(body, text)) == [], text
    assert config.crypto_map_accounting["test"][0] == "ipsecaaa"
    entry = config.crypto_maps["test"][10]
    assert entry.match_address[0] == "101"
    assert entry.lifetime_seconds == 120
    assert config.isakmp_profiles == {} and config.crypto_map_clients == {}
