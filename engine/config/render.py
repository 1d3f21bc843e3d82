"""`show running-config`: the model written back in the dialect, secrets masked."""

from __future__ import annotations

from engine.config.commands.crypto_ikev2 import ENCRYPTIONS, HASHES
from engine.config.commands.system import TRAP_LEVELS
from engine.config.model import Config, CryptoMapEntry, Interface, IpsecProfile, Network
from engine.config.render_ikev1 import aaa_lines, ikev1_lines, pool_lines, user_lines
from engine.config.render_xsm import http_lines, xsm_lines
from engine.ike.policy import Identity, IdentityKind
from engine.secret import MASK, Secret

ENCRYPTION_NAMES = {choice: name for name, choice in ENCRYPTIONS.items() if choice}
INTEG_NAMES = {pair[0]: name for name, pair in HASHES.items() if pair}
PRF_NAMES = {pair[1]: name for name, pair in HASHES.items() if pair}


def _identity(identity: Identity) -> str:
    kind = {
        IdentityKind.ADDRESS: "address",
        IdentityKind.FQDN: "fqdn",
        IdentityKind.EMAIL: "email",
        IdentityKind.KEY_ID: "key-id",
    }[identity.kind]
    return f"{kind} {identity.value}"


def _key(secret: Secret | None) -> str:
    return MASK if secret is not None else ""


def render(config: Config) -> str:
    out: list[str] = [f"hostname {config.hostname}", "!"]
    if config.aaa_new_model:
        out.append("aaa new-model")
    out += aaa_lines(config)
    for acct in config.accounting_lists.values():
        broadcast = " broadcast" if acct.broadcast else ""
        out.append(
            f"aaa accounting network {acct.name} {acct.mode}{broadcast} group {acct.group[0]}"
        )
    if config.accounting_update_minutes is not None or config.accounting_update_newinfo:
        newinfo = "newinfo " if config.accounting_update_newinfo else ""
        periodic = (
            f"periodic {config.accounting_update_minutes}"
            if config.accounting_update_minutes is not None
            else ""
        )
        out.append(f"aaa accounting update {newinfo}{periodic}".rstrip())
    if config.aaa_session_id_common:
        out.append("aaa session-id common")
    for group in config.radius_groups.values():
        out.append(f"aaa group server radius {group.name}")
        out += [
            f" server {s.address} auth-port {s.auth_port} acct-port {s.acct_port}"
            for s in group.servers
        ]
    out += user_lines(config)
    out.append("!")
    for name in config.vrfs:
        out.append(f"ip vrf {name}")
    for peer in config.isakmp_peers.values():
        out.append(f"crypto isakmp peer address {peer.address}")
        if peer.description:
            out.append(f" description {peer.description}")
    for proposal in config.ikev2_proposals.values():
        out.append(f"crypto ikev2 proposal {proposal.name}")
        if proposal.encryptions:
            out.append(" encryption " + " ".join(ENCRYPTION_NAMES[e] for e in proposal.encryptions))
        if proposal.integrities:
            out.append(" integrity " + " ".join(INTEG_NAMES[i] for i in proposal.integrities))
        if proposal.prfs:
            out.append(" prf " + " ".join(PRF_NAMES[p] for p in proposal.prfs))
        if proposal.groups:
            out.append(" group " + " ".join(str(g) for g in proposal.groups))
    for policy in config.ikev2_policies.values():
        out.append(f"crypto ikev2 policy {policy.name}")
        out += [f" proposal {name}" for name, _ in policy.proposals]
        if policy.match_fvrf:
            out.append(f" match fvrf {policy.match_fvrf}")
        out += [f" match address local {addr}" for addr in policy.match_local]
    for keyring in config.keyrings.values():
        out.append(f"crypto ikev2 keyring {keyring.name}")
        for peer in keyring.peers:
            out.append(f" peer {peer.name}")
            if peer.description:
                out.append(f"  description {peer.description}")
            if peer.address is not None:
                out.append(f"  address {_address(peer.address)}")
            if peer.identity is not None:
                out.append(f"  identity {_identity(peer.identity)}")
            if peer.psk_local is not None and peer.psk_local == peer.psk_remote:
                out.append(f"  pre-shared-key {_key(peer.psk_local)}")
            else:
                if peer.psk_local is not None:
                    out.append(f"  pre-shared-key local {_key(peer.psk_local)}")
                if peer.psk_remote is not None:
                    out.append(f"  pre-shared-key remote {_key(peer.psk_remote)}")
    for profile in config.ikev2_profiles.values():
        out.append(f"crypto ikev2 profile {profile.name}")
        if profile.description:
            out.append(f" description {profile.description}")
        for match in profile.match_remote:
            if match.kind == "address" and match.network is not None:
                out.append(f" match identity remote address {_address(match.network)}")
            else:
                domain = "domain " if match.domain else ""
                out.append(f" match identity remote {match.kind} {domain}{match.value}")
        if profile.match_fvrf:
            out.append(f" match fvrf {profile.match_fvrf}")
        if profile.local_identity:
            out.append(f" identity local {_identity(profile.local_identity)}")
        if profile.auth_local:
            out.append(f" authentication local {profile.auth_local}")
        out += [f" authentication remote {m}" for m in profile.auth_remote]
        if profile.keyring:
            out.append(f" keyring local {profile.keyring[0]}")
        if profile.lifetime:
            out.append(f" lifetime {profile.lifetime}")
        if profile.dpd:
            out.append(f" dpd {profile.dpd[0]} {profile.dpd[1]} {profile.dpd[2].value}")
        out += [f" match address local {address}" for address, _ in profile.match_local]
        if profile.ivrf:
            out.append(f" ivrf {profile.ivrf}")
        if profile.virtual_template:
            out.append(f" virtual-template {profile.virtual_template[0]}")
        if profile.accounting:
            out.append(f" aaa accounting psk {profile.accounting[0]}")
    for ts in config.transform_sets.values():
        out.append(f"crypto ipsec transform-set {ts.name} {' '.join(ts.transforms)}")
        out.append(f" mode {ts.mode}")
    for profile in config.ipsec_profiles.values():
        out.append(f"crypto ipsec profile {profile.name}")
        out += _entry_lines(profile)
        if profile.responder_only:
            out.append(" responder-only")
    for name, entries in config.dynamic_maps.items():
        for entry in entries.values():
            out.append(f"crypto dynamic-map {name} {entry.seq}")
            out += _entry_lines(entry)
    for name, (acct, _) in config.crypto_map_accounting.items():
        out.append(f"crypto map {name} client accounting list {acct}")
    for name, entries in config.crypto_maps.items():
        for entry in entries.values():
            dynamic = f" dynamic {entry.dynamic_map[0]}" if entry.dynamic_map else ""
            out.append(f"crypto map {name} {entry.seq} ipsec-isakmp{dynamic}")
            out += _entry_lines(entry)
    out.append("!")
    for interface in config.interfaces.values():
        out += _interface_lines(interface)
        out.append("!")
    out += pool_lines(config)
    out += http_lines(config)
    for acl in config.access_lists.values():
        if acl.name.isdigit():
            out += [f"access-list {acl.name} {e.text(acl.standard)}" for e in acl.entries]
        else:
            kind = "standard" if acl.standard else "extended"
            out.append(f"ip access-list {kind} {acl.name}")
            out += [f" {e.text(acl.standard)}" for e in acl.entries]
    for route in config.static_routes:
        out.append(route.text)
    for host in config.logging_hosts:
        out.append(f"logging host {host.address} transport udp port {host.port}")
    for server in config.radius_servers:
        key = f" key {MASK}" if server.key is not None else ""
        out.append(
            f"radius-server host {server.address} auth-port {server.auth_port} "
            f"acct-port {server.acct_port}{key}"
        )
    if config.radius.key is not None:
        out.append(f"radius-server key {MASK}")
    radius = config.radius  # like IOS, defaults are not shown
    if radius.retransmit != 3:
        out.append(f"radius-server retransmit {radius.retransmit}")
    if radius.timeout != 5:
        out.append(f"radius-server timeout {radius.timeout}")
    if radius.deadtime:
        out.append(f"radius-server deadtime {radius.deadtime}")
    if radius.vsa_send_accounting:
        out.append("radius-server vsa send accounting")
    if config.logging_buffered is not None:
        out.append(f"logging buffered {config.logging_buffered}")
    if config.logging_trap != 6:
        out.append(f"logging trap {TRAP_LEVELS[config.logging_trap]}")
    if config.df_bit != "copy":
        out.append(f"crypto ipsec df-bit {config.df_bit}")
    if config.fragmentation != "before-encryption":
        out.append(f"crypto ipsec fragmentation {config.fragmentation}")
    if config.replay_window != 64:
        out.append(f"crypto ipsec security-association replay window-size {config.replay_window}")
    out += ikev1_lines(config)
    out += xsm_lines(config)
    out.append("end")
    return "\n".join(out) + "\n"


def _interface_lines(interface: Interface) -> list[str]:
    template = " type tunnel" if interface.virtual_template else ""
    lines = [f"interface {interface.name}{template}"]
    if interface.description:
        lines.append(f" description {interface.description}")
    if interface.vrf:
        lines.append(f" vrf forwarding {interface.vrf}")
    if interface.address:
        lines.append(f" ip address {interface.address.ip} {interface.address.netmask}")
    if interface.unnumbered:
        lines.append(f" ip unnumbered {interface.unnumbered}")
    if interface.mtu:
        lines.append(f" ip mtu {interface.mtu}")
    if interface.adjust_mss:
        lines.append(f" ip tcp adjust-mss {interface.adjust_mss}")
    if interface.crypto_map:
        lines.append(f" crypto map {interface.crypto_map[0]}")
    if interface.ezvpn:
        lines.append(f" crypto ipsec client ezvpn {interface.ezvpn[0]}")
    if interface.tunnel_source:
        lines.append(f" tunnel source {interface.tunnel_source[0]}")
    if interface.tunnel_mode:
        lines.append(f" tunnel mode {interface.tunnel_mode[0]}")
    if interface.tunnel_destination:
        lines.append(f" tunnel destination {interface.tunnel_destination[0]}")
    if interface.tunnel_protection:
        lines.append(f" tunnel protection ipsec profile {interface.tunnel_protection[0]}")
    if interface.shutdown:
        lines.append(" shutdown")
    return lines


def _entry_lines(entry: CryptoMapEntry | IpsecProfile) -> list[str]:
    lines = []
    if entry.description:
        lines.append(f" description {entry.description}")
    if isinstance(entry, IpsecProfile):
        return lines + _set_lines(entry)
    lines += [f" set peer {addr}" for addr, _ in entry.peers]
    lines += _set_lines(entry)
    if entry.match_address:
        lines.append(f" match address {entry.match_address[0]}")
    if entry.reverse_route:
        lines.append(" reverse-route" + _reverse_route(entry))
    return lines


def _reverse_route(entry: CryptoMapEntry) -> str:
    words = []
    if entry.reverse_route_tag is not None:
        words.append(f"tag {entry.reverse_route_tag}")
    if entry.reverse_route_remote_peer:
        words.append("remote-peer")
        if entry.reverse_route_next_hop is not None:
            words.append(str(entry.reverse_route_next_hop))
            if entry.reverse_route_gateway:
                words.append("gateway")
    if entry.reverse_route_static:
        words.append("static")
    return "".join(f" {w}" for w in words)


def _set_lines(entry: CryptoMapEntry | IpsecProfile) -> list[str]:
    lines = []
    if entry.transform_sets:
        lines.append(" set transform-set " + " ".join(n for n, _ in entry.transform_sets))
    if entry.ikev2_profile:
        lines.append(f" set ikev2-profile {entry.ikev2_profile[0]}")
    if entry.isakmp_profile:
        lines.append(f" set isakmp-profile {entry.isakmp_profile[0]}")
    if entry.pfs_group:
        lines.append(f" set pfs group{entry.pfs_group}")
    if entry.lifetime_seconds:
        lines.append(f" set security-association lifetime seconds {entry.lifetime_seconds}")
    if entry.lifetime_kb:
        lines.append(f" set security-association lifetime kilobytes {entry.lifetime_kb}")
    return lines


def _address(net: Network) -> str:
    """`A MASK` for IPv4 as IOS writes it; IPv6 as the bare address (a single host)."""
    if net.version == 6:
        return str(net.network_address)
    return f"{net.network_address} {net.netmask}"
