"""Checks of the route-based side: ipsec profiles, tunnel interfaces and their routes.

What IOS would take but this gateway cannot run is an error with the reason, never a
silent downgrade; what a router would take and leave down is a warning that says so."""

from __future__ import annotations

import ipaddress

from engine.config.compile import KeyringIndex
from engine.config.diagnostics import Severity
from engine.config.model import Config, Interface, IpsecProfile
from engine.config.tunnels import (
    IPSEC_IPV4,
    tunnel_mode,
    tunnel_of_next_hop,
    tunnel_source_address,
)


def validate_tunnels(config: Config) -> None:
    for profile in config.ipsec_profiles.values():
        _check_profile(config, profile)
    for interface in config.interfaces.values():
        if interface.is_tunnel:
            _check_tunnel(config, interface)
            continue
        for text, source in interface.link_settings:
            config.report(
                source,
                f"ignored: {text} on {interface.name}: the host's interface; this gateway "
                "applies it on its tunnel interfaces only",
                Severity.WARNING,
            )
    for route in config.static_routes:
        target = config.interfaces.get(route.interface) if route.interface else None
        if route.interface is None and route.next_hop is not None:
            target = tunnel_of_next_hop(config, route.next_hop)
        if (
            route.interface is not None
            and target is None
            and route.interface.startswith(("Tunnel", "Virtual-"))
        ):
            config.report(route.source, f"interface {route.interface} does not exist")
        elif target is not None and target.virtual_template:
            config.report(
                route.source,
                f"ip route into {target.name}: a virtual template carries no traffic itself",
            )
        elif target is None or not target.is_tunnel:
            config.report(
                route.source,
                f"ignored: {route.text}: not into a tunnel interface "
                "(the host's own routing table carries it)",
                Severity.WARNING,
            )
        elif route.vrf is not None:
            config.report(
                route.source,
                f"ignored: {route.text}: routes in a VRF are not installed by this gateway",
                Severity.WARNING,
            )


def _check_profile(config: Config, profile: IpsecProfile) -> None:
    where = f"crypto ipsec profile {profile.name}"
    for name, source in profile.transform_sets:
        if name not in config.transform_sets:
            config.report(source, f"transform-set {name} does not exist")
    named = [config.transform_sets.get(ts) for ts, _ in profile.transform_sets]
    if named and all(named) and not any(ts.usable for ts in named if ts):
        config.report(profile.source, f"{where}: none of its transform-sets can be negotiated")
    if any(ts and ts.mode == "transport" for ts in named) and _used_by_ipsec_ipv4(config, profile):
        config.report(
            profile.source,
            f"{where}: mode transport of its transform-set is not used by tunnel interfaces "
            "(tunnel mode ipsec ipv4 carries whole packets: tunnel mode)",
            Severity.WARNING,
        )
    if profile.isakmp_profile is not None:
        name, source = profile.isakmp_profile
        if name not in config.isakmp_profiles:
            config.report(source, f"isakmp profile {name} does not exist")
    if profile.ikev2_profile is not None:
        name, source = profile.ikev2_profile
        if name not in config.ikev2_profiles:
            config.report(source, f"ikev2 profile {name} does not exist")


def _check_tunnel(config: Config, interface: Interface) -> None:
    name = interface.name
    if interface.tunnel_protection is None:
        if not interface.virtual_template and not interface.shutdown:
            config.report(
                interface.source,
                f"{name} has no tunnel protection: a plain GRE tunnel is not made by this "
                "gateway (it runs IPsec tunnel interfaces only)",
                Severity.WARNING,
            )
        return
    profile_name, source = interface.tunnel_protection
    profile = config.ipsec_profiles.get(profile_name)
    if profile is None:
        config.report(source, f"ipsec profile {profile_name} does not exist")
        return
    gre = tunnel_mode(interface) != IPSEC_IPV4
    if gre and not interface.virtual_template and tunnel_source_address(config, interface) is None:
        at = interface.tunnel_source[1] if interface.tunnel_source else interface.source
        config.report(
            at,
            f"{name}: GRE over IPsec needs the tunnel source's address for the GRE packets; "
            "give tunnel source an address or an interface with one",
        )
    if gre and interface.virtual_template:
        config.report(
            interface.source,
            f"{name}: a virtual template in GRE mode is not run by this gateway; "
            "use tunnel mode ipsec ipv4",
        )
    if (
        profile.ikev2_profile is None
        and not interface.virtual_template
        and interface.tunnel_destination is not None
    ):
        _check_ikev1_tunnel_key(config, name, profile, interface.tunnel_destination[0])
    if interface.virtual_template:
        return
    if interface.tunnel_destination is None:
        config.report(
            interface.source, f"{name} has no tunnel destination: it stays down", Severity.WARNING
        )
    if interface.tunnel_source is None:
        config.report(
            interface.source,
            f"{name} has no tunnel source: the gateway's own address is used",
            Severity.WARNING,
        )
    elif not _is_address(interface.tunnel_source[0]) and not gre:
        source_name, at = interface.tunnel_source
        if source_name not in config.interfaces:
            config.report(at, f"tunnel source {source_name}: interface does not exist")
    if interface.tunnel_destination is not None and profile.ikev2_profile is not None:
        keyring = _keyring_covers(config, profile, interface.tunnel_destination[0])
        if keyring is not None:
            config.report(
                interface.tunnel_destination[1],
                f"no peer of keyring {keyring} covers {interface.tunnel_destination[0]}: "
                "no pre-shared key for it",
            )


def _keyring_covers(
    config: Config, profile: IpsecProfile, address: ipaddress.IPv4Address
) -> str | None:
    """The keyring's name when none of its peers covers `address`; None when one does
    (or when there is no keyring to check: other checks report that)."""
    assert profile.ikev2_profile is not None
    ikev2 = config.ikev2_profiles.get(profile.ikev2_profile[0])
    if ikev2 is None or ikev2.keyring is None or ikev2.keyring[0] not in config.keyrings:
        return None
    keyring = config.keyrings[ikev2.keyring[0]]
    return None if KeyringIndex(keyring.peers).peer_for(address) else keyring.name


def _is_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _used_by_ipsec_ipv4(config: Config, profile: IpsecProfile) -> bool:
    return any(
        i.tunnel_protection is not None
        and i.tunnel_protection[0] == profile.name
        and tunnel_mode(i) == IPSEC_IPV4
        for i in config.interfaces.values()
    )


def _check_ikev1_tunnel_key(config: Config, name: str, profile: IpsecProfile, peer: object) -> None:
    """An ipsec profile without an IKEv2 profile is IKEv1: its peer needs an isakmp key."""
    keyrings: set[str] = set()
    if profile.isakmp_profile is not None and profile.isakmp_profile[0] in config.isakmp_profiles:
        keyrings = {k for k, _ in config.isakmp_profiles[profile.isakmp_profile[0]].keyrings}
    covered = any(k.address is not None and peer in k.address for k in config.isakmp_keys) or any(
        item.address is not None and peer in item.address
        for ring_name, ring in config.isakmp_keyrings.items()
        if not keyrings or ring_name in keyrings
        for item in ring.keys
    )
    if not covered:
        config.report(
            profile.source,
            f"crypto ipsec profile {profile.name} is IKEv1 (no set ikev2-profile) and no "
            f"crypto isakmp key covers {name}'s destination {peer}: {name} stays down",
            Severity.WARNING,
        )
