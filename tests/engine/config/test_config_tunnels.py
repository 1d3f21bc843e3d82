"""Route-based VPN in the configuration: `crypto ipsec profile`, tunnel interfaces and
`ip route`s into them, from text to the policy the gateway runs."""

from __future__ import annotations

import ipaddress

from config_snippets import Snippets

from engine.config.compile import TunnelRoute, compile_config
from engine.config.diagnostics import Severity
from engine.config.parser import parse_text
from engine.config.render import render
from engine.config.validate import validate

FILE = "vti.conf"
SNIPPETS = Snippets(FILE)
parse, src, at = SNIPPETS.parse, SNIPPETS.src, SNIPPETS.at

BASE = """\
crypto ikev2 keyring KR
 peer hub
  address 192.0.2.1
  pre-shared-key local left-key
  pre-shared-key remote right-key
crypto ikev2 profile PROF
 match identity remote address 192.0.2.1 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
crypto ipsec transform-set TS esp-gcm 256
 mode tunnel
crypto ipsec profile VTI
 set transform-set TS
 set ikev2-profile PROF
 set pfs group19
 set security-association lifetime seconds 1800
 set security-association lifetime kilobytes 102400
interface Tunnel1
 description to the hub
 ip address 169.254.10.1 255.255.255.252
 ip mtu 1400
 ip tcp adjust-mss 1360
 tunnel source 198.51.100.7
 tunnel mode ipsec ipv4
 tunnel destination 192.0.2.1
 tunnel protection ipsec profile VTI
"""


def checked(text: str):
    return validate(parse(text))


def test_an_ipsec_profile_takes_the_set_commands_of_a_crypto_map() -> None:
    config = checked(BASE)
    assert config.diagnostics == []
    profile = config.ipsec_profiles["VTI"]
    assert [name for name, _ in profile.transform_sets] == ["TS"]
    assert profile.ikev2_profile == ("PROF", src(15))
    assert (profile.pfs_group, profile.lifetime_seconds, profile.lifetime_kb) == (19, 1800, 102400)


def test_a_tunnel_interface_is_one_peer_with_any_to_any_selectors() -> None:
    config = checked(BASE + "ip route 10.2.0.0 255.255.0.0 Tunnel1\n")
    compiled = compile_config(config)
    (peer,) = compiled.ike.peers
    any_net = ipaddress.ip_network("0.0.0.0/0")
    assert (peer.name, peer.interface) == ("Tunnel1", "Tunnel1")
    assert (peer.local_ts, peer.remote_ts) == ((any_net,), (any_net,))
    assert peer.remote_addresses == (ipaddress.ip_network("192.0.2.1/32"),)
    assert (peer.pfs_group, peer.child_lifetime, peer.child_lifetime_kb) == (19, 1800.0, 102400)
    assert [p.name for p in peer.esp_proposals] == ["TS"]
    meta = compiled.meta["Tunnel1"]
    assert (meta.interface, meta.crypto_map, meta.remote, meta.initiate) == (
        "Tunnel1",
        "Tunnel1-head-0",
        "192.0.2.1",
        True,
    )
    assert meta.description == "to the hub"
    tunnel = compiled.tunnels["Tunnel1"]
    assert tunnel.address == ipaddress.IPv4Interface("169.254.10.1/30")
    assert (tunnel.mtu, tunnel.adjust_mss, tunnel.destination) == (1400, 1360, "192.0.2.1")
    assert tunnel.routes == (TunnelRoute(ipaddress.ip_network("10.2.0.0/16")),)


def test_routes_reach_a_tunnel_by_name_abbreviation_or_next_hop_inside_it() -> None:
    config = checked(
        BASE
        + "ip route 10.2.0.0 255.255.0.0 Tunnel1\n"
        + "ip route 10.3.0.0 255.255.0.0 tu1 200 name backup\n"
        + "ip route 10.4.0.0 255.255.0.0 169.254.10.2\n"
    )
    assert config.diagnostics == []
    assert compile_config(config).tunnels["Tunnel1"].routes == (
        TunnelRoute(ipaddress.ip_network("10.2.0.0/16")),
        TunnelRoute(ipaddress.ip_network("10.3.0.0/16"), 200),  # a floating route
        TunnelRoute(ipaddress.ip_network("10.4.0.0/16")),
    )


def test_routes_elsewhere_are_the_hosts_and_said_so() -> None:
    config = checked(
        BASE + "ip route 0.0.0.0 0.0.0.0 203.0.113.1\nip route 10.9.0.0 255.255.0.0 eth0\n"
    )
    assert config.errors == []
    assert at(config, 28) == [
        "ignored: ip route 0.0.0.0 0.0.0.0 203.0.113.1: not into a tunnel interface "
        "(the host's own routing table carries it)"
    ]
    assert len(at(config, 29, Severity.WARNING)) == 1
    assert compile_config(config).tunnels["Tunnel1"].routes == ()


def test_an_inconsistent_route_is_refused_as_ios_does() -> None:
    config = checked(BASE + "ip route 10.2.0.1 255.255.0.0 Tunnel1\n")
    assert at(config, 28) == [
        "ignored: ip route 10.2.0.1 255.255.0.0 Tunnel1: 10.2.0.1 255.255.0.0 is not a network "
        "address (inconsistent address and mask; did you mean 10.2.0.0/16?)"
    ]
    assert config.static_routes == []


def test_references_that_do_not_resolve_are_errors_on_their_lines() -> None:
    config = checked(
        BASE.replace("protection ipsec profile VTI", "protection ipsec profile NOPE")
        .replace(" set transform-set TS", " set transform-set TS9")
        .replace(" set ikev2-profile PROF", " set ikev2-profile PROF9")
        + "ip route 10.2.0.0 255.255.0.0 Tunnel7\n"
    )
    assert at(config, 14, Severity.ERROR) == ["transform-set TS9 does not exist"]
    assert at(config, 15, Severity.ERROR) == ["ikev2 profile PROF9 does not exist"]
    assert at(config, 27, Severity.ERROR) == ["ipsec profile NOPE does not exist"]
    assert at(config, 28, Severity.ERROR) == ["interface Tunnel7 does not exist"]


def test_a_destination_no_keyring_peer_covers_is_an_error() -> None:
    config = checked(BASE.replace("tunnel destination 192.0.2.1", "tunnel destination 192.0.2.9"))
    assert at(config, 26, Severity.ERROR) == [
        "no peer of keyring KR covers 192.0.2.9: no pre-shared key for it"
    ]


def test_gre_mode_with_protection_is_gre_over_ipsec_between_the_tunnel_ends() -> None:
    config = checked(BASE.replace(" tunnel mode ipsec ipv4\n", ""))
    assert config.diagnostics == []
    compiled = compile_config(config)
    tunnel = compiled.tunnels["Tunnel1"]
    assert (tunnel.gre, tunnel.source, tunnel.destination) == (True, "198.51.100.7", "192.0.2.1")
    (peer,) = compiled.ike.peers
    assert peer.local_ts == (ipaddress.ip_network("198.51.100.7/32"),)
    assert peer.remote_ts == (ipaddress.ip_network("192.0.2.1/32"),)
    assert (peer.ts_protocol, peer.mode.value) == (47, "tunnel")  # the transform-set's mode


def test_gre_over_ipsec_needs_an_address_for_the_gre_packets() -> None:
    config = checked(
        BASE.replace(" tunnel mode ipsec ipv4\n", "").replace(
            "tunnel source 198.51.100.7", "tunnel source Loopback9"
        )
    )
    (error,) = config.errors
    assert error.source == src(24)
    assert "GRE over IPsec needs the tunnel source's address" in error.message


def test_a_shut_tunnel_is_not_run_and_no_shutdown_brings_it_back() -> None:
    shut = compile_config(checked(BASE + " shutdown\n"))
    assert shut.tunnels == {} and shut.ike.peers == ()
    again = compile_config(checked(BASE + " shutdown\n no shutdown\n"))
    assert list(again.tunnels) == ["Tunnel1"]


def test_responder_only_keeps_the_tunnel_but_does_not_initiate() -> None:
    config = checked(BASE.replace(" set pfs group19\n", " set pfs group19\n responder-only\n"))
    assert compile_config(config).meta["Tunnel1"].initiate is False


def test_unindented_tunnel_config_as_pasted() -> None:
    flat = "\n".join(line.strip() for line in BASE.splitlines()) + "\n"
    flat += "ip route 10.2.0.0 255.255.0.0 Tunnel1\n"
    config = validate(parse_text(flat, FILE))
    assert config.diagnostics == []
    assert compile_config(config).tunnels["Tunnel1"].routes == (
        TunnelRoute(ipaddress.ip_network("10.2.0.0/16")),
    )


def test_tunnel_commands_need_a_tunnel_interface() -> None:
    config = checked("interface GigabitEthernet1\n tunnel destination 192.0.2.1\n")
    assert at(config, 2) == ["tunnel commands need a tunnel interface, not GigabitEthernet1"]


def test_running_config_writes_the_tunnel_back_and_reads_the_same() -> None:
    text = BASE + " shutdown\nip route 10.2.0.0 255.255.0.0 Tunnel1\n"
    rendered = render(checked(text))
    for line in (
        "crypto ipsec profile VTI",
        " set pfs group19",
        "interface Tunnel1",
        " tunnel protection ipsec profile VTI",
        " tunnel destination 192.0.2.1",
        " ip tcp adjust-mss 1360",
        " shutdown",
        "ip route 10.2.0.0 255.255.0.0 Tunnel1",
    ):
        assert line in rendered.splitlines(), line
    again = validate(parse_text(rendered, FILE))
    assert again.errors == []
    assert again.interfaces["Tunnel1"].shutdown
    assert "left-key" not in rendered and "right-key" not in rendered


HUB = """\
crypto ikev2 keyring SPOKES
 peer ALL
  address 10.0.0.0 255.0.0.0
  pre-shared-key spoke-key
crypto ikev2 profile SPOKES
 match identity remote address 10.1.0.0 255.255.0.0
 match address local 192.0.2.1
 authentication local pre-share
 authentication remote pre-share
 keyring local SPOKES
 virtual-template 1
crypto ipsec transform-set TS esp-gcm 256
crypto ipsec profile DVTI
 set transform-set TS
interface Loopback0
 ip address 192.0.2.1 255.255.255.255
interface Virtual-Template1 type tunnel
 ip unnumbered Loopback0
 ip tcp adjust-mss 1360
 tunnel mode ipsec ipv4
 tunnel protection ipsec profile DVTI
"""


def test_a_virtual_template_answers_every_spoke_of_its_profile() -> None:
    config = checked(HUB)
    assert config.diagnostics == []
    compiled = compile_config(config)
    (peer,) = compiled.ike.peers
    assert (peer.name, peer.interface) == ("Virtual-Template1 ALL", "Virtual-Template1")
    assert peer.remote_addresses == (ipaddress.ip_network("10.1.0.0/16"),)  # narrowed
    assert peer.local_addresses == (ipaddress.IPv4Address("192.0.2.1"),)
    assert compiled.meta[peer.name].initiate is False
    template = compiled.templates["Virtual-Template1"]
    assert (template.adjust_mss, template.routes) == (1360, ())
    assert compiled.tunnels == {}
    rendered = render(config)
    assert " virtual-template 1" in rendered and " match address local 192.0.2.1" in rendered
    assert "interface Virtual-Template1 type tunnel" in rendered


def test_a_virtual_template_that_does_not_exist_is_an_error() -> None:
    config = checked(HUB.replace(" virtual-template 1", " virtual-template 2"))
    assert at(config, 11, Severity.ERROR) == [
        "interface Virtual-Template2 type tunnel does not exist"
    ]


def test_df_bit_and_fragmentation_as_cloud_configs_write_them() -> None:
    config = checked("crypto ipsec df-bit clear\ncrypto ipsec fragmentation before-encryption\n")
    assert config.diagnostics == []
    assert (config.df_bit, config.fragmentation) == ("clear", "before-encryption")
    assert "crypto ipsec df-bit clear" in render(config).splitlines()
    after = checked("crypto ipsec fragmentation after-encryption\ncrypto ipsec df-bit copy\n")
    assert [d.severity for d in after.diagnostics] == [Severity.WARNING, Severity.WARNING]
    assert "after-encryption is not done" in after.diagnostics[0].message
