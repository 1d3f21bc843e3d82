"""`show running-config` for the remote-access and IKEv1 family: local users, method
lists, address pools, client configuration groups, IKEv1 keyrings, keys, profiles and
policies. Secrets (keys, passwords, hashes) are masked, as everywhere."""

from __future__ import annotations

from engine.config.model import (
    GROUP_PREFIX,
    Config,
    IsakmpProfile,
    MethodList,
    Network,
)
from engine.ike.policy import DpdMode
from engine.secret import MASK


def _methods(method_list: MethodList) -> str:
    return " ".join(
        f"group {m.removeprefix(GROUP_PREFIX)}" if m.startswith(GROUP_PREFIX) else m
        for m in method_list.methods
    )


def aaa_lines(config: Config) -> list[str]:
    lines = [
        f"aaa authentication login {m.name} {_methods(m)}"
        for m in config.authentication_lists.values()
    ]
    lines += [
        f"aaa authorization network {m.name} {_methods(m)}"
        for m in config.authorization_lists.values()
    ]
    return lines


def user_lines(config: Config) -> list[str]:
    lines = []
    for user in config.local_users.values():
        privilege = f" privilege {user.privilege}" if user.privilege != 1 else ""
        lines.append(f"username {user.name}{privilege} {user.keyword} {user.kind} {MASK}")
    return lines


def pool_lines(config: Config) -> list[str]:
    return [
        f"ip local pool {pool.name} {r.first} {r.last}"
        for pool in config.local_pools.values()
        for r in pool.ranges
    ]


def _encryption(name: str) -> str:
    """'aes-256' -> 'aes 256'; AES-128 as IOS shows it, `aes` alone."""
    if name == "aes-128":
        return "aes"
    return name.replace("-", " ")


def _profile_lines(profile: IsakmpProfile) -> list[str]:
    lines = [f"crypto isakmp profile {profile.name}"]
    if profile.description:
        lines.append(f" description {profile.description}")
    if profile.vrf:
        lines.append(f" vrf {profile.vrf}")
    for name, _ in profile.keyrings:
        lines.append(f" keyring {name}")
    for match in profile.matches:
        if match.kind == "address" and match.network is not None:
            vrf = f" {match.vrf}" if match.vrf else ""
            lines.append(f" match identity address {_net(match.network)}{vrf}")
        else:
            kind = match.kind.replace("-domain", " domain")
            lines.append(f" match identity {kind} {match.value}")
    if profile.self_identity:
        kind, value = profile.self_identity
        lines.append(f" self-identity {kind} {value}".rstrip())
    if profile.local_address:
        lines.append(f" local-address {profile.local_address[0]}")
    if profile.client_authentication_list:
        lines.append(f" client authentication list {profile.client_authentication_list[0]}")
    if profile.isakmp_authorization_list:
        lines.append(f" isakmp authorization list {profile.isakmp_authorization_list[0]}")
    if profile.client_configuration_address:
        lines.append(f" client configuration address {profile.client_configuration_address}")
    if profile.accounting:
        lines.append(f" accounting {profile.accounting[0]}")
    if profile.keepalive:
        lines.append(f" keepalive {profile.keepalive[0]} retry {profile.keepalive[1]}")
    if profile.initiate_aggressive:
        lines.append(" initiate mode aggressive")
    return lines


def ezvpn_lines(config: Config) -> list[str]:
    lines = []
    for client in config.ezvpn_clients.values():
        lines.append(f"crypto ipsec client ezvpn {client.name}")
        lines.append(f" connect {client.connect}")
        if client.group:
            lines.append(f" group {client.group} key {MASK}")
        lines.append(f" mode {client.mode}")
        lines += [f" peer {address}" for address, _ in client.peers]
        if client.username:
            lines.append(f" username {client.username} password {MASK}")
        lines.append(f" xauth userid mode {client.xauth_mode}")
    return lines


def ikev1_lines(config: Config) -> list[str]:
    lines = ezvpn_lines(config)
    for policy in config.isakmp_policies.values():
        lines += [
            f"crypto isakmp policy {policy.priority}",
            f" encryption {_encryption(policy.encryption)}",
            f" hash {policy.hash}",
            f" authentication {policy.authentication}",
            f" group {policy.group}",
            f" lifetime {policy.lifetime}",
        ]
    for key in config.isakmp_keys:
        peer = f"hostname {key.hostname}" if key.hostname else f"address {_net(key.address)}"
        no_xauth = " no-xauth" if key.no_xauth else ""
        lines.append(f"crypto isakmp key {MASK} {peer}{no_xauth}")
    if config.isakmp_keepalive:
        interval, retry, mode = config.isakmp_keepalive
        shown = " periodic" if mode is DpdMode.PERIODIC else ""
        lines.append(f"crypto isakmp keepalive {interval} {retry}{shown}")
    if config.isakmp_nat_keepalive is not None:
        lines.append(f"crypto isakmp nat keepalive {config.isakmp_nat_keepalive}")
    if config.isakmp_identity != "address":
        lines.append(f"crypto isakmp identity {config.isakmp_identity}")
    if not config.isakmp_aggressive_mode:
        lines.append("crypto isakmp aggressive-mode disable")
    if config.isakmp_invalid_spi_recovery:
        lines.append("crypto isakmp invalid-spi-recovery")
    for keyring in config.isakmp_keyrings.values():
        vrf = f" vrf {keyring.vrf}" if keyring.vrf else ""
        lines.append(f"crypto keyring {keyring.name}{vrf}")
        if keyring.description:
            lines.append(f" description {keyring.description}")
        if keyring.local_address:
            lines.append(f" local-address {keyring.local_address[0]}")
        for item in keyring.keys:
            peer = f"hostname {item.hostname}" if item.hostname else f"address {_net(item.address)}"
            lines.append(f" pre-shared-key {peer} key {MASK}")
    for group in config.client_groups.values():
        lines.append(f"crypto isakmp client configuration group {group.name}")
        if group.key is not None:
            lines.append(f" key {MASK}")
        if group.dns:
            lines.append(" dns " + " ".join(map(str, group.dns)))
        if group.wins:
            lines.append(" wins " + " ".join(map(str, group.wins)))
        if group.domain:
            lines.append(f" domain {group.domain}")
        if group.pool:
            lines.append(f" pool {group.pool[0]}")
        if group.acl:
            lines.append(f" acl {group.acl[0]}")
        if group.save_password:
            lines.append(" save-password")
        if group.max_users is not None:
            lines.append(f" max-users {group.max_users}")
        if group.netmask is not None:
            lines.append(f" netmask {group.netmask}")
        if group.banner is not None:
            lines.append(f" banner ^C{group.banner}^C")
    if config.client_address_pool:
        pool = config.client_address_pool[0]
        lines.append(f"crypto isakmp client configuration address-pool local {pool}")
    for profile in config.isakmp_profiles.values():
        lines += _profile_lines(profile)
    for name, client in config.crypto_map_clients.items():
        head = f"crypto map {name}"
        if client.authentication_list:
            lines.append(f"{head} client authentication list {client.authentication_list[0]}")
        if client.authorization_list:
            lines.append(f"{head} isakmp authorization list {client.authorization_list[0]}")
        if client.configuration_address:
            lines.append(f"{head} client configuration address {client.configuration_address[0]}")
    return lines


def _net(net: Network | None) -> str:
    assert net is not None
    if net.version == 6:
        return str(net.network_address)
    return f"{net.network_address} {net.netmask}"
