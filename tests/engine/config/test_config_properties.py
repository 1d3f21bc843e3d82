"""Property tests: no text makes the parser, the validator, render or the compiler raise.

Problems in a configuration must always come back as diagnostics. Arbitrary text
checks the surface; lines drawn from a vocabulary of real command fragments reach the
sub-modes and the argument parsers behind them.

Characters that are digits to str.isdigit() but not to int() (superscripts, circled
digits: Unicode category No) once crashed three parsers; the tests at the end of this
file keep them as diagnostics.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config.compile import compile_config
from engine.config.diagnostics import Severity
from engine.config.parser import parse_text
from engine.config.render import render
from engine.config.validate import validate

SETTINGS = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

TEXT = st.text(alphabet=st.characters(exclude_categories=("No", "Cs")), max_size=400)


def check(text: str) -> None:
    config = validate(parse_text(text, "p.conf"))
    lines = len(text.splitlines())
    for diagnostic in config.diagnostics:
        assert 1 <= diagnostic.source.line <= lines
        assert diagnostic.source.file == "p.conf"
        assert diagnostic.severity in (Severity.ERROR, Severity.WARNING)
        assert diagnostic.message
    render(config)
    if not config.errors:
        compile_config(config)


@SETTINGS
@given(TEXT)
def test_arbitrary_text_never_raises(text: str) -> None:
    check(text)


@SETTINGS
@given(st.lists(TEXT.map(lambda s: s.replace("\n", " ")), max_size=20).map("\n".join))
def test_arbitrary_lines_never_raise(text: str) -> None:
    check(text)


def words(text: str) -> list[str]:
    return text.split()


KEYWORDS = words(
    """
crypto isakmp ikev2 ipsec map dynamic-map proposal policy keyring profile peer address
description identity fqdn email key-id domain pre-shared-key local remote match fvrf any
authentication pre-share rsa-sig lifetime dpd on-demand periodic ivrf aaa accounting psk
transform-set esp-gcm esp-aes esp-sha256-hmac esp-sha-hmac esp-3des esp-md5-hmac comp-lzs
mode tunnel transport set pfs group19 group2 group14 groupx security-association seconds
kilobytes reverse-route remote-peer ipsec-isakmp dynamic client list ip access-list
extended permit deny remark tcp host interface vrf forwarding definition new-model network
start-stop stop-only broadcast radius update newinfo session-id common server name
auth-port acct-port radius-server key retransmit timeout deadtime vsa send authorization
pool logging trap buffered transport udp port hostname encryption encr integrity prf group
hash keepalive aes-gcm-256 aes-gcm-128 aes-cbc-256 aes-cbc-128 chacha20-poly1305 sha256
sha384 sha512 sha1 md5 3des sha no duplex route ntp line vty con end exit version
configuration respond initiate secondary default ipv6 informational rd rd route-target
address-family exit-address-family cry int desc encr integ gr
"""
)
VALUES = words(
    """
0 1 2 5 6 7 10 14 19 20 21 24 31 99 120 600 3600 86400 86401 65535 70000 -1 4096 64000
10.0.0.1 192.0.2.1 192.0.2.255 10.1.0.0 0.0.0.0 198.51.100.7 2001:db8::1 300.1.1.1 10.0.0
255.255.255.0 255.255.0.0 255.0.255.0 255.255.255.255 0.0.0.255 0.255.0.255 0.0.255.255
A B KR P PROF TS M DYN ACL ACCT CORP INET RAD eth0 101 150 2001 x@example.com example.com
"""
)
TEMPLATES = [
    "crypto ikev2 proposal P",
    "crypto ikev2 policy POL",
    "crypto ikev2 keyring KR",
    "crypto ikev2 profile PROF",
    "crypto ipsec transform-set TS",
    "crypto map M 10 ipsec-isakmp",
    "crypto map M 20 ipsec-isakmp dynamic DYN",
    "crypto map M client accounting list ACCT",
    "crypto dynamic-map DYN 10",
    "crypto isakmp policy 10",
    "crypto isakmp profile V1",
    "crypto isakmp peer address 198.51.100.7",
    "crypto isakmp key",
    "ip access-list extended ACL",
    "access-list 101",
    "interface eth0",
    "ip vrf CORP",
    "vrf definition INET",
    "aaa accounting network ACCT",
    "aaa accounting update",
    "aaa group server radius RAD",
    "radius-server host 192.0.2.1",
    "ip local pool POOL",
    "logging host",
    " peer A",
    " set peer",
    " set transform-set",
    " set security-association lifetime",
    " match identity remote",
    " match address",
    " pre-shared-key",
    " encryption",
    " integrity",
    " prf",
    " group",
    " ip address",
    " server",
    " dpd",
]
WORD = st.sampled_from(KEYWORDS + VALUES) | st.sampled_from(KEYWORDS).map(str.upper)
INDENT = st.sampled_from(["", "", " ", "  ", "\t"])


@st.composite
def vocabulary_line(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(["", *TEMPLATES]))
    words = draw(st.lists(WORD, max_size=7))
    text = " ".join([head.strip(), *words]).strip()
    indent = " " if head.startswith(" ") else draw(INDENT)
    return indent + text


@SETTINGS
@given(st.lists(vocabulary_line(), min_size=1, max_size=40).map("\n".join))
def test_vocabulary_lines_never_raise(text: str) -> None:
    check(text)


VALID_BLOCKS = [
    "crypto ikev2 proposal P\n encryption aes-gcm-256\n prf sha256\n group 19",
    "crypto ikev2 policy POL\n proposal P",
    "crypto ikev2 keyring KR\n peer A\n  address 198.51.100.0 255.255.255.0\n  pre-shared-key k",
    "crypto ikev2 keyring KR\n peer B\n  identity email x@example.com\n  pre-shared-key k",
    "crypto ikev2 profile PROF\n keyring local KR\n dpd 10 2 periodic",
    "crypto ipsec transform-set TS esp-gcm 256",
    "crypto ipsec transform-set TS2 esp-aes esp-sha256-hmac",
    "ip access-list extended ACL\n permit ip 10.0.0.0 0.0.0.255 any",
    "crypto dynamic-map DYN 10\n set transform-set TS\n set ikev2-profile PROF",
    "crypto map M 10 ipsec-isakmp\n set peer 198.51.100.7\n set transform-set TS TS2\n"
    " set ikev2-profile PROF\n match address ACL",
    "crypto map M 20 ipsec-isakmp dynamic DYN",
    "interface eth0\n ip address 192.0.2.1 255.255.255.0\n crypto map M",
    "ip vrf CORP",
    "aaa accounting network ACCT start-stop group radius",
    "radius-server host 192.0.2.20 key k",
]


@SETTINGS
@given(
    st.lists(st.sampled_from(VALID_BLOCKS), min_size=1, max_size=15),
    st.lists(vocabulary_line(), max_size=3),
)
def test_valid_blocks_with_noise_never_raise(blocks: list[str], noise: list[str]) -> None:
    """Mostly valid configurations, so compile_config runs on many of them."""
    check("\n".join(blocks + noise))


# --- the inputs the alphabet above leaves out -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "logging trap ²",
        "logging buffered 4096 ²",
        "crypto ikev2 proposal P\n group ²",
        "crypto map M 10 ipsec-isakmp\n set pfs group²",
        "crypto map M 10 ipsec-isakmp\n set pfs group①",
    ],
)
def test_unicode_digits_become_diagnostics(text: str) -> None:
    config = validate(parse_text(text, "p.conf"))
    assert config.errors


def test_unicode_digits_elsewhere_are_diagnostics() -> None:
    for text in [
        "logging buffered ²",
        "crypto isakmp keepalive 10 ²",
        "crypto isakmp policy ²",
        "access-list ² permit ip any any",
        "crypto map M ² ipsec-isakmp",
    ]:
        config = validate(parse_text(text, "p.conf"))
        assert config.errors, text
