"""`crypto ikev2 proposal | policy | keyring | profile` and `crypto isakmp peer`."""

from __future__ import annotations

import ipaddress

import pytest
from config_snippets import Snippets

from engine.config.diagnostics import Severity
from engine.config.parser import parse_text
from engine.config.validate import validate
from engine.crypto.algorithms import IntegId, PrfId
from engine.ike.policy import (
    AES_CBC_128,
    AES_CBC_256,
    AES_GCM_128,
    AES_GCM_256,
    TRIPLE_DES,
    DpdMode,
    EncrId,
    EncryptionChoice,
    Identity,
    IdentityKind,
)

FILE = "ikev2.conf"
SNIPPETS = Snippets(FILE)
parse, src, at = SNIPPETS.parse, SNIPPETS.src, SNIPPETS.at


def test_isakmp_peer_description() -> None:
    config = parse("""\
        crypto isakmp peer address 203.0.113.5
         description Head end  (primary)
        """)
    peer = config.isakmp_peers["203.0.113.5"]
    assert peer.address == ipaddress.ip_address("203.0.113.5")
    assert peer.description == "Head end  (primary)"
    assert peer.source == src(1)
    assert config.diagnostics == []


def test_isakmp_peer_description_of_80_characters_is_fine() -> None:
    text = "x" * 80
    config = parse(f"crypto isakmp peer address 203.0.113.5\n description {text}\n")
    assert config.isakmp_peers["203.0.113.5"].description == text
    assert config.diagnostics == []


def test_isakmp_peer_description_of_81_characters_is_an_error_on_its_line() -> None:
    config = parse(f"crypto isakmp peer address 203.0.113.5\n description {'y' * 81}\n")
    assert config.isakmp_peers["203.0.113.5"].description == ""
    (error,) = config.errors
    assert error.source == src(2)
    assert error.message == "description is 81 characters; at most 80"


def test_isakmp_peer_bad_address() -> None:
    config = parse("crypto isakmp peer address 203.0.113.500\n")
    (error,) = config.errors
    assert error.source == src(1)
    assert "bad peer address '203.0.113.500'" in error.message


def test_isakmp_peer_set_lines_are_warnings() -> None:
    config = parse(
        "crypto isakmp peer address 203.0.113.5\n set aggressive-mode client-endpoint x\n"
    )
    assert at(config, 2, Severity.WARNING)
    assert config.errors == []


# --- crypto ikev2 proposal ------------------------------------------------------------


def test_gcm_proposal() -> None:
    config = parse("""\
        crypto ikev2 proposal PROP-GCM
         encryption aes-gcm-256 aes-gcm-128
         prf sha384 sha256 sha512
         group 31 19 20 21 14
        """)
    proposal = config.ikev2_proposals["PROP-GCM"]
    assert proposal.source == src(1)
    assert proposal.encryptions == [AES_GCM_256, AES_GCM_128]
    assert proposal.prfs == [PrfId.HMAC_SHA2_384, PrfId.HMAC_SHA2_256, PrfId.HMAC_SHA2_512]
    assert proposal.integrities == []
    assert proposal.groups == [31, 19, 20, 21, 14]
    assert validate(config).diagnostics == []


def test_cbc_proposal_with_abbreviations_and_capitals() -> None:
    config = parse("""\
        Crypto Ikev2 Proposal PROP-CBC
         encr AES-CBC-256 aes-cbc-128
         integ sha256 SHA384 sha512
         gr 14
        """)
    proposal = config.ikev2_proposals["PROP-CBC"]
    assert proposal.encryptions == [AES_CBC_256, AES_CBC_128]
    assert proposal.integrities == [
        IntegId.HMAC_SHA2_256_128,
        IntegId.HMAC_SHA2_384_192,
        IntegId.HMAC_SHA2_512_256,
    ]
    assert proposal.groups == [14]
    assert validate(config).diagnostics == []


def test_proposal_lines_accumulate() -> None:
    config = parse("""\
        crypto ikev2 proposal P
         encryption aes-gcm-256
         encryption aes-gcm-128
         prf sha256
         group 19
         group 20
        """)
    proposal = config.ikev2_proposals["P"]
    assert proposal.encryptions == [AES_GCM_256, AES_GCM_128]
    assert proposal.groups == [19, 20]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" encryption des aes-cbc-256", "encryption des is not offered by this gateway"),
    ],
)
def test_unsupported_algorithms_are_warnings_on_their_line(line: str, needle: str) -> None:
    config = parse(f"crypto ikev2 proposal P\n{line}\n")
    assert config.errors == []
    assert at(config, 2, Severity.WARNING) == [needle]
    proposal = config.ikev2_proposals["P"]
    assert len(proposal.encryptions + proposal.integrities) + len(proposal.groups) == 1


@pytest.mark.parametrize(
    ("line", "needle", "field", "value"),
    [
        (
            " encryption aes-cbc-256 3des",
            "encryption 3des is weak: use aes-cbc-128, aes-gcm-128 or stronger",
            "encryptions",
            [AES_CBC_256, TRIPLE_DES],
        ),
        (
            " integrity sha1 sha256",
            "integrity sha1 is weak: use sha256 or stronger",
            "integrities",
            [IntegId.HMAC_SHA1_96, IntegId.HMAC_SHA2_256_128],
        ),
        (
            " integrity MD5",
            "integrity md5 is weak: use sha256 or stronger",
            "integrities",
            [IntegId.HMAC_MD5_96],
        ),
        (
            " prf sha1",
            "prf sha1 is weak: use sha256 or stronger",
            "prfs",
            [PrfId.HMAC_SHA1],
        ),
        (" prf md5", "prf md5 is weak: use sha256 or stronger", "prfs", [PrfId.HMAC_MD5]),
        (" group 2 14", "DH group 2 is weak: use group 14, 19, 31 or stronger", "groups", [2, 14]),
        (" group 1", "DH group 1 is weak: use group 14, 19, 31 or stronger", "groups", [1]),
        (" group 5", "DH group 5 is weak: use group 14, 19, 31 or stronger", "groups", [5]),
        (" group 24", "DH group 24 is weak: use group 14, 19, 31 or stronger", "groups", [24]),
    ],
)
def test_weak_algorithms_are_accepted_with_a_warning_on_their_line(
    line: str, needle: str, field: str, value: list
) -> None:
    config = parse(f"crypto ikev2 proposal P\n{line}\n")
    assert config.errors == []
    assert at(config, 2, Severity.WARNING) == [needle]
    assert getattr(config.ikev2_proposals["P"], field) == value


def test_legacy_algorithms_that_are_not_weak_give_no_warning() -> None:
    config = parse(
        "crypto ikev2 proposal P\n encryption aes-cbc-192\n integrity sha256\n group 15 16\n"
    )
    assert config.diagnostics == []
    proposal = config.ikev2_proposals["P"]
    assert proposal.encryptions == [EncryptionChoice(EncrId.AES_CBC, 192)]
    assert proposal.groups == [15, 16]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" encryption rot13", "unknown encryption algorithm 'rot13'"),
        (" integrity sha3", "unknown integrity algorithm 'sha3'"),
        (" prf whirlpool", "unknown prf algorithm 'whirlpool'"),
        (" group 99", "unknown DH group '99'"),
        (" group nineteen", "unknown DH group 'nineteen'"),
        (" encryption", "missing encryption algorithm"),
        (" group", "missing DH group"),
    ],
)
def test_unknown_algorithms_are_errors_on_their_line(line: str, needle: str) -> None:
    config = parse(f"crypto ikev2 proposal P\n{line}\n")
    errors = at(config, 2, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors


# --- crypto ikev2 policy --------------------------------------------------------------


def test_policy() -> None:
    config = parse("""\
        crypto ikev2 policy POL
         proposal PROP-GCM
         proposal PROP-CBC
         match fvrf any
         match address local 192.0.2.1
         match address local 2001:db8::1
        """)
    policy = config.ikev2_policies["POL"]
    assert policy.source == src(1)
    assert policy.proposals == [("PROP-GCM", src(2)), ("PROP-CBC", src(3))]
    assert policy.match_fvrf == "any"
    assert policy.match_local == [
        ipaddress.ip_address("192.0.2.1"),
        ipaddress.ip_address("2001:db8::1"),
    ]


def test_policy_match_fvrf_name() -> None:
    config = parse("crypto ikev2 policy POL\n match fvrf INTERNET\n")
    assert config.ikev2_policies["POL"].match_fvrf == "INTERNET"


def test_policy_bad_match() -> None:
    config = parse("crypto ikev2 policy POL\n match address local nowhere\n")
    assert at(config, 2, Severity.ERROR) == ["bad local address 'nowhere'"]


# --- crypto ikev2 keyring -------------------------------------------------------------


KEYRING = """\
crypto ikev2 keyring KR
 peer branch1
  description Branch one
  address 198.51.100.7
  identity fqdn br1.example.net
  pre-shared-key local KeyOut1
  pre-shared-key remote KeyIn1
 peer subnet
  address 10.9.0.0 255.255.0.0
  identity address 10.9.0.1
  pre-shared-key 0 SharedKey
 peer mail
  identity email ops@example.org
  pre-shared-key MailKey
 peer six
  address 2001:db8::5
  identity key-id group-7
  pre-shared-key SixKey
"""


def test_keyring_peers() -> None:
    config = parse_text(KEYRING, FILE)
    keyring = config.keyrings["KR"]
    assert keyring.source == src(1)
    assert [p.name for p in keyring.peers] == ["branch1", "subnet", "mail", "six"]
    assert [p.source.line for p in keyring.peers] == [2, 8, 12, 15]
    branch, subnet, mail, six = keyring.peers
    assert branch.description == "Branch one"
    assert branch.address == ipaddress.ip_network("198.51.100.7/32")
    assert branch.identity == Identity(IdentityKind.FQDN, "br1.example.net")
    assert branch.psk_local.reveal() == b"KeyOut1"
    assert branch.psk_remote.reveal() == b"KeyIn1"
    assert subnet.address == ipaddress.ip_network("10.9.0.0/16")
    assert subnet.identity == Identity.address("10.9.0.1")
    assert subnet.psk_local.reveal() == subnet.psk_remote.reveal() == b"SharedKey"
    assert mail.address is None
    assert mail.identity == Identity.email("ops@example.org")
    assert mail.psk_local.reveal() == b"MailKey"
    assert six.address == ipaddress.ip_network("2001:db8::5/128")
    assert six.identity == Identity(IdentityKind.KEY_ID, "group-7")
    assert validate(config).diagnostics == []


def test_keyring_unindented_body() -> None:
    config = parse("""\
        crypto ikev2 keyring KR
        peer p1
        address 198.51.100.7 255.255.255.255
        pre-shared-key k1
        """)
    (peer,) = config.keyrings["KR"].peers
    assert peer.address == ipaddress.ip_network("198.51.100.7/32")
    assert peer.psk_local.reveal() == b"k1"


def test_keyring_line_before_any_peer_is_an_error() -> None:
    config = parse("crypto ikev2 keyring KR\n description nobody\n")
    assert at(config, 2, Severity.ERROR) == ["this command belongs under a keyring 'peer NAME'"]


@pytest.mark.parametrize("kind", ["6", "7"])
def test_encrypted_key_types_are_refused(kind: str) -> None:
    config = parse(f"crypto ikev2 keyring KR\n peer p\n  pre-shared-key {kind} 0A1B2C3D\n")
    assert at(config, 3, Severity.ERROR) == [
        "encrypted key types 6 and 7 are not supported; give the key itself"
    ]


def test_keyring_peer_bad_mask() -> None:
    config = parse("crypto ikev2 keyring KR\n peer p\n  address 10.0.0.0 255.0.255.0\n")
    assert at(config, 3, Severity.ERROR) == ["mask '255.0.255.0' is not a contiguous netmask"]


def test_keyring_peer_bad_identity_kind() -> None:
    config = parse("crypto ikev2 keyring KR\n peer p\n  identity dn cn=x\n")
    assert "'dn' is not one of" in at(config, 3, Severity.ERROR)[0]


# --- crypto ikev2 profile -------------------------------------------------------------


PROFILE = """\
crypto ikev2 profile PROF
 description Branch routers
 match identity remote address 198.51.100.0 255.255.255.0
 match identity remote address 198.51.100.77
 match identity remote fqdn domain example.net
 match identity remote fqdn br1.example.net
 match identity remote email domain example.org
 match identity remote email ops@example.org
 match fvrf any
 identity local fqdn hub.example.net
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
 lifetime 28800
 dpd 30 5 on-demand
 ivrf CORP
 aaa accounting psk ACCT
"""


def test_profile_every_sub_command() -> None:
    config = parse_text(PROFILE, FILE)
    assert config.diagnostics == []
    profile = config.ikev2_profiles["PROF"]
    assert profile.source == src(1)
    assert profile.description == "Branch routers"
    matches = [(m.kind, m.value, m.domain, m.source.line) for m in profile.match_remote]
    assert matches == [
        ("address", "198.51.100.0/24", False, 3),
        ("address", "198.51.100.77/32", False, 4),
        ("fqdn", "example.net", True, 5),
        ("fqdn", "br1.example.net", False, 6),
        ("email", "example.org", True, 7),
        ("email", "ops@example.org", False, 8),
    ]
    assert profile.match_remote[0].network == ipaddress.ip_network("198.51.100.0/24")
    assert profile.match_remote[2].network is None
    assert profile.match_fvrf == "any"
    assert profile.local_identity == Identity.fqdn("hub.example.net")
    assert profile.auth_local == "pre-share"
    assert profile.auth_remote == ["pre-share"]
    assert profile.keyring == ("KR", src(13))
    assert profile.lifetime == 28800
    assert profile.dpd == (30, 5, DpdMode.ON_DEMAND)
    assert profile.ivrf == "CORP"
    assert profile.accounting == ("ACCT", src(17))


def test_profile_short_forms() -> None:
    config = parse("""\
        crypto ikev2 profile P2
        match fvrf INET
        identity local address 192.0.2.1
        keyring KR
        dpd 10 2 periodic
        accounting ACCT2
        authe remote pre-share
        """)
    profile = config.ikev2_profiles["P2"]
    assert profile.match_fvrf == "INET"
    assert profile.local_identity == Identity.address("192.0.2.1")
    assert profile.keyring == ("KR", src(4))
    assert profile.dpd == (10, 2, DpdMode.PERIODIC)
    assert profile.accounting == ("ACCT2", src(6))
    assert profile.auth_remote == ["pre-share"]
    assert config.diagnostics == []


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" authentication remote rsa-sig", "authentication rsa-sig is not supported"),
        (" authentication remote eap query-identity", "authentication eap is not supported"),
        (" lifetime 60", "lifetime 60 is outside 120-86400"),
        (" lifetime 86401", "lifetime 86401 is outside 120-86400"),
        (" dpd 5 2 periodic", "DPD interval 5 is outside 10-3600"),
        (" dpd 10 1 periodic", "DPD retry interval 1 is outside 2-60"),
        (" dpd 10 2 sometimes", "'sometimes' is not one of: on-demand, periodic"),
        (" match identity remote address 10.0.0.0 255.0.255.0", "not a contiguous netmask"),
        (" match identity remote dn cn=x", "'dn' is not one of"),
        (" aaa accounting psk", "missing accounting list"),
        (" identity local email", "missing email identity"),
    ],
)
def test_profile_bad_arguments_are_errors_on_their_line(line: str, needle: str) -> None:
    config = parse(f"crypto ikev2 profile P\n{line}\n")
    errors = at(config, 2, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors


def test_reentering_a_keyring_peer_edits_it() -> None:
    config = validate(
        parse("""\
            crypto ikev2 keyring KR
             peer alice
              identity email alice@example.com
             peer alice
              pre-shared-key AliceKey
            """)
    )
    (peer,) = config.keyrings["KR"].peers
    assert peer.identity == Identity.email("alice@example.com")
    assert peer.psk_local is not None
    assert config.errors == []


def test_reentering_a_profile_edits_it() -> None:
    config = parse("""\
        crypto ikev2 profile P
         keyring local KR
        crypto ikev2 profile P
         lifetime 600
        """)
    profile = config.ikev2_profiles["P"]
    assert (profile.keyring, profile.lifetime, profile.source) == (("KR", src(2)), 600, src(1))
