"""Remote access in the configuration: local users, method lists, client configuration
groups, IKEv1 keyrings, crypto map client settings; their checks and their rendering."""

from __future__ import annotations

import ipaddress

import pytest
from config_snippets import Snippets, normalize

from engine.config.diagnostics import Severity
from engine.config.parser import parse_text
from engine.config.render import render
from engine.config.validate import validate
from engine.secret import MASK

FILE = "ra.conf"
SNIPPETS = Snippets(FILE)
parse, src, at = SNIPPETS.parse, SNIPPETS.src, SNIPPETS.at


def check(text: str):
    return validate(parse(text))


# --- username ---------------------------------------------------------------------------

#: hashes made by IOS devices (IOS-XE 16.9, ASR920), as published with the
#: network_hash_gen project's tests; the type 8 one is Cisco Learning Network's example
TYPE5 = "$1$u5Qz$ASoUsdGV2sOmi8XYkTuex1"  # 0foo0
TYPE8 = "$8$dsYGNam3K1SIJO$7nv/35M/qr6t.dVc7UY9zrJDWRVqncHub1PE9UlMQFs"  # cisco
TYPE9 = "$9$plz/kf0e3.dns.$cKvJDd6bXmyaUWdx42dgcRwpdDs0djBEqzjlmMbYEW6"  # 0foo0


def test_usernames_of_every_type() -> None:
    config = parse(f"""\
        username plain password 0 Pl4in Text
        username bare password Bare1
        username seven password 7 0822455D0A16
        username five privilege 15 secret 5 {TYPE5}
        username eight secret 8 {TYPE8}
        username nine privilege 0 secret 9 {TYPE9}
        username clear secret Cl34r
        username algo algorithm-type scrypt secret Typed1
        """)
    assert config.diagnostics == [], [str(d) for d in config.diagnostics]
    users = {
        name: (u.privilege, u.keyword, u.kind, u.secret.reveal(), u.source.line)
        for name, u in config.local_users.items()
    }
    assert users == {
        "plain": (1, "password", 0, b"Pl4in Text", 1),
        "bare": (1, "password", 0, b"Bare1", 2),
        "seven": (1, "password", 7, b"0822455D0A16", 3),
        "five": (15, "secret", 5, TYPE5.encode(), 4),
        "eight": (1, "secret", 8, TYPE8.encode(), 5),
        "nine": (0, "secret", 9, TYPE9.encode(), 6),
        "clear": (1, "secret", 0, b"Cl34r", 7),
        "algo": (1, "secret", 0, b"Typed1", 8),
    }


def test_username_lines_for_one_user_add_up() -> None:
    config = parse("""\
        username ops privilege 15
        username ops secret 0 First1
        username dev secret 0 Dev1
        username dev privilege 7
        username ops password Second2
        """)
    ops, dev = config.local_users["ops"], config.local_users["dev"]
    assert (ops.privilege, ops.keyword, ops.secret.reveal()) == (15, "password", b"Second2")
    assert (dev.privilege, dev.secret.reveal()) == (7, b"Dev1")


@pytest.mark.parametrize(
    ("line", "severity", "needle"),
    [
        ("username u secret 7 0822455D0A16", Severity.ERROR, "secret type 7 is not one IOS takes"),
        ("username u password 5 $1$ab$cd", Severity.ERROR, "password type 5 is not one IOS takes"),
        ("username u secret 5 $1$toolongsalt$x", Severity.WARNING, "looks like $1$SALT$HASH"),
        ("username u secret 9 $9$short$x", Severity.WARNING, "looks like $9$SALT$HASH"),
        ("username u password 7 0X22", Severity.WARNING, "two digits, then hex pairs"),
        ("username u password 7 9922", Severity.WARNING, "type 7 offset 99 is outside 0-52"),
        ("username u privilege 16 secret 0 x", Severity.ERROR, "privilege level 16 is outside"),
        ("username u", Severity.ERROR, "missing password or secret"),
        ("username u nopassword", Severity.WARNING, "nopassword is not supported"),
        ("username u autocommand show users", Severity.WARNING, "option not supported"),
    ],
)
def test_username_problems(line: str, severity: Severity, needle: str) -> None:
    config = parse(line + "\n")
    found = at(config, 1)
    assert len(found) == 1 and needle in found[0], found
    assert at(config, 1, severity) == found
    assert config.local_users == {}


def test_a_masked_username_secret_accepts_no_password() -> None:
    """A pasted `show running-config` has masks where the secrets were."""
    config = parse(f"username u privilege 15 secret 9 {MASK}\n")
    user = config.local_users["u"]
    assert (user.kind, user.secret, user.privilege) == (9, None, 15)
    assert "no password is accepted for this user" in at(config, 1, Severity.WARNING)[0]


def test_username_secrets_never_show() -> None:
    text = f"username u secret 9 {TYPE9}\nusername v password 0 My Long Pass\n"
    config = parse(text)
    shown = render(config) + repr(config)
    for secret in (TYPE9, "My Long Pass", "cKvJDd6b"):
        assert secret not in shown
    assert f"username u secret 9 {MASK}" in render(config)
    assert f"username v password 0 {MASK}" in render(config)


# --- method lists ------------------------------------------------------------------------


def test_method_lists() -> None:
    config = parse("""\
        aaa new-model
        aaa authentication login default local
        aaa authentication login VPN-USERS group RAD-VPN group radius local-case none
        aaa authorization network VPN-GROUPS local group RAD-VPN
        aaa authorization network default group radius
        """)
    assert config.diagnostics == []
    authentication = {n: (m.methods, m.source.line) for n, m in config.authentication_lists.items()}
    assert authentication == {
        "default": (("local",), 2),
        "VPN-USERS": (("group:RAD-VPN", "group:radius", "local-case", "none"), 3),
    }
    authorization = {n: m.methods for n, m in config.authorization_lists.items()}
    assert authorization == {
        "VPN-GROUPS": ("local", "group:RAD-VPN"),
        "default": ("group:radius",),
    }
    assert config.authentication_lists["VPN-USERS"].groups == ("RAD-VPN", "radius")


def test_method_list_problems() -> None:
    config = check("""\
        aaa authentication login L1 enable local
        aaa authentication login L2 none local
        aaa authentication login L3 group NOPE local
        aaa authorization network L4 group radius
        aaa authentication login L5
        aaa authentication login L6 local kerberos
        """)
    assert at(config, 1) == ["authentication list L1: enable not supported here: left out"]
    assert config.authentication_lists["L1"].methods == ("local",)
    assert at(config, 2) == ["authentication list L2: methods after 'none' are never tried"]
    assert at(config, 3, Severity.WARNING) == [
        "authentication list L3: server group NOPE is not defined (aaa group server radius "
        "NOPE): the method is skipped as unreachable"
    ]
    assert "no radius-server host is configured" in at(config, 4, Severity.WARNING)[0]
    assert at(config, 5, Severity.ERROR) == ["authentication list L5 needs at least one method"]
    assert "'kerberos' is not one of" in at(config, 6, Severity.ERROR)[0]


# --- address pools in use ----------------------------------------------------------------


def test_references_to_pools_acls_and_lists_are_checked_with_their_line() -> None:
    config = check("""\
        ip local pool RA 10.9.0.1 10.9.0.99
        crypto isakmp client configuration group G
         key GroupKey1
         pool NOPOOL
         acl NOACL
        crypto isakmp client configuration address-pool local NOPOOL2
        crypto isakmp profile P
         match identity group G
         match identity group UNKNOWN
         keyring NOKR
         keyring default
         client authentication list NOAUTH
         isakmp authorization list NOAUTHZ
         local-address Loopback99
        crypto map M client authentication list NOAUTH
        crypto map M isakmp authorization list NOAUTHZ
        crypto map M client configuration address respond
        crypto keyring KR vrf NOVRF
         local-address 192.0.2.1
        """)
    errors = {(d.source.line, d.message) for d in config.errors}
    assert errors == {
        (4, "ip local pool NOPOOL does not exist"),
        (5, "access list NOACL (the group's split tunnel) does not exist"),
        (6, "ip local pool NOPOOL2 does not exist"),
        (10, "keyring NOKR does not exist (crypto keyring NOKR)"),
        (12, "authentication list NOAUTH does not exist (aaa authentication login NOAUTH ...)"),
        (13, "authorization list NOAUTHZ does not exist (aaa authorization network NOAUTHZ ...)"),
        (14, "local-address Loopback99: interface Loopback99 does not exist"),
        (15, "authentication list NOAUTH does not exist (aaa authentication login NOAUTH ...)"),
        (15, "crypto map M does not exist"),
        (16, "authorization list NOAUTHZ does not exist (aaa authorization network NOAUTHZ ...)"),
        (18, "VRF NOVRF is not defined (ip vrf / vrf definition)"),
    }


@pytest.mark.parametrize("authorization", ["", " isakmp authorization list LOCAL-ONLY\n"])
def test_a_group_without_its_policy_is_an_error(authorization: str) -> None:
    config = check(
        "aaa authorization network LOCAL-ONLY local\n"
        "crypto isakmp client configuration group G\n"
        "crypto isakmp profile P\n"
        " match identity group G\n"
        " match identity group UNKNOWN\n" + authorization
    )
    assert [(d.source.line, d.message) for d in config.errors] == [
        (
            5,
            "isakmp profile P: client configuration group UNKNOWN does not exist (crypto "
            "isakmp client configuration group UNKNOWN), and no authorization list of the "
            "profile asks a server for it",
        )
    ]


def test_a_group_policy_may_live_on_the_radius_server() -> None:
    """With an authorization list that asks a server, `match identity group G` needs no
    local group G: the server holds its policy."""
    config = check("""\
        radius-server host 192.0.2.20 key RadKey1
        aaa authorization network RA-GROUPS group radius
        crypto isakmp profile P
         match identity group ONSERVER
         isakmp authorization list RA-GROUPS
        """)
    assert config.errors == []


def test_a_complete_remote_access_config_checks_clean() -> None:
    config = check(RICH)
    assert config.errors == [], [str(d) for d in config.errors]


# --- client configuration groups -------------------------------------------------------


def test_client_configuration_group() -> None:
    config = parse("""\
        crypto isakmp client configuration group staff
         key 0 Gr0upKey
         dns 10.0.0.53 10.0.0.54
         wins 10.0.0.60
         domain corp.example.net
         pool RA
         acl SPLIT
         save-password
         max-users 50
         netmask 255.255.255.0
         banner ^C Welcome to corp ^C
         pfs
         include-local-lan
        crypto isakmp client configuration address-pool local RA
        """)
    group = config.client_groups["staff"]
    assert group.source == src(1)
    assert group.key.reveal() == b"Gr0upKey"
    assert group.dns == [ipaddress.ip_address("10.0.0.53"), ipaddress.ip_address("10.0.0.54")]
    assert group.wins == [ipaddress.ip_address("10.0.0.60")]
    assert group.domain == "corp.example.net"
    assert group.pool == ("RA", src(6))
    assert group.acl == ("SPLIT", src(7))
    assert group.save_password and group.max_users == 50
    assert group.netmask == ipaddress.ip_address("255.255.255.0")
    assert group.banner == "Welcome to corp"
    assert at(config, 12) == ["ignored: not supported in isakmp group mode: pfs"]
    assert at(config, 13) == ["ignored: not supported in isakmp group mode: include-local-lan"]
    assert config.client_address_pool == ("RA", src(14))
    assert config.errors == []


def test_a_multi_line_group_banner_is_skipped_safely() -> None:
    config = parse("""\
        crypto isakmp client configuration group staff
         banner #
        Welcome. Authorized users only.
        pool looks-like-a-command
        #
         pool RA
        """)
    group = config.client_groups["staff"]
    assert group.pool == ("RA", src(6))  # the banner's lines were never read as commands
    assert group.banner == ""
    assert "only its first line is kept" in at(config, 2, Severity.WARNING)[0]
    assert config.errors == []


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" dns 10.0.0.1 10.0.0.2 10.0.0.3", "dns takes a primary and an optional secondary"),
        (" dns 2001:db8::1", "is not an IPv4 address"),
        (" netmask 255.0.255.0", "is not a contiguous netmask"),
        (" max-users 0", "max-users 0 is outside"),
        (" domain bad!domain", "bad domain name"),
    ],
)
def test_client_group_bad_lines(line: str, needle: str) -> None:
    config = parse(f"crypto isakmp client configuration group G\n{line}\n")
    errors = at(config, 2, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors


# --- IKEv1 keyrings ------------------------------------------------------------------------


def test_isakmp_keyring_is_apart_from_ikev2_keyrings() -> None:
    config = parse("""\
        crypto keyring SPOKES vrf CUST
         description spokes of customer A
         local-address GigabitEthernet0/1
         pre-shared-key address 198.51.100.7 key Sp0keKey1
         pre-shared-key address 203.0.113.0 255.255.255.0 key 0 Sp0keKey2
         pre-shared-key hostname spoke9.example.net key Sp0keKey3
        crypto ikev2 keyring SPOKES
         peer p
          address 198.51.100.7
          pre-shared-key V2Key
        """)
    assert config.errors == []
    keyring = config.isakmp_keyrings["SPOKES"]
    assert (keyring.vrf, keyring.description) == ("CUST", "spokes of customer A")
    assert keyring.local_address == ("GigabitEthernet0/1", src(3))
    keys = [(k.address, k.hostname, k.key.reveal(), k.source.line) for k in keyring.keys]
    assert keys == [
        (ipaddress.ip_network("198.51.100.7/32"), None, b"Sp0keKey1", 4),
        (ipaddress.ip_network("203.0.113.0/24"), None, b"Sp0keKey2", 5),
        (None, "spoke9.example.net", b"Sp0keKey3", 6),
    ]
    assert [p.name for p in config.keyrings["SPOKES"].peers] == ["p"]
    shown = render(config) + repr(config) + "".join(map(str, config.diagnostics))
    for secret in ("Sp0keKey1", "Sp0keKey2", "Sp0keKey3", "V2Key"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" pre-shared-key address 198.51.100.7", "missing key"),
        (" pre-shared-key address 198.51.100.7 key", "missing key"),
        (" pre-shared-key hostname bad/host key Kx1", "bad peer host name"),
        (" pre-shared-key address 198.51.100.300 key Kx1", "bad peer address"),
    ],
)
def test_isakmp_keyring_bad_lines(line: str, needle: str) -> None:
    config = parse(f"crypto keyring K\n{line}\n")
    errors = at(config, 2, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors
    assert "Kx1" not in repr(config)


# --- crypto map remote access --------------------------------------------------------------


def test_crypto_map_client_settings_without_isakmp_profiles() -> None:
    config = parse("""\
        crypto map RA client authentication list VPN-USERS
        crypto map RA isakmp authorization list VPN-GROUPS
        crypto map RA client configuration address respond
        crypto map RA client accounting list ACCT
        crypto map RA 10 ipsec-isakmp dynamic DYN
        """)
    assert config.errors == []
    client = config.crypto_map_clients["RA"]
    assert client.authentication_list == ("VPN-USERS", src(1))
    assert client.authorization_list == ("VPN-GROUPS", src(2))
    assert client.configuration_address == ("respond", src(3))
    assert config.crypto_map_accounting["RA"] == ("ACCT", src(4))
    assert config.crypto_maps["RA"][10].dynamic_map == ("DYN", src(5))


@pytest.mark.parametrize(
    ("line", "group"),
    [(" set pfs", 1), (" set pfs group14", 14), (" set pfs group2", 2), (" set pfs group24", 24)],
)
def test_set_pfs_bare_is_group1(line: str, group: int) -> None:
    """IOS: `set pfs` without a group asks for group1."""
    for header in ("crypto dynamic-map D 10", "crypto map M 10 ipsec-isakmp"):
        config = parse(f"{header}\n{line}\n")
        maps = config.dynamic_maps if "dynamic" in header else config.crypto_maps
        assert next(iter(maps.values()))[10].pfs_group == group
        assert config.errors == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (" reverse-route", (False, None, False, False, None)),
        (" reverse-route static", (False, None, False, True, None)),
        (" reverse-route remote-peer", (True, None, False, False, None)),
        (
            " reverse-route remote-peer 192.0.2.1 gateway",
            (True, ipaddress.ip_address("192.0.2.1"), True, False, None),
        ),
        (
            " reverse-route remote-peer 192.0.2.1 static",
            (True, ipaddress.ip_address("192.0.2.1"), False, True, None),
        ),
        (" reverse-route tag 7", (False, None, False, False, 7)),
    ],
)
def test_reverse_route_options(line: str, expected: tuple) -> None:
    config = parse(f"crypto dynamic-map D 10\n{line}\n")
    entry = config.dynamic_maps["D"][10]
    assert config.errors == []
    assert entry.reverse_route
    assert (
        entry.reverse_route_remote_peer,
        entry.reverse_route_next_hop,
        entry.reverse_route_gateway,
        entry.reverse_route_static,
        entry.reverse_route_tag,
    ) == expected
    again = parse_text(render(config), FILE)
    assert normalize(again.dynamic_maps) == normalize(config.dynamic_maps)


def test_set_isakmp_profile_everywhere_is_checked() -> None:
    config = check("""\
        crypto ipsec transform-set TS esp-aes esp-sha-hmac
        crypto dynamic-map D 10
         set transform-set TS
         set isakmp-profile NOPE1
        crypto map M 10 ipsec-isakmp
         set isakmp-profile NOPE2
        crypto ipsec profile IP
         set transform-set TS
         set isakmp-profile NOPE3
        """)
    for line, name in ((4, "NOPE1"), (6, "NOPE2"), (9, "NOPE3")):
        assert f"isakmp profile {name} does not exist" in " ".join(at(config, line, Severity.ERROR))
    assert config.ipsec_profiles["IP"].isakmp_profile == ("NOPE3", src(9))


# --- rendering ---------------------------------------------------------------------------

RICH = f"""\
hostname ra-gw
aaa new-model
aaa authentication login default local
aaa authentication login VPN-USERS group RAD-VPN local
aaa authorization network VPN-GROUPS local
aaa accounting network ACCT start-stop group RAD-VPN
aaa group server radius RAD-VPN
 server 192.0.2.20 auth-port 1812 acct-port 1813
username alice privilege 15 secret 9 {TYPE9}
username bob password 7 0822455D0A16
ip vrf CORP
interface GigabitEthernet0/1
 ip address 198.51.100.1 255.255.255.0
 crypto map RA
ip local pool RA-POOL 10.9.0.10 10.9.0.99
ip local pool RA-POOL 10.9.1.1 10.9.1.50
access-list 10 permit 10.1.0.0 0.0.255.255
crypto isakmp policy 10
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
 lifetime 28800
crypto isakmp key Gl0balKey address 203.0.113.9 no-xauth
crypto isakmp key Gl0balKey2 hostname spoke.example.net
crypto isakmp keepalive 20 5 periodic
crypto isakmp nat keepalive 30
crypto isakmp identity hostname
crypto isakmp aggressive-mode disable
crypto isakmp invalid-spi-recovery
crypto keyring KR vrf CORP
 description partner keys
 local-address GigabitEthernet0/1
 pre-shared-key address 198.51.100.0 255.255.255.0 key K3yOne
 pre-shared-key hostname partner.example.net key K3yTwo
crypto isakmp client configuration group staff
 key Gr0upKey
 dns 10.1.0.53 10.1.0.54
 wins 10.1.0.60
 domain corp.example.net
 pool RA-POOL
 acl 10
 save-password
 max-users 100
 netmask 255.255.0.0
 banner ^CWelcome^C
crypto isakmp client configuration address-pool local RA-POOL
crypto isakmp profile RA-PROF
 description staff on the road
 vrf CORP
 match identity group staff
 match identity address 198.51.100.0 255.255.255.0 CORP
 match identity host domain example.net
 match identity user domain example.org
 keyring KR
 self-identity fqdn
 local-address GigabitEthernet0/1
 client authentication list VPN-USERS
 isakmp authorization list VPN-GROUPS
 client configuration address respond
 accounting ACCT
 keepalive 30 retry 5
 initiate mode aggressive
crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac
crypto dynamic-map DYN 10
 set transform-set TS
 set isakmp-profile RA-PROF
 set pfs group14
 reverse-route remote-peer 198.51.100.254 gateway
crypto map RA client authentication list VPN-USERS
crypto map RA isakmp authorization list VPN-GROUPS
crypto map RA client configuration address respond
crypto map RA 10 ipsec-isakmp dynamic DYN
"""


def test_remote_access_config_round_trips() -> None:
    original = check(RICH)
    rendered = render(original)
    again = parse_text(rendered, FILE)
    # masked secrets come back masked: the users' (no password accepted) are warned about
    assert again.errors == [], [str(d) for d in again.errors]
    for name in ("alice", "bob"):
        assert again.local_users[name].secret is None
        again.local_users[name].secret = original.local_users[name].secret
    assert normalize(again) == normalize(original)
    assert render(again) == rendered
    for secret in ("Gl0balKey", "K3yOne", "K3yTwo", "Gr0upKey", TYPE9, "0822455D0A16"):
        assert secret not in rendered


# --- secrets in lines that do not parse ----------------------------------------------------

LEAKY = "S3cr3t-K3y-Zz"


@pytest.mark.parametrize(
    "text",
    [
        f"crypto keyring K\n pre-shared-key adress 192.0.2.4 key {LEAKY}\n",
        f"crypto keyring K\n pre-shared-key address 192.0.2.4 kye {LEAKY}\n",
        f"crypto keyring K\n pre-shared-key hostname h.example.net key {LEAKY} extra\n",
        f"crypto keyring K\n {LEAKY}\n",
        f"crypto isakmp client configuration group G\n kye {LEAKY}\n",
        f"crypto isakmp client configuration group G\n key {LEAKY} extra\n",
        f"crypto isakmp client configuration group G\n pool key {LEAKY}\n",
        f"username u secrt 9 {LEAKY}\n",
        f"username u password 7 {LEAKY}\n",
        f"username u secret 8 {LEAKY}\n",
        f"crypto isakmp profile P\n keyring key {LEAKY}\n",
        f"crypto isakmp profile P\n match identity user key {LEAKY}\n",
        f"crypto map M client authentication list key {LEAKY}\n",
        f"aaa authentication login key {LEAKY}\n",
    ],
)
def test_a_mangled_secret_line_never_shows_its_secret(text: str) -> None:
    config = check(text)
    assert config.diagnostics, "the line should be reported"
    shown = "\n".join(map(str, config.diagnostics)) + repr(config) + render(config)
    assert LEAKY.lower() not in shown.lower()
    # nothing is named after the secret's keyword either
    assert all(p.keyrings == [] for p in config.isakmp_profiles.values())
    assert all(g.pool is None for g in config.client_groups.values())
    assert config.crypto_map_clients == {}
