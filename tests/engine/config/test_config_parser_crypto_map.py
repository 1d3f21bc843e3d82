"""`crypto ipsec transform-set`, `crypto map`, `crypto dynamic-map`, access lists."""

from __future__ import annotations

import ipaddress

import pytest
from config_snippets import Snippets

from engine.config.diagnostics import Severity
from engine.config.parser import parse_text
from engine.config.validate import validate
from engine.crypto.algorithms import IntegId
from engine.ike.policy import (
    AES_CBC_128,
    AES_CBC_256,
    AES_GCM_128,
    AES_GCM_256,
    ESP_NULL,
    TRIPLE_DES,
    EncrId,
    EncryptionChoice,
)

AES_CBC_192 = EncryptionChoice(EncrId.AES_CBC, 192)

FILE = "map.conf"
SNIPPETS = Snippets(FILE)
parse, src, at = SNIPPETS.parse, SNIPPETS.src, SNIPPETS.at


def net(text: str):
    return ipaddress.ip_network(text)


# --- crypto ipsec transform-set -------------------------------------------------------


@pytest.mark.parametrize(
    ("transforms", "encryption", "integrity"),
    [
        ("esp-gcm 256", AES_GCM_256, None),
        ("esp-gcm 128", AES_GCM_128, None),
        ("esp-gcm", AES_GCM_128, None),
        ("ESP-GCM 256", AES_GCM_256, None),
        ("esp-aes 256 esp-sha256-hmac", AES_CBC_256, IntegId.HMAC_SHA2_256_128),
        ("esp-aes esp-sha384-hmac", AES_CBC_128, IntegId.HMAC_SHA2_384_192),
        ("esp-sha512-hmac esp-aes 256", AES_CBC_256, IntegId.HMAC_SHA2_512_256),
        ("esp-aes 192 esp-sha256-hmac", AES_CBC_192, IntegId.HMAC_SHA2_256_128),
    ],
)
def test_transform_sets(transforms: str, encryption, integrity) -> None:
    config = parse(f"crypto ipsec transform-set TS {transforms}\n mode tunnel\n")
    ts = config.transform_sets["TS"]
    assert ts.source == src(1)
    assert ts.encryption == encryption
    assert ts.integrity == integrity
    assert ts.mode == "tunnel"
    assert ts.unsupported == []
    assert config.diagnostics == []


@pytest.mark.parametrize(
    ("transforms", "encryption", "integrity", "warnings"),
    [
        (
            "esp-aes esp-sha-hmac",
            AES_CBC_128,
            IntegId.HMAC_SHA1_96,
            ["esp-sha-hmac is weak: use esp-sha256-hmac or stronger"],
        ),
        (
            "esp-3des esp-md5-hmac",
            TRIPLE_DES,
            IntegId.HMAC_MD5_96,
            [
                "esp-3des is weak: use esp-aes or esp-gcm",
                "esp-md5-hmac is weak: use esp-sha256-hmac or stronger",
            ],
        ),
        (
            "esp-null esp-sha256-hmac",
            ESP_NULL,
            IntegId.HMAC_SHA2_256_128,
            ["esp-null encrypts nothing: use esp-aes or esp-gcm"],
        ),
    ],
)
def test_weak_transforms_are_accepted_with_a_warning(
    transforms: str, encryption, integrity, warnings: list[str]
) -> None:
    config = parse(f"crypto ipsec transform-set TS {transforms}\n")
    ts = config.transform_sets["TS"]
    assert (ts.encryption, ts.integrity, ts.unsupported) == (encryption, integrity, [])
    assert ts.usable
    assert config.errors == []
    assert at(config, 1, Severity.WARNING) == [f"transform-set TS: {w}" for w in warnings]


@pytest.mark.parametrize("transforms", ["esp-3des 192 esp-sha-hmac", "esp-null 128 esp-sha-hmac"])
def test_fixed_size_ciphers_take_no_key_size(transforms: str) -> None:
    config = parse(f"crypto ipsec transform-set TS {transforms}\n")
    assert at(config, 1, Severity.ERROR) == [f"{transforms.split()[0]} takes no key size"]


@pytest.mark.parametrize(
    ("transforms", "unsupported"),
    [
        ("esp-des esp-sha256-hmac", ["esp-des"]),
        ("esp-aes 256 esp-sha256-hmac comp-lzs", ["comp-lzs"]),
        ("ah-sha-hmac esp-gcm", ["ah-sha-hmac"]),
    ],
)
def test_unsupported_transforms_are_a_warning(transforms: str, unsupported: list[str]) -> None:
    config = parse(f"crypto ipsec transform-set TS {transforms}\n")
    assert config.transform_sets["TS"].unsupported == unsupported
    assert config.errors == []
    assert at(config, 1, Severity.WARNING) == [
        f"transform-set TS: {', '.join(unsupported)} not offered by this gateway"
    ]


@pytest.mark.parametrize(
    ("transforms", "needle"),
    [
        ("esp-gcm 256 esp-sha256-hmac", "transform-set TS: esp-gcm takes no integrity transform"),
        ("esp-aes esp-gcm", "a transform-set takes one ESP encryption transform"),
        ("esp-aes esp-sha256-hmac esp-sha384-hmac", "one ESP integrity transform"),
        ("esp-rot13", "unknown transform 'esp-rot13'"),
        ("", "transform-set needs at least one transform"),
    ],
)
def test_bad_transform_sets_are_errors(transforms: str, needle: str) -> None:
    config = parse(f"crypto ipsec transform-set TS {transforms}\n")
    errors = at(config, 1, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors
    assert "TS" not in config.transform_sets


def test_transport_mode_is_kept() -> None:
    config = parse("crypto ipsec transform-set TS esp-gcm 256\n mode transport\n")
    assert at(config, 2) == []
    assert config.transform_sets["TS"].mode == "transport"


def test_tunnel_mode_after_transport_wins() -> None:
    config = parse("crypto ipsec transform-set TS esp-gcm 256\n mode transport\n mode tunnel\n")
    assert config.transform_sets["TS"].mode == "tunnel"


def test_transport_require_is_refused() -> None:
    config = parse("crypto ipsec transform-set TS esp-gcm 256\n mode transport require\n")
    (error,) = at(config, 2, Severity.ERROR)
    assert "mode transport require is not supported" in error
    assert config.transform_sets["TS"].mode == "tunnel"


# --- crypto map -----------------------------------------------------------------------


STATIC = """\
crypto map VPN 10 ipsec-isakmp
 description To branch one
 set peer 198.51.100.7
 set peer 198.51.100.8 default
 set transform-set TS-GCM TS-CBC
 set ikev2-profile PROF
 set pfs group19
 set security-association lifetime seconds 1800
 set security-association lifetime kilobytes 102400
 match address CRYPTO-ACL
 reverse-route remote-peer 192.0.2.254
crypto map VPN 20 ipsec-isakmp dynamic DYN
crypto map VPN client accounting list ACCT
"""


def test_static_crypto_map_entry() -> None:
    config = parse_text(STATIC, FILE)
    assert config.diagnostics == []
    entry = config.crypto_maps["VPN"][10]
    assert entry.source == src(1)
    assert (entry.map_name, entry.seq, entry.dynamic) == ("VPN", 10, False)
    assert entry.dynamic_map is None
    assert entry.description == "To branch one"
    assert entry.peers == [
        (ipaddress.ip_address("198.51.100.7"), src(3)),
        (ipaddress.ip_address("198.51.100.8"), src(4)),
    ]
    assert entry.transform_sets == [("TS-GCM", src(5)), ("TS-CBC", src(5))]
    assert entry.ikev2_profile == ("PROF", src(6))
    assert entry.pfs_group == 19
    assert entry.lifetime_seconds == 1800
    assert entry.lifetime_kb == 102400
    assert entry.match_address == ("CRYPTO-ACL", src(10))
    assert entry.reverse_route and entry.reverse_route_remote_peer


def test_crypto_map_dynamic_reference_and_client_accounting() -> None:
    config = parse_text(STATIC, FILE)
    entry = config.crypto_maps["VPN"][20]
    assert entry.source == src(12)
    assert entry.dynamic_map == ("DYN", src(12))
    assert config.crypto_map_accounting == {"VPN": ("ACCT", src(13))}


def test_dynamic_map_unindented_body() -> None:
    config = parse("""\
        crypto dynamic-map DYN 5
        set peer 198.51.100.9
        set transform-set TS-GCM
        set ikev2-profile PROF
        set isakmp-profile V1PROF
        match address 150
        reverse-route
        crypto map VPN 20 ipsec-isakmp dynamic DYN
        """)
    entry = config.dynamic_maps["DYN"][5]
    assert entry.dynamic and entry.source == src(1)
    assert entry.peers == [(ipaddress.ip_address("198.51.100.9"), src(2))]
    assert entry.transform_sets == [("TS-GCM", src(3))]
    assert entry.ikev2_profile == ("PROF", src(4))
    assert entry.isakmp_profile == ("V1PROF", src(5))
    assert entry.match_address == ("150", src(6))
    assert entry.reverse_route and not entry.reverse_route_remote_peer
    assert config.crypto_maps["VPN"][20].dynamic_map == ("DYN", src(8))
    assert config.diagnostics == []


def test_set_transform_set_replaces_the_list() -> None:
    config = parse("crypto map M 10 ipsec-isakmp\n set transform-set A B\n set transform-set C\n")
    assert config.crypto_maps["M"][10].transform_sets == [("C", src(3))]


def test_crypto_map_abbreviations() -> None:
    config = parse("""\
        cry map M 10 ipsec-i
         set sec lif sec 900
         set sec lif kil 5000
         set pfs GROUP20
         mat addr ACL
         rev
        """)
    entry = config.crypto_maps["M"][10]
    assert (entry.lifetime_seconds, entry.lifetime_kb, entry.pfs_group) == (900, 5000, 20)
    assert entry.match_address == ("ACL", src(5))
    assert entry.reverse_route
    assert config.diagnostics == []


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" set pfs group22", "pfs group22 is not supported"),
        (" set pfs 14", "bad pfs group '14'"),
        (" set security-association lifetime seconds 30", "lifetime seconds 30 is outside"),
        (" set security-association lifetime kilobytes 10", "lifetime kilobytes 10 is outside"),
        (" set security-association lifetime hours 1", "'hours' is not one of"),
        (" set peer 198.51.100.300", "bad peer address '198.51.100.300'"),
        (" set transform-set", "missing transform-set name"),
        (" match address", "missing access list"),
        (" set ikev2-profile", "missing ikev2 profile name"),
    ],
)
def test_crypto_map_bad_arguments_are_errors_on_their_line(line: str, needle: str) -> None:
    config = parse(f"crypto map M 10 ipsec-isakmp\n{line}\n")
    errors = at(config, 2, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors


@pytest.mark.parametrize("group", [1, 2, 5, 24])
def test_weak_pfs_groups_are_accepted_with_a_warning(group: int) -> None:
    config = parse(f"crypto map M 10 ipsec-isakmp\n set pfs group{group}\n")
    assert config.errors == []
    assert at(config, 2, Severity.WARNING) == [
        f"pfs group{group} is weak: use group14, group19, group31 or stronger"
    ]
    assert config.crypto_maps["M"][10].pfs_group == group


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("crypto map M 0 ipsec-isakmp", "sequence number 0 is outside 1-65535"),
        ("crypto map M ten ipsec-isakmp", "sequence number must be a number"),
        ("crypto map M 10 ipsec-isakmp dynamic", "missing dynamic map name"),
        ("crypto map M client accounting list", "missing accounting list"),
        ("crypto map M 10 bogus", "'bogus' is not one of"),
        ("crypto dynamic-map D", "missing sequence number"),
    ],
)
def test_bad_crypto_map_headers(line: str, needle: str) -> None:
    config = parse(line + "\n")
    errors = at(config, 1, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors


# --- access lists ---------------------------------------------------------------------


def test_named_extended_acl() -> None:
    config = parse("""\
        ip access-list extended CRYPTO-ACL
         permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255
         permit ip host 10.1.1.1 host 10.2.2.2
         deny ip any any
         remark branch traffic
        permit ip 10.1.3.0 0.0.0.255 any
        """)
    acl = config.access_lists["CRYPTO-ACL"]
    assert acl.source == src(1)
    got = [(e.action, e.source_net, e.destination_net, e.source.line) for e in acl.entries]
    assert got == [
        ("permit", net("10.1.0.0/16"), net("10.2.0.0/16"), 2),
        ("permit", net("10.1.1.1/32"), net("10.2.2.2/32"), 3),
        ("deny", net("0.0.0.0/0"), net("0.0.0.0/0"), 4),
        ("permit", net("10.1.3.0/24"), net("0.0.0.0/0"), 6),
    ]
    assert [e.text() for e in acl.entries] == [
        "permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255",
        "permit ip host 10.1.1.1 host 10.2.2.2",
        "deny ip any any",
        "permit ip 10.1.3.0 0.0.0.255 any",
    ]
    assert config.diagnostics == []


def test_numbered_acl_lines_accumulate() -> None:
    config = parse("""\
        access-list 101 permit ip host 10.20.20.20 host 10.10.10.10
        access-list 101 remark second line follows
        access-list 101 permit ip 10.20.0.0 0.0.255.255 ANY
        access-list 2001 permit ip any host 10.9.9.9
        """)
    acl = config.access_lists["101"]
    assert acl.source == src(1)
    assert [(e.source_net, e.destination_net) for e in acl.entries] == [
        (net("10.20.20.20/32"), net("10.10.10.10/32")),
        (net("10.20.0.0/16"), net("0.0.0.0/0")),
    ]
    assert [e.source.line for e in acl.entries] == [1, 3]
    assert "2001" in config.access_lists
    assert config.diagnostics == []


@pytest.mark.parametrize(("protocol", "number"), [("gre", 47), ("tcp", 6), ("icmp", 1), ("ip", 0)])
def test_acl_protocol_entries_are_kept(protocol: str, number: int) -> None:
    config = parse(f"ip access-list extended A\n permit {protocol} host 10.0.0.1 host 10.0.0.2\n")
    assert at(config, 2) == []
    (entry,) = config.access_lists["A"].entries
    assert entry.ip_protocol == number
    assert entry.text() == f"permit {protocol} host 10.0.0.1 host 10.0.0.2"


@pytest.mark.parametrize(
    ("line", "severity", "needle"),
    [
        (" permit ip 10.0.0.0 0.255.0.255 any", Severity.ERROR, "not a contiguous wildcard"),
        (" permit ip 10.1.1.0 0.0.255.255 any", Severity.ERROR, "has bits set outside wildcard"),
        (" permit ip 10.1.1 0.0.0.255 any", Severity.ERROR, "bad address '10.1.1'"),
        (" permit ip host 10.1.1.300 any", Severity.ERROR, "bad host address '10.1.1.300'"),
        (" permit ip any", Severity.ERROR, "missing address, host or any"),
        (" permit bogus any any", Severity.ERROR, "'bogus' is not one of"),
        (" permit ip any any log", Severity.WARNING, "port and option matches are not used"),
    ],
)
def test_acl_entry_problems(line: str, severity: Severity, needle: str) -> None:
    config = parse(f"ip access-list extended A\n{line}\n")
    found = at(config, 2)
    assert len(found) == 1 and needle in found[0], found
    assert at(config, 2, severity) == found
    assert config.access_lists["A"].entries == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("access-list 10 permit 10.0.0.0 0.255.255.255\naccess-list 10 permit 10.9.9.9\n", "10"),
        (
            "ip access-list standard SPLIT\n permit 10.0.0.0 0.255.255.255\n"
            " 20 permit host 10.9.9.9\n",
            "SPLIT",
        ),
    ],
)
def test_standard_acls_name_sources(text: str, name: str) -> None:
    """Standard lists are read (split tunnels name networks with them): sources only."""
    config = parse(text)
    assert config.diagnostics == []
    acl = config.access_lists[name]
    assert acl.standard
    assert [(e.source_net, e.destination_net) for e in acl.entries] == [
        (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("0.0.0.0/0")),
        (ipaddress.ip_network("10.9.9.9/32"), ipaddress.ip_network("0.0.0.0/0")),
    ]


def test_a_crypto_map_needs_an_extended_acl() -> None:
    config = validate(
        parse(
            "access-list 10 permit 10.0.0.0 0.255.255.255\ncrypto map M 10 ipsec-isakmp\n"
            " match address 10\n"
        )
    )
    assert at(config, 3, Severity.ERROR) == [
        "access list 10 is a standard list; match address needs an extended one"
    ]


def test_non_ip_numbered_acl_is_a_warning() -> None:
    config = parse("access-list 700 permit 0011.2233.4455 0000.0000.0000\n")
    assert config.errors == []
    assert "not an IP access list" in at(config, 1, Severity.WARNING)[0]
    assert "700" not in config.access_lists


@pytest.mark.parametrize("header", ["crypto map M 10 ipsec-isakmp", "crypto dynamic-map M 10"])
def test_reentering_a_crypto_map_entry_edits_it(header: str) -> None:
    config = parse(f"{header}\n set peer 198.51.100.7\n{header}\n match address ACL\n")
    maps = config.dynamic_maps if "dynamic" in header else config.crypto_maps
    entry = maps["M"][10]
    assert entry.match_address == ("ACL", src(4))
    assert entry.peers == [(ipaddress.ip_address("198.51.100.7"), src(2))]


def test_replay_window_size() -> None:
    from engine.config.parser import parse_text
    from engine.config.render import render

    config = parse_text("crypto ipsec security-association replay window-size 1024\n")
    assert config.replay_window == 1024 and not config.diagnostics
    assert "crypto ipsec security-association replay window-size 1024" in render(config)
    bad = parse_text("crypto ipsec sec replay window-size 100\n")
    assert bad.errors and "window-size must be one of" in bad.errors[0].message
