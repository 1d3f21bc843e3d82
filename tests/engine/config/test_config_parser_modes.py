"""Which mode a line belongs to: global commands leave a sub-mode, sub-commands stay.

Files that lost their indentation (or are written with `!` separators only) are read
as a router reads typed lines; indented files go by indentation, as before.
"""

from __future__ import annotations

import ipaddress

import pytest
from config_snippets import Snippets

from engine.config.diagnostics import Severity, Source
from engine.config.parser import config_lines
from engine.redaction import redact

FILE = "m.conf"
SNIPPETS = Snippets(FILE)
parse, src, at = SNIPPETS.parse, SNIPPETS.src, SNIPPETS.at


def messages(config) -> list[tuple[int, str, str]]:
    return [(d.source.line, d.severity.value, d.message) for d in config.diagnostics]


# --- unindented: a global command leaves the sub-mode ----------------------------------


def test_crypto_ipsec_profile_after_a_transform_set_is_a_global_command() -> None:
    config = parse("""\
        crypto ipsec transform-set TS esp-gcm 256
        mode tunnel
        crypto ipsec profile P
        set transform-set TS
        set ikev2-profile PR
        hostname gw
        """)
    # the profile takes its body; nothing is said "in transform-set mode"
    assert messages(config) == []
    assert config.transform_sets["TS"].mode == "tunnel"
    profile = config.ipsec_profiles["P"]
    assert profile.transform_sets == [("TS", src(4))]
    assert profile.ikev2_profile == ("PR", src(5))
    assert config.hostname == "gw"


def test_global_commands_after_an_unindented_interface() -> None:
    config = parse("""\
        interface GigabitEthernet1
        description WAN
        ip address 192.0.2.1 255.255.255.0
        ip route 0.0.0.0 0.0.0.0 192.0.2.254
        router bgp 65000
        bgp log-neighbor-changes
        neighbor 10.0.0.1 remote-as 65001
        username admin privilege 15 secret 0 Adm1nSecret
        xsm
        description after xsm
        """)
    assert messages(config) == [  # the route is read as the global command it is
        (5, "warning", "ignored: not supported: router bgp 65000"),
        (10, "warning", "ignored: not supported: description after xsm"),
    ]
    assert config.xsm.enabled and config.xsm.source_of("enabled") == src(9)
    interface = config.interfaces["GigabitEthernet1"]
    assert interface.description == "WAN"
    assert interface.address == ipaddress.IPv4Interface("192.0.2.1/24")
    assert [route.source for route in config.static_routes] == [src(4)]
    assert config.local_users["admin"].source == src(8)  # global: it left `router bgp`


@pytest.mark.parametrize(
    "opening",
    [
        "interface eth0",
        "crypto map M 10 ipsec-isakmp",
        "crypto dynamic-map D 10",
        "crypto ikev2 profile P",
        "crypto ikev2 keyring K",
        "crypto ikev2 proposal PR",
        "crypto ikev2 policy POL",
        "crypto ipsec transform-set TS esp-gcm",
        "ip access-list extended A",
        "aaa group server radius G",
        "ip vrf V",
    ],
)
@pytest.mark.parametrize(
    "line",
    [
        "ip nat inside source list NAT interface GigabitEthernet1 overload",
        "ip http banner",
        "router ospf 1",
        "ntp server 192.0.2.123",
        "snmp-server community public RO",
        "line vty 0 4",
        "route-map RM permit 10",
        "radius server R1",
        "aaa authorization exec default local",
        "logging console informational",
        "crypto pki trustpoint TP",
        "license boot level ax",
        "spanning-tree extend system-id",
        "version 16.9",
        "service timestamps log datetime msec",
    ],
)
def test_unknown_global_command_names_no_mode(opening: str, line: str) -> None:
    config = parse(f"{opening}\n{line}\n")
    assert at(config, 2) == [f"ignored: not supported: {redact(line)}"]
    assert config.errors == []


def _interface(config):
    return config.interfaces["eth0"]


def _entry(config):
    return config.crypto_maps["M"][10]


def _profile(config):
    return config.ikev2_profiles["P"]


@pytest.mark.parametrize(
    ("opening", "line", "read"),
    [
        ("interface eth0", "ip address 192.0.2.1 255.255.255.0", lambda c: _interface(c).address),
        ("interface eth0", "description uplink", lambda c: _interface(c).description),
        ("interface eth0", "vrf forwarding V", lambda c: _interface(c).vrf),
        ("interface eth0", "ip vrf forwarding V", lambda c: _interface(c).vrf),
        ("interface eth0", "crypto map M", lambda c: _interface(c).crypto_map),
        ("crypto map M 10 ipsec-isakmp", "set peer 192.0.2.9", lambda c: _entry(c).peers),
        ("crypto map M 10 ipsec-isakmp", "match address A", lambda c: _entry(c).match_address),
        ("crypto map M 10 ipsec-isakmp", "description head end", lambda c: _entry(c).description),
        (
            "crypto ikev2 profile P",
            "match identity remote address 192.0.2.9 255.255.255.255",
            lambda c: _profile(c).match_remote,
        ),
        ("crypto ikev2 profile P", "aaa accounting psk ACCT", lambda c: _profile(c).accounting),
        (
            "crypto ikev2 profile P",
            "identity local fqdn gw.example.net",
            lambda c: _profile(c).local_identity,
        ),
        ("crypto isakmp profile RA", "vrf V", lambda c: c.isakmp_profiles["RA"].vrf),
    ],
)
def test_a_sub_command_that_begins_like_a_global_one_stays(opening: str, line: str, read) -> None:
    config = parse(f"{opening}\n{line}\n")
    assert at(config, 2) == []
    assert read(config)


def test_interface_sub_commands_the_gateway_uses_stay_in_the_interface() -> None:
    config = parse("""\
        interface Tunnel1
        ip mtu 1400
        ip tcp adjust-mss 1360
        ip unnumbered Loopback0
        crypto map VPN
        """)
    assert messages(config) == []
    tunnel = config.interfaces["Tunnel1"]
    assert (tunnel.mtu, tunnel.adjust_mss, tunnel.unnumbered) == (1400, 1360, "Loopback0")
    assert tunnel.crypto_map == ("VPN", src(5))


@pytest.mark.parametrize(
    "line",
    [
        "ip nat inside",
        "ip nat outside",
        "crypto ipsec df-bit clear",
        "ip access-group 101 in",
        "ipv6 address 2001:db8::1/64",
        "no ip redirects",
        "no ip proxy-arp",
        "logging event link-status",
        "ntp disable",
        "spanning-tree portfast",
        "negotiation auto",
    ],
)
def test_interface_sub_commands_the_gateway_does_not_use_stay_in_the_interface(
    line: str,
) -> None:
    config = parse(f"""\
        interface eth0
        {line}
        ip address 192.0.2.1 255.255.255.0
        crypto map VPN
        """)
    assert messages(config) == [
        (2, "warning", f"ignored: not supported in interface mode: {redact(line)}")
    ]
    interface = config.interfaces["eth0"]
    assert interface.address == ipaddress.IPv4Interface("192.0.2.1/24")
    assert interface.crypto_map == ("VPN", src(4))


def test_keyring_peer_hostname_is_the_peers_not_the_routers() -> None:
    config = parse("""\
        hostname gw
        crypto ikev2 keyring K
        peer A
        hostname a.example.net
        address 192.0.2.9
        """)
    assert config.hostname == "gw"
    assert at(config, 4, Severity.WARNING)[0].startswith(
        "ignored: not supported in ikev2 keyring mode"
    )
    (peer,) = config.keyrings["K"].peers
    assert (peer.name, str(peer.address)) == ("A", "192.0.2.9/32")


def test_global_aaa_after_ikev2_profile_leaves_it() -> None:
    config = parse("""\
        crypto ikev2 profile P
        aaa authorization group psk list AUTHZ default
        aaa authorization network AUTHZ local
        keyring local K
        """)
    assert messages(config) == [
        (
            2,
            "warning",
            "ignored: not supported in ikev2 profile mode: aaa authorization group psk list "
            "AUTHZ default",
        ),
        (4, "warning", "ignored: not supported: keyring local K"),
    ]
    assert config.ikev2_profiles["P"].keyring is None
    assert config.authorization_lists["AUTHZ"].methods == ("local",)


def test_ip_nat_inside_source_after_an_interface_is_global() -> None:
    config = parse("""\
        interface eth0
        ip nat inside
        ip nat inside source list NAT interface eth0 overload
        description not the interface's
        """)
    assert messages(config) == [
        (2, "warning", "ignored: not supported in interface mode: ip nat inside"),
        (
            3,
            "warning",
            "ignored: not supported: ip nat inside source list NAT interface eth0 overload",
        ),
        (4, "warning", "ignored: not supported: description not the interface's"),
    ]
    assert config.interfaces["eth0"].description == ""


def test_a_global_command_the_gateway_reads_leaves_the_mode() -> None:
    config = parse("""\
        interface eth0
        crypto map VPN
        crypto ipsec transform-set TS esp-gcm 256
        mode tunnel
        ip access-list extended A
        permit ip 10.0.0.0 0.0.0.255 10.1.0.0 0.0.0.255
        crypto map VPN 10 ipsec-isakmp
        match address A
        """)
    assert config.diagnostics == [] or all(
        d.severity is Severity.WARNING and "not supported" not in d.message
        for d in config.diagnostics
    )
    assert config.interfaces["eth0"].crypto_map == ("VPN", src(2))
    assert config.transform_sets["TS"].mode == "tunnel"
    assert len(config.access_lists["A"].entries) == 1
    assert config.crypto_maps["VPN"][10].match_address == ("A", src(8))


def test_unknown_line_that_is_no_global_command_stays_in_the_mode() -> None:
    config = parse("""\
        interface eth0
        frobnicate now
        ip address 192.0.2.1 255.255.255.0
        """)
    assert messages(config) == [
        (2, "warning", "ignored: not supported in interface mode: frobnicate now")
    ]
    assert config.interfaces["eth0"].address is not None


# --- the body of an IOS block the gateway does not read ----------------------------------


def test_unindented_body_of_an_unsupported_block_is_skipped_with_it() -> None:
    config = parse("""\
        line con 0
        exec-timeout 0 0
        logging synchronous
        login local
        transport input ssh
        router bgp 65000
        bgp router-id 10.0.0.1
        neighbor 192.0.2.2 remote-as 65001
        address-family ipv4
        network 10.0.0.0 mask 255.255.255.0
        exit-address-family
        crypto pki trustpoint TP-self-signed-1
        enrollment selfsigned
        vrf MGMT
        revocation-check none
        crypto pki certificate chain TP-self-signed-1
        certificate self-signed 01
        3082032E 30820216 A0030201 02020101
        quit
        hostname gw
        """)
    assert messages(config) == [
        (1, "warning", "ignored: not supported: line con 0"),
        (6, "warning", "ignored: not supported: router bgp 65000"),
        (12, "warning", "ignored: not supported: crypto pki trustpoint TP-self-signed-1"),
        (16, "warning", "ignored: not supported: crypto pki certificate chain TP-self-signed-1"),
    ]
    assert config.hostname == "gw"
    assert config.vrfs == {}


def test_a_global_command_ends_the_body_of_an_unsupported_block() -> None:
    config = parse("""\
        router bgp 65000
        neighbor 192.0.2.2 remote-as 65001
        ip route 10.0.0.0 255.0.0.0 192.0.2.2
        neighbor 192.0.2.3 remote-as 65002
        """)
    assert messages(config) == [
        (1, "warning", "ignored: not supported: router bgp 65000"),
        (4, "warning", "ignored: not supported: neighbor 192.0.2.3 remote-as 65002"),
    ]
    (route,) = config.static_routes  # read as the global command it is
    assert route.source == src(3)


# --- indented files: indentation is the mode -----------------------------------------


def test_indented_line_the_mode_does_not_know_names_the_mode() -> None:
    config = parse("""\
        interface eth0
         ip route 0.0.0.0 0.0.0.0 192.0.2.254
         crypto map VPN
        crypto ipsec transform-set TS esp-gcm 256
         crypto ipsec profile P
        """)
    assert messages(config) == [
        (
            2,
            "warning",
            "ignored: not supported in interface mode: ip route 0.0.0.0 0.0.0.0 192.0.2.254",
        ),
        (5, "warning", "ignored: not supported in transform-set mode: crypto ipsec profile P"),
    ]
    assert config.interfaces["eth0"].crypto_map == ("VPN", src(3))


def test_indented_interface_of_a_real_router_has_no_error() -> None:
    config = parse("""\
            ip access-list extended A
             permit ip 10.0.0.0 0.0.0.255 10.1.0.0 0.0.0.255
            interface GigabitEthernet1
             description Internet
             ip address 192.0.2.1 255.255.255.0
             ip nat outside
             ip mtu 1400
             ip tcp adjust-mss 1360
             ip access-group 101 in
             ip unnumbered Loopback0
             ipv6 address 2001:db8::1/64
             no ip redirects
             crypto ipsec df-bit clear
             negotiation auto
             no mop enabled
             crypto map VPN
            """)
    assert config.errors == []
    warned = {d.source.line for d in config.warnings}
    # ip mtu, ip tcp adjust-mss and ip unnumbered are read (lines 7-8, 10); the rest warned
    assert warned >= {6, 9, 11, 12, 13, 14, 15} and not warned & {7, 8, 10}
    assert all("in interface mode" in d.message for d in config.warnings if d.source.line >= 6)
    assert config.interfaces["GigabitEthernet1"].crypto_map == ("VPN", src(16))


def test_indented_ikev2_profile_commands_the_gateway_does_not_use_are_warnings() -> None:
    config = parse("""\
        crypto ikev2 profile P
         match certificate CERTMAP
         aaa authorization group psk list AUTHZ default
         keyring local K
        """)
    assert config.errors == []
    assert [d.source.line for d in config.warnings] == [2, 3]
    assert config.ikev2_profiles["P"].keyring == ("K", src(4))


# --- banner ------------------------------------------------------------------------------


def test_multi_line_banner_is_skipped_to_its_delimiter() -> None:
    config = parse("""\
        hostname gw
        banner motd ^C
        Authorised access only!
        interface Foo
        crypto map X 1 ipsec-isakmp
        !
        end
        ^C
        interface eth0
        ip address 192.0.2.1 255.255.255.0
        """)
    assert messages(config) == [(2, "warning", "ignored: not supported: banner motd ^C")]
    assert list(config.interfaces) == ["eth0"]
    assert config.crypto_maps == {}
    assert config.interfaces["eth0"].address is not None


def test_banner_text_may_end_on_the_delimiter_line_and_any_delimiter_works() -> None:
    config = parse("""\
        banner login #
        Welcome to gw
        bye#
        banner exec ^CNo delimiter at all on the next lines^C
        banner incoming $
        line one $
        hostname gw
        """)
    assert [line for line, _, _ in messages(config)] == [1, 4, 5]
    assert config.hostname == "gw"


def test_banner_text_is_no_command_line() -> None:
    lines = config_lines("banner motd ^C\nip route 1.2.3.4 255.255.255.255 1.1.1.1\n^C\nxsm\n")
    assert [(line.number, line.text) for line in lines] == [(1, "banner motd ^C"), (4, "xsm")]


def test_unclosed_banner_is_a_warning_at_its_line() -> None:
    config = parse("""\
        hostname gw
        banner motd ^C
        hostname other
        """)
    assert config.hostname == "gw"
    assert config.errors == []
    assert at(config, 2) == [
        "ignored: not supported: banner motd ^C",
        "banner not closed by '^C': the rest of the file is read as its text",
    ]


# --- exit and sequence numbers -------------------------------------------------------


def test_exit_leaves_the_mode_and_a_keyring_peer() -> None:
    config = parse("""\
        crypto ikev2 keyring K
        peer A
        address 192.0.2.9
        exit
        peer B
        address 192.0.2.10
        exit
        exit
        interface eth0
        exit
        description after exit
        vrf definition V
        address-family ipv4
        exit
        exit-address-family
        """)
    peers = config.keyrings["K"].peers
    assert [(p.name, str(p.address)) for p in peers] == [
        ("A", "192.0.2.9/32"),
        ("B", "192.0.2.10/32"),
    ]
    assert config.interfaces["eth0"].description == ""
    assert messages(config) == [
        (11, "warning", "ignored: not supported: description after exit"),
    ]


def test_named_access_list_entries_may_carry_sequence_numbers() -> None:
    config = parse("""\
        ip access-list extended A
         10 permit ip 10.0.0.0 0.0.0.255 10.1.0.0 0.0.0.255
         20 permit ip host 10.0.0.9 any
         30 remark done
        """)
    assert config.diagnostics == []
    assert [e.text() for e in config.access_lists["A"].entries] == [
        "permit ip 10.0.0.0 0.0.0.255 10.1.0.0 0.0.0.255",
        "permit ip host 10.0.0.9 any",
    ]
    assert config.access_lists["A"].entries[0].source == Source(FILE, 2)
