"""The IKEv1 family: parsed into the model with a warning that it is not negotiated."""

from __future__ import annotations

import ipaddress

import pytest
from config_snippets import Snippets

from engine.config.diagnostics import Severity
from engine.config.validate import validate

FILE = "v1.conf"
SNIPPETS = Snippets(FILE)
parse, src, at = SNIPPETS.parse, SNIPPETS.src, SNIPPETS.at
NOTE = "IKEv1 is parsed but not negotiated yet"


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
    assert (policy.priority, policy.encryption, policy.hash) == (10, "aes 256", "sha256")
    assert (policy.authentication, policy.group, policy.lifetime) == ("pre-share", 14, 3600)
    defaults = config.isakmp_policies[20]
    assert (defaults.encryption, defaults.authentication, defaults.group) == ("des", "rsa-sig", 1)
    assert at(config, 1) == [f"crypto isakmp policy 10: {NOTE}"]
    assert at(config, 7) == [f"crypto isakmp policy 20: {NOTE}"]
    assert config.errors == []
    assert all(d.severity is Severity.WARNING for d in config.diagnostics)


def test_isakmp_policy_unindented_body() -> None:
    config = parse("crypto isakmp policy 1\nencr aes\nauthentication pre-share\ngroup 2\n")
    policy = config.isakmp_policies[1]
    assert (policy.encryption, policy.authentication, policy.group) == ("aes", "pre-share", 2)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" group 25", "group 25 is outside 1-24"),
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
    keys = [(k.key.reveal(), k.address, k.source.line) for k in config.isakmp_keys]
    assert keys == [
        (b"V1KeyOne", ipaddress.ip_network("172.31.100.2/32"), 1),
        (b"V1KeyTwo", ipaddress.ip_network("10.0.0.0/8"), 2),
        (b"V1KeyThree", ipaddress.ip_network("10.1.1.1/32"), 3),
    ]
    for line in (1, 2, 3):
        assert at(config, line) == [f"crypto isakmp key: {NOTE}"]


def test_isakmp_key_hostname_is_a_warning() -> None:
    config = parse("crypto isakmp key V1Key hostname peer.example.net\n")
    assert config.errors == []
    assert config.isakmp_keys == []
    assert "hostname is not supported" in at(config, 1, Severity.WARNING)[0]


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
    assert profile.match_identity_group == "staff"
    assert profile.client_authentication_list == "AUTH-L"
    assert profile.isakmp_authorization_list == "AUTHZ-L"
    assert profile.client_configuration_address == "respond"
    assert profile.accounting == ("ACCT", src(7))
    assert at(config, 1) == [f"crypto isakmp profile RA-PROF: {NOTE}"]
    assert config.errors == []


def test_isakmp_profile_initiate_and_address_match() -> None:
    config = parse("""\
        crypto isakmp profile L2L
        match identity address 198.51.100.1 255.255.255.255
        client configuration address initiate
        """)
    profile = config.isakmp_profiles["L2L"]
    assert profile.match_identity_group is None
    assert profile.client_configuration_address == "initiate"
    assert config.errors == []


def test_isakmp_keepalive() -> None:
    config = parse("crypto isakmp keepalive 20 5 periodic\n")
    assert config.isakmp_keepalive == (20, 5)
    assert at(config, 1) == [f"crypto isakmp keepalive: {NOTE}"]
    assert parse("crypto isakmp keepalive 30\n").isakmp_keepalive == (30, 2)


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
    assert at(config, 12, Severity.WARNING) == [
        "crypto map V1 10 has no ikev2-profile: an IKEv1 entry, parsed but not negotiated yet"
    ]
