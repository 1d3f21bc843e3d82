"""The IKEv1 family: parsed into the model with a warning that it is not negotiated."""

from __future__ import annotations

import ipaddress

import pytest
from config_snippets import Snippets

from engine.config.compile import compile_config
from engine.config.diagnostics import Severity
from engine.config.validate import validate
from engine.ike.policy import DpdMode

FILE = "v1.conf"
SNIPPETS = Snippets(FILE)
parse, src, at = SNIPPETS.parse, SNIPPETS.src, SNIPPETS.at


def test_isakmp_policy() -> None:
    config = parse("""\
        crypto isakmp policy 10
          encr aes 256
          hash sha256
          authentication pre-share
          group 14
          lifetime 3600
        crypto isakmp policy 20
        """)
    policy = config.isakmp_policies[10]
    assert policy.source == src(1)
    assert (policy.priority, policy.encryption, policy.hash) == (10, "aes-256", "sha256")
    assert (policy.authentication, policy.group, policy.lifetime) == ("pre-share", 14, 3600)
    assert policy.source_of("hash") == src(3) and policy.was_set("lifetime")
    defaults = config.isakmp_policies[20]
    assert (defaults.encryption, defaults.authentication, defaults.group) == ("des", "rsa-sig", 1)
    assert not defaults.was_set("encryption") and defaults.source_of("encryption") == src(7)
    assert at(config, 1) == []
    assert at(config, 7) == []
    assert config.errors == []
    assert all(d.severity is Severity.WARNING for d in config.diagnostics)


def test_isakmp_policy_unindented_body() -> None:
    config = parse("crypto isakmp policy 1\nencr aes\nauthentication pre-share\ngroup 2\n")
    policy = config.isakmp_policies[1]
    assert (policy.encryption, policy.authentication, policy.group) == (
        "aes-128",
        "pre-share",
        2,
    )


@pytest.mark.parametrize(
    ("line", "normalized"),
    [
        ("encryption des", "des"),
        ("encr 3des", "3des"),
        ("encryption aes", "aes-128"),
        ("encryption aes 128", "aes-128"),
        ("encr aes 192", "aes-192"),
        ("encryption aes 256", "aes-256"),
    ],
)
def test_isakmp_policy_encryption_is_normalized(line: str, normalized: str) -> None:
    config = parse(f"crypto isakmp policy 1\n {line}\n")
    assert config.isakmp_policies[1].encryption == normalized
    assert config.errors == []


@pytest.mark.parametrize("group", [1, 2, 5, 14, 15, 16, 19, 20, 21, 24])
def test_isakmp_policy_groups(group: int) -> None:
    config = parse(f"crypto isakmp policy 1\n group {group}\n")
    assert config.isakmp_policies[1].group == group
    assert config.errors == []


def test_isakmp_policy_des_and_rsa_are_warned_at_check_time() -> None:
    config = validate(
        parse("""\
            crypto isakmp policy 1
             encryption des
             authentication rsa-sig
             group 14
            crypto isakmp policy 2
             authentication rsa-encr
            crypto isakmp policy 3
             encryption aes
             authentication pre-share
            crypto isakmp policy 4
             authentication pre-share
            """)
    )
    assert config.errors == []
    not_negotiated = "is not negotiated by this gateway (not supported)"
    assert at(config, 2) == [f"crypto isakmp policy 1: encryption des {not_negotiated}"]
    assert at(config, 3) == [f"crypto isakmp policy 1: authentication rsa-sig {not_negotiated}"]
    assert at(config, 6) == [f"crypto isakmp policy 2: authentication rsa-encr {not_negotiated}"]
    assert f"crypto isakmp policy 2: encryption des {not_negotiated} (IOS's default)" in at(
        config, 5
    )
    assert at(config, 8) == [] and at(config, 9) == []
    assert at(config, 10) == [
        f"crypto isakmp policy 4: encryption des {not_negotiated} (IOS's default)",
    ]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" group 25", "group 25 is outside 1-24"),
        (" group 3", "group 3 is not an IKEv1 group"),
        (" encryption aes 512", "aes key size must be one of 128, 192, 256"),
        (" encryption blowfish", "'blowfish' is not one of: des, 3des, aes"),
        (" authentication token", "'token' is not one of"),
        (" hash whirlpool", "'whirlpool' is not one of"),
        (" lifetime 59", "lifetime 59 is outside"),
    ],
)
def test_isakmp_policy_bad_arguments(line: str, needle: str) -> None:
    config = parse(f"crypto isakmp policy 1\n{line}\n")
    errors = at(config, 2, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors


def test_isakmp_policy_bad_priority() -> None:
    config = parse("crypto isakmp policy 0\n")
    assert at(config, 1, Severity.ERROR) == ["policy priority 0 is outside 1-10000"]
    assert config.isakmp_policies == {}


def test_isakmp_keys() -> None:
    config = parse("""\
        crypto isakmp key V1KeyOne address 172.31.100.2
        crypto isakmp key 0 V1KeyTwo address 10.0.0.0 255.0.0.0 no-xauth
        crypto isakmp key V1KeyThree address 10.1.1.1 no-xauth
        """)
    keys = [(k.key.reveal(), k.address, k.no_xauth, k.source.line) for k in config.isakmp_keys]
    assert keys == [
        (b"V1KeyOne", ipaddress.ip_network("172.31.100.2/32"), False, 1),
        (b"V1KeyTwo", ipaddress.ip_network("10.0.0.0/8"), True, 2),
        (b"V1KeyThree", ipaddress.ip_network("10.1.1.1/32"), True, 3),
    ]
    for line in (1, 2, 3):
        assert at(config, line) == []


def test_isakmp_key_hostname() -> None:
    config = parse("""\
        crypto isakmp key V1Key hostname peer.example.net
        crypto isakmp key 0 V1Key2 hostname spoke-7.example.net no-xauth
        """)
    assert config.errors == []
    keys = [(k.key.reveal(), k.hostname, k.address, k.no_xauth) for k in config.isakmp_keys]
    assert keys == [
        (b"V1Key", "peer.example.net", None, False),
        (b"V1Key2", "spoke-7.example.net", None, True),
    ]
    assert at(config, 1) == []


def test_isakmp_key_bad_hostname_shows_the_name_not_the_key() -> None:
    config = parse("crypto isakmp key V1Key hostname bad_host!name\n")
    (error,) = at(config, 1, Severity.ERROR)
    assert error == "bad peer host name 'bad_host!name'"
    assert "V1Key" not in repr(config)


def test_isakmp_key_bad_address() -> None:
    config = parse("crypto isakmp key V1Key address 172.31.100.300\n")
    assert at(config, 1, Severity.ERROR) == ["bad peer address '172.31.100.300'"]


def test_isakmp_profile() -> None:
    config = parse("""\
        crypto isakmp profile RA-PROF
          vrf CORP
          match identity group staff
          client authentication list AUTH-L
          isakmp authorization list AUTHZ-L
          client configuration address respond
          accounting ACCT
          keyring default
        """)
    profile = config.isakmp_profiles["RA-PROF"]
    assert profile.source == src(1)
    assert profile.vrf == "CORP"
    assert profile.groups == ["staff"]
    assert profile.client_authentication_list == ("AUTH-L", src(4))
    assert profile.isakmp_authorization_list == ("AUTHZ-L", src(5))
    assert profile.client_configuration_address == "respond"
    assert profile.accounting == ("ACCT", src(7))
    assert profile.keyrings == [("default", src(8))]
    assert at(config, 1) == []
    assert config.errors == []


def test_isakmp_profile_every_command() -> None:
    config = parse("""\
        crypto isakmp profile FULL
          description Remote access, staff and partners
          vrf CORP
          match identity address 198.51.100.0 255.255.255.0 CORP
          match identity address 203.0.113.7
          match identity group staff
          match identity host spoke1.example.net
          match identity host domain example.org
          match identity user alice@example.net
          match identity user domain example.com
          keyring KR1
          keyring default
          self-identity user-fqdn gw@example.net
          local-address GigabitEthernet 0/1
          client authentication list AUTH-L
          isakmp authorization list AUTHZ-L
          client configuration address initiate
          accounting ACCT
          keepalive 20 retry 4
          initiate mode aggressive
        """)
    assert config.errors == [], [str(d) for d in config.errors]
    profile = config.isakmp_profiles["FULL"]
    assert profile.description == "Remote access, staff and partners"
    matches = [(m.kind, m.value, m.network, m.vrf, m.source.line) for m in profile.matches]
    assert matches == [
        ("address", "198.51.100.0/24", ipaddress.ip_network("198.51.100.0/24"), "CORP", 4),
        ("address", "203.0.113.7/32", ipaddress.ip_network("203.0.113.7/32"), None, 5),
        ("group", "staff", None, None, 6),
        ("host", "spoke1.example.net", None, None, 7),
        ("host-domain", "example.org", None, None, 8),
        ("user", "alice@example.net", None, None, 9),
        ("user-domain", "example.com", None, None, 10),
    ]
    assert profile.keyrings == [("KR1", src(11)), ("default", src(12))]
    assert profile.self_identity == ("user-fqdn", "gw@example.net")
    assert profile.local_address == ("GigabitEthernet0/1", src(14))
    assert profile.client_configuration_address == "initiate"
    assert profile.keepalive == (20, 4)
    assert profile.initiate_aggressive


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("self-identity address", ("address", "")),
        ("self-identity fqdn", ("fqdn", "")),
        ("self-identity fqdn gw.example.net", ("fqdn", "gw.example.net")),
    ],
)
def test_isakmp_profile_self_identity(line: str, expected: tuple[str, str]) -> None:
    config = parse(f"crypto isakmp profile P\n {line}\n")
    assert config.isakmp_profiles["P"].self_identity == expected
    assert config.errors == []


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" keepalive 20 4", "'4' is not one of: retry"),
        (" keepalive 5 retry 2", "keepalive interval 5 is outside 10-3600"),
        (" initiate mode main", "'main' is not one of: aggressive"),
        (" match identity host", "missing host to match"),
        (" client configuration address both", "'both' is not one of: respond, initiate"),
        (" match identity address 10.0.0.300", "bad identity address '10.0.0.300'"),
    ],
)
def test_isakmp_profile_bad_lines(line: str, needle: str) -> None:
    config = parse(f"crypto isakmp profile P\n{line}\n")
    errors = at(config, 2, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors


def test_isakmp_profile_initiate_and_address_match() -> None:
    config = parse("""\
        crypto isakmp profile L2L
        match identity address 198.51.100.1 255.255.255.255
        client configuration address initiate
        """)
    profile = config.isakmp_profiles["L2L"]
    assert profile.groups == []
    assert [m.network for m in profile.matches] == [ipaddress.ip_network("198.51.100.1/32")]
    assert profile.client_configuration_address == "initiate"
    assert config.errors == []


def test_isakmp_keepalive() -> None:
    config = parse("crypto isakmp keepalive 20 5 periodic\n")
    assert config.isakmp_keepalive == (20, 5, DpdMode.PERIODIC)
    assert at(config, 1) == []
    assert parse("crypto isakmp keepalive 30\n").isakmp_keepalive == (30, 2, DpdMode.ON_DEMAND)
    assert parse("crypto isakmp keepalive 30 on-demand\n").isakmp_keepalive == (
        30,
        2,
        DpdMode.ON_DEMAND,
    )


def test_isakmp_global_switches() -> None:
    config = parse("""\
        crypto isakmp nat keepalive 20
        crypto isakmp identity hostname
        crypto isakmp aggressive-mode disable
        crypto isakmp invalid-spi-recovery
        """)
    assert config.diagnostics == []
    assert config.isakmp_nat_keepalive == 20
    assert config.isakmp_identity == "hostname"
    assert not config.isakmp_aggressive_mode
    assert config.isakmp_invalid_spi_recovery
    defaults = parse("hostname gw\n")
    assert (defaults.isakmp_identity, defaults.isakmp_aggressive_mode) == ("address", True)
    assert defaults.isakmp_nat_keepalive is None


def test_ikev1_config_validates_with_warnings_only() -> None:
    config = validate(
        parse("""\
            aaa new-model
            aaa accounting network ACCT start-stop group radius
            radius-server host 192.0.2.20 key RadKey
            crypto isakmp policy 1
             encr aes
             authentication pre-share
             group 14
            crypto isakmp key V1Key address 172.31.100.2
            crypto isakmp profile RA
             accounting ACCT
            crypto ipsec transform-set TS esp-aes esp-sha-hmac
            crypto map V1 10 ipsec-isakmp
             set peer 172.31.100.2
             set transform-set TS
             set isakmp-profile RA
            """)
    )
    assert config.errors == []
    # an IKEv1 entry with its key: nothing to warn about, it is negotiated
    assert at(config, 12, Severity.WARNING) == []
    assert compile_config(config).ike.peers[0].ike_version == 1
