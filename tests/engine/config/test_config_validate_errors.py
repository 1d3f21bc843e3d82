"""One test per error class: the exact line, and a message that names the problem.

Each test starts from a configuration that validates clean (`GOOD`), changes one
thing, and expects exactly one new error at the line of that change.
"""

from __future__ import annotations

import pytest

from engine.config.diagnostics import Severity, Source
from engine.config.parser import parse_text
from engine.config.validate import validate

FILE = "v.conf"

GOOD = """\
hostname hub
aaa new-model
aaa accounting network ACCT start-stop group radius
aaa accounting network ACCT-GRP start-stop group RAD-GRP
aaa group server radius RAD-GRP
 server 192.0.2.20 auth-port 1812 acct-port 1813
radius-server host 192.0.2.20 auth-port 1812 acct-port 1813 key RadiusKey1
ip vrf INET
ip vrf CORP
crypto isakmp peer address 198.51.100.7
 description Branch seven
crypto ikev2 proposal PROP
 encryption aes-gcm-256
 prf sha256
 group 19
crypto ikev2 policy POL
 proposal PROP
 match fvrf INET
crypto ikev2 keyring KR
 peer branch7
  address 198.51.100.7
  pre-shared-key Branch7Key
crypto ikev2 profile PROF
 match identity remote address 198.51.100.7 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
 ivrf CORP
 match fvrf INET
 aaa accounting psk ACCT
crypto ipsec transform-set TS esp-gcm 256
 mode tunnel
ip access-list extended ACL
 permit ip 10.1.0.0 0.0.255.255 10.7.0.0 0.0.255.255
crypto dynamic-map DYN 10
 set transform-set TS
 set ikev2-profile PROF
crypto map VPN 10 ipsec-isakmp
 set peer 198.51.100.7
 set transform-set TS
 set ikev2-profile PROF
 set pfs group19
 match address ACL
crypto map VPN 20 ipsec-isakmp dynamic DYN
crypto map VPN client accounting list ACCT-GRP
interface eth0
 vrf forwarding INET
 ip address 192.0.2.1 255.255.255.0
 crypto map VPN
"""
LINES = GOOD.splitlines()


def line_of(text: str, start: int = 1) -> int:
    """The 1-based number of the first line equal to `text` (stripped) from `start` on."""
    for number, line in enumerate(LINES[start - 1 :], start=start):
        if line.strip() == text:
            return number
    raise AssertionError(f"{text!r} is not in GOOD")


def with_change(old: str, new: str, after: str | None = None) -> tuple[object, int]:
    """GOOD with line `old` (the first after line `after`) replaced by `new` (validated),
    and that line's number."""
    number = line_of(old, line_of(after) if after else 1)
    lines = list(LINES)
    indent = lines[number - 1][: len(lines[number - 1]) - len(lines[number - 1].lstrip())]
    lines[number - 1] = indent + new if new else "!"
    return validate(parse_text("\n".join(lines) + "\n", FILE)), number


def only_error(config) -> tuple[int, str]:
    errors = config.errors
    assert len(errors) == 1, [str(d) for d in config.diagnostics]
    return errors[0].source.line, errors[0].message


def test_good_config_is_clean() -> None:
    config = validate(parse_text(GOOD, FILE))
    assert config.diagnostics == []


# --- references to objects that do not exist ------------------------------------------


def test_missing_transform_set() -> None:
    config, number = with_change(
        "set transform-set TS", "set transform-set TS TS9", after="crypto map VPN 10 ipsec-isakmp"
    )
    assert number > line_of("crypto map VPN 10 ipsec-isakmp")
    assert only_error(config) == (number, "transform-set TS9 does not exist")


def test_missing_transform_set_in_dynamic_map() -> None:
    lines = list(LINES)
    number = line_of("crypto dynamic-map DYN 10") + 1
    lines[number - 1] = " set transform-set NOPE"
    config = validate(parse_text("\n".join(lines) + "\n", FILE))
    assert only_error(config) == (number, "transform-set NOPE does not exist")


def test_missing_ikev2_profile() -> None:
    config, number = with_change("set pfs group19", "set ikev2-profile NOPROF")
    assert only_error(config) == (number, "ikev2 profile NOPROF does not exist")


def test_missing_keyring() -> None:
    config, number = with_change("keyring local KR", "keyring local KR9")
    assert only_error(config) == (number, "keyring KR9 does not exist")


def test_missing_access_list() -> None:
    config, number = with_change("match address ACL", "match address 199")
    assert only_error(config) == (number, "access list 199 does not exist")


def test_missing_accounting_list_in_profile() -> None:
    config, number = with_change("aaa accounting psk ACCT", "aaa accounting psk NOACCT")
    line, message = only_error(config)
    assert line == number
    assert message.startswith("accounting list NOACCT does not exist")


def test_missing_accounting_list_in_crypto_map_client_accounting() -> None:
    config, number = with_change(
        "crypto map VPN client accounting list ACCT-GRP", "crypto map VPN client accounting list X"
    )
    line, message = only_error(config)
    assert (line, message.split(" (")[0]) == (number, "accounting list X does not exist")


def test_missing_accounting_list_in_isakmp_profile() -> None:
    text = GOOD + "crypto isakmp profile V1\n accounting GONE\n"
    config = validate(parse_text(text, FILE))
    line, message = only_error(config)
    assert line == len(LINES) + 2
    assert message.startswith("accounting list GONE does not exist")


def test_client_accounting_for_a_missing_crypto_map() -> None:
    config, number = with_change(
        "crypto map VPN client accounting list ACCT-GRP",
        "crypto map OTHER client accounting list ACCT-GRP",
    )
    assert only_error(config) == (number, "crypto map OTHER does not exist")


def test_missing_crypto_map_on_interface() -> None:
    config, number = with_change("crypto map VPN", "crypto map VPN2")
    assert number > line_of("interface eth0")
    assert only_error(config) == (number, "crypto map VPN2 does not exist")


def test_missing_dynamic_map() -> None:
    config, number = with_change(
        "crypto map VPN 20 ipsec-isakmp dynamic DYN", "crypto map VPN 20 ipsec-isakmp dynamic DYN2"
    )
    assert only_error(config) == (number, "dynamic map DYN2 does not exist")


def test_missing_ikev2_proposal_in_policy() -> None:
    config, number = with_change("proposal PROP", "proposal PROP2")
    assert only_error(config) == (number, "ikev2 proposal PROP2 does not exist")


def test_missing_isakmp_profile() -> None:
    config, number = with_change("set pfs group19", "set isakmp-profile V1PROF")
    assert only_error(config) == (number, "isakmp profile V1PROF does not exist")


def test_missing_server_group() -> None:
    config, number = with_change(
        "aaa accounting network ACCT-GRP start-stop group RAD-GRP",
        "aaa accounting network ACCT-GRP start-stop group RAD-NONE",
    )
    assert only_error(config) == (number, "server group RAD-NONE does not exist")


def test_missing_vrf_names_the_vrf() -> None:
    for old, new in [
        ("vrf forwarding INET", "vrf forwarding MISSING"),
        ("ivrf CORP", "ivrf MISSING"),
        ("match fvrf INET", "match fvrf MISSING"),
    ]:
        config, _ = with_change(old, new)
        _, message = only_error(config)
        assert message == "VRF MISSING is not defined (ip vrf / vrf definition)"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("vrf forwarding INET", "vrf forwarding MISSING"),
        ("ivrf CORP", "ivrf MISSING"),
        ("match fvrf INET", "match fvrf MISSING"),
    ],
)
def test_missing_vrf_is_reported_at_the_referencing_line(old: str, new: str) -> None:
    config, number = with_change(old, new)
    assert only_error(config)[0] == number


# --- keys -----------------------------------------------------------------------------


def test_keyring_peer_without_any_key() -> None:
    config, _ = with_change("pre-shared-key Branch7Key", "")
    assert only_error(config) == (
        line_of("peer branch7"),
        "keyring KR peer branch7 has no pre-shared-key",
    )


@pytest.mark.parametrize(("present", "missing"), [("local", "remote"), ("remote", "local")])
def test_keyring_peer_with_one_direction_only(present: str, missing: str) -> None:
    config, _ = with_change("pre-shared-key Branch7Key", f"pre-shared-key {present} K")
    assert only_error(config) == (
        line_of("peer branch7"),
        f"keyring KR peer branch7 has no {missing} pre-shared-key",
    )


def test_keyring_peer_without_address_or_identity() -> None:
    config, _ = with_change("address 198.51.100.7", "")
    errors = {(d.source.line, d.message) for d in config.errors}
    assert (
        line_of("peer branch7"),
        "keyring KR peer branch7 has neither an address nor an identity to match",
    ) in errors
    # and, as a consequence, the crypto map's peer has no key
    assert any("no peer of keyring KR covers 198.51.100.7" in m for _, m in errors)


def test_profile_without_keyring() -> None:
    config, _ = with_change("keyring local KR", "")
    assert only_error(config) == (
        line_of("crypto ikev2 profile PROF"),
        "ikev2 profile PROF has no keyring: no pre-shared key to authenticate with",
    )


def test_radius_host_without_any_key() -> None:
    config, number = with_change(
        "radius-server host 192.0.2.20 auth-port 1812 acct-port 1813 key RadiusKey1",
        "radius-server host 192.0.2.20 auth-port 1812 acct-port 1813",
    )
    assert only_error(config) == (
        number,
        "radius-server host 192.0.2.20 has no key and no radius-server key is set",
    )


def test_radius_host_without_key_is_fine_with_a_global_key() -> None:
    text = GOOD.replace(" key RadiusKey1", "") + "radius-server key GlobalKey\n"
    assert validate(parse_text(text, FILE)).errors == []


# --- proposals and transform-sets -----------------------------------------------------


def test_gcm_proposal_with_integrity() -> None:
    config, _ = with_change("prf sha256", "integrity sha256")
    messages = [(d.source.line, d.message) for d in config.errors]
    proposal = line_of("crypto ikev2 proposal PROP")
    assert (proposal, "ikev2 proposal PROP: AES-GCM takes no integrity algorithm; use prf") in (
        messages
    )
    assert (proposal, "ikev2 proposal PROP: AES-GCM needs a prf") in messages


def test_gcm_proposal_with_integrity_and_prf() -> None:
    text = GOOD.replace(" prf sha256\n", " prf sha256\n integrity sha256\n")
    config = validate(parse_text(text, FILE))
    assert only_error(config) == (
        line_of("crypto ikev2 proposal PROP"),
        "ikev2 proposal PROP: AES-GCM takes no integrity algorithm; use prf",
    )


def test_proposal_without_group() -> None:
    config, _ = with_change("group 19", "")
    assert only_error(config) == (
        line_of("crypto ikev2 proposal PROP"),
        "ikev2 proposal PROP has no usable DH group",
    )


def test_proposal_with_only_a_weak_group_is_valid_with_a_warning() -> None:
    config, number = with_change("group 19", "group 2")
    assert config.errors == []
    assert [(d.source.line, d.message) for d in config.warnings] == [
        (number, "DH group 2 is weak: use group 14, 19, 31 or stronger")
    ]


def test_proposal_without_usable_encryption() -> None:
    config, number = with_change("encryption aes-gcm-256", "encryption des")
    lines = {(d.source.line, d.message) for d in config.errors}
    assert (
        line_of("crypto ikev2 proposal PROP"),
        "ikev2 proposal PROP has no usable encryption",
    ) in (lines)
    assert (number, "encryption des is not offered by this gateway") in {
        (d.source.line, d.message) for d in config.warnings
    }


def test_cbc_proposal_without_integrity() -> None:
    config, _ = with_change("encryption aes-gcm-256", "encryption aes-cbc-256")
    assert only_error(config) == (
        line_of("crypto ikev2 proposal PROP"),
        "ikev2 proposal PROP has no usable integrity algorithm",
    )


def test_gcm_transform_set_with_integrity() -> None:
    config, number = with_change(
        "crypto ipsec transform-set TS esp-gcm 256",
        "crypto ipsec transform-set TS esp-gcm 256 esp-sha256-hmac",
    )
    messages = [(d.source.line, d.message) for d in config.errors]
    assert (number, "transform-set TS: esp-gcm takes no integrity transform") in messages


def test_no_negotiable_transform_set() -> None:
    config, number = with_change(
        "crypto ipsec transform-set TS esp-gcm 256",
        "crypto ipsec transform-set TS esp-des esp-md5-hmac",
    )
    errors = {(d.source.line, d.message) for d in config.errors}
    assert errors == {
        (
            line_of("crypto map VPN 10 ipsec-isakmp"),
            "crypto map VPN 10: none of its transform-sets can be negotiated",
        ),
        (
            line_of("crypto dynamic-map DYN 10"),
            "crypto dynamic-map DYN 10: none of its transform-sets can be negotiated",
        ),
    }
    assert number in [d.source.line for d in config.warnings]


def test_cbc_transform_set_without_integrity_is_not_negotiable() -> None:
    config, _ = with_change(
        "crypto ipsec transform-set TS esp-gcm 256",
        "crypto ipsec transform-set TS esp-aes 256 ah-sha-hmac",
    )
    messages = {(d.source.line, d.message) for d in config.errors}
    assert (
        line_of("crypto map VPN 10 ipsec-isakmp"),
        "crypto map VPN 10: none of its transform-sets can be negotiated",
    ) in messages


# --- crypto map entries ---------------------------------------------------------------


def test_static_entry_without_peer() -> None:
    config, _ = with_change("set peer 198.51.100.7", "")
    assert only_error(config) == (
        line_of("crypto map VPN 10 ipsec-isakmp"),
        "crypto map VPN 10 has no 'set peer'",
    )


def test_static_entry_without_match_address() -> None:
    config, _ = with_change("match address ACL", "")
    assert only_error(config) == (
        line_of("crypto map VPN 10 ipsec-isakmp"),
        "crypto map VPN 10 has no 'match address'",
    )


def test_static_ikev1_entry_without_a_key_for_its_peer_is_warned() -> None:
    config, _ = with_change("set ikev2-profile PROF", "", after="crypto map VPN 10 ipsec-isakmp")
    assert config.errors == []
    assert [(d.source.line, d.message) for d in config.warnings] == [
        (
            line_of("set peer 198.51.100.7"),
            "crypto map VPN 10: no crypto isakmp key or keyring pre-shared-key covers peer "
            "198.51.100.7: its phase 1 fails",
        )
    ]


def test_set_peer_without_a_keyring_peer_is_an_error() -> None:
    config, number = with_change("set peer 198.51.100.7", "set peer 198.51.100.99")
    line, message = only_error(config)
    assert line == number
    assert "198.51.100.99" in message


# --- bad arguments of known commands (parser errors survive validation) ---------------


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("ip address 192.0.2.1 255.255.255.0", "ip address 192.0.2.1 255.0.255.0", "contiguous"),
        ("ip address 192.0.2.1 255.255.255.0", "ip address 192.0.2.999 255.255.255.0", "bad"),
        ("address 198.51.100.7", "address 198.51.100.7 255.255.0.255", "contiguous netmask"),
        (
            "permit ip 10.1.0.0 0.0.255.255 10.7.0.0 0.0.255.255",
            "permit ip 10.1.0.0 0.255.0.255 10.7.0.0 0.0.255.255",
            "contiguous wildcard",
        ),
        ("description Branch seven", "description " + "z" * 81, "81 characters; at most 80"),
        ("set peer 198.51.100.7", "set peer 198.51.100.777", "bad peer address"),
        ("set pfs group19", "set pfs group22", "pfs group22 is not supported"),
        ("encryption aes-gcm-256", "encryption aes-gcm-512", "unknown encryption algorithm"),
    ],
)
def test_bad_arguments_are_errors_naming_the_line(old: str, new: str, needle: str) -> None:
    config, number = with_change(old, new)
    at_line = [d for d in config.errors if d.source.line == number]
    assert len(at_line) == 1 and needle in at_line[0].message, [str(d) for d in config.errors]
    assert at_line[0].source == Source(FILE, number)


def test_warnings_never_count_as_errors() -> None:
    text = GOOD + "ip route 0.0.0.0 0.0.0.0 192.0.2.254\nntp server 192.0.2.123\nline vty 0 4\n"
    config = validate(parse_text(text, FILE))
    assert config.errors == []
    assert [d.severity for d in config.diagnostics] == [Severity.WARNING] * 3


def test_group_radius_without_radius_server_is_a_warning() -> None:
    text = GOOD.replace(
        "radius-server host 192.0.2.20 auth-port 1812 acct-port 1813 key RadiusKey1\n", ""
    )
    config = validate(parse_text(text, FILE))
    assert config.errors == []
    (warning,) = config.warnings
    assert warning.source.line == line_of("aaa accounting network ACCT start-stop group radius")
    assert "no radius-server host is configured" in warning.message


# --- keywords are case-insensitive, names are not -------------------------------------


def test_group_radius_keyword_is_case_insensitive() -> None:
    config, _ = with_change(
        "aaa accounting network ACCT start-stop group radius",
        "aaa accounting network ACCT start-stop group RADIUS",
    )
    assert config.errors == []


def test_match_fvrf_any_keyword_is_case_insensitive() -> None:
    config, _ = with_change("match fvrf INET", "match fvrf ANY")
    assert config.errors == []
