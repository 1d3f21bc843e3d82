"""Checks of the remote-access and IKEv1 configuration: method lists, local users,
address pools, client configuration groups, IKEv1 keyrings, profiles and policies.

What IOS would refuse or could never use is an error naming the line that refers
(an undefined keyring, list, pool, group or ACL: XAUTH or mode-config would fail for
every client); what IOS itself only warns about (a method list naming a server group
not defined yet: that method is skipped as unreachable) is a warning.
"""

from __future__ import annotations

from engine.config.diagnostics import Severity, Source
from engine.config.model import (
    GROUP_PREFIX,
    Config,
    IsakmpProfile,
    MethodList,
    PoolRange,
)

#: `keyring default` in an isakmp profile: the global `crypto isakmp key` entries
DEFAULT_KEYRING = "default"
#: what check says of IKEv1 choices the protocol core does not negotiate
NOT_NEGOTIATED = "is not negotiated by this gateway (not supported)"


def validate_remote_access(config: Config) -> None:
    for kind, lists in (
        ("authentication", config.authentication_lists),
        ("authorization", config.authorization_lists),
    ):
        for method_list in lists.values():
            _check_methods(config, kind, method_list)
    _check_pools(config)
    for group in config.client_groups.values():
        if group.pool is not None:
            _require_pool(config, *group.pool)
        if group.acl is not None:
            name, source = group.acl
            if name not in config.access_lists:
                config.report(
                    source, f"access list {name} (the group's split tunnel) does not exist"
                )
    if config.client_address_pool is not None:
        _require_pool(config, *config.client_address_pool)
    for keyring in config.isakmp_keyrings.values():
        if keyring.vrf is not None and keyring.vrf not in config.vrfs:
            config.report(
                keyring.vrf_source, f"VRF {keyring.vrf} is not defined (ip vrf / vrf definition)"
            )
        if keyring.local_address is not None:
            _check_local_address(config, *keyring.local_address)
    for profile in config.isakmp_profiles.values():
        _check_profile(config, profile)
    for name, client in config.crypto_map_clients.items():
        for listed, lists, kind in (
            (client.authentication_list, config.authentication_lists, "authentication"),
            (client.authorization_list, config.authorization_lists, "authorization"),
        ):
            if listed is not None:
                _require_list(config, listed[0], listed[1], lists, kind)
        source = next(
            s
            for s in (
                client.authentication_list,
                client.authorization_list,
                client.configuration_address,
            )
            if s is not None
        )[1]
        if name not in config.crypto_maps:
            config.report(source, f"crypto map {name} does not exist")
    for policy in config.isakmp_policies.values():
        if policy.encryption == "des":
            config.report(
                policy.source_of("encryption"),
                f"crypto isakmp policy {policy.priority}: encryption des {NOT_NEGOTIATED}"
                + ("" if policy.was_set("encryption") else " (IOS's default)"),
                Severity.WARNING,
            )
        if policy.authentication != "pre-share":
            config.report(
                policy.source_of("authentication"),
                f"crypto isakmp policy {policy.priority}: authentication "
                f"{policy.authentication} {NOT_NEGOTIATED}"
                + ("" if policy.was_set("authentication") else " (IOS's default)"),
                Severity.WARNING,
            )


def _check_methods(config: Config, kind: str, method_list: MethodList) -> None:
    for method in method_list.methods:
        if not method.startswith(GROUP_PREFIX):
            continue
        group = method.removeprefix(GROUP_PREFIX)
        if group == "radius":
            if not config.radius_servers:
                config.report(
                    method_list.source,
                    f"{kind} list {method_list.name} uses group radius, but no radius-server "
                    "host is configured: the method is skipped as unreachable",
                    Severity.WARNING,
                )
        elif group not in config.radius_groups:
            config.report(
                method_list.source,
                f"{kind} list {method_list.name}: server group {group} is not defined "
                f"(aaa group server radius {group}): the method is skipped as unreachable",
                Severity.WARNING,
            )


def _require_list(
    config: Config, name: str, source: Source, lists: dict[str, MethodList], kind: str
) -> None:
    if name not in lists:
        command = "authentication login" if kind == "authentication" else "authorization network"
        config.report(source, f"{kind} list {name} does not exist (aaa {command} {name} ...)")


def _require_pool(config: Config, name: str, source: Source) -> None:
    if name not in config.local_pools:
        config.report(source, f"ip local pool {name} does not exist")


def _check_local_address(config: Config, text: str, source: Source) -> None:
    """`local-address A|INTERFACE`: an interface named must exist and have an address."""
    if text[:1].isdigit():
        return
    interface = config.interfaces.get(text)
    if interface is None:
        config.report(source, f"local-address {text}: interface {text} does not exist")
    elif interface.address is None and interface.unnumbered is None:
        config.report(source, f"local-address {text}: interface {text} has no address")


def _check_profile(config: Config, profile: IsakmpProfile) -> None:
    where = f"isakmp profile {profile.name}"
    for name, source in profile.keyrings:
        if name != DEFAULT_KEYRING and name not in config.isakmp_keyrings:
            config.report(source, f"keyring {name} does not exist (crypto keyring {name})")
    if profile.client_authentication_list is not None:
        name, source = profile.client_authentication_list
        _require_list(config, name, source, config.authentication_lists, "authentication")
    authorization = None
    if profile.isakmp_authorization_list is not None:
        name, source = profile.isakmp_authorization_list
        _require_list(config, name, source, config.authorization_lists, "authorization")
        authorization = config.authorization_lists.get(name)
    if profile.local_address is not None:
        _check_local_address(config, *profile.local_address)
    # A group's policy comes from `crypto isakmp client configuration group` unless the
    # authorization list asks a server for it: then it may live on the server alone. An
    # undefined list is an error of its own already.
    if profile.isakmp_authorization_list is not None and (
        authorization is None or authorization.groups
    ):
        return
    for match in profile.matches:
        if match.kind == "group" and match.value not in config.client_groups:
            config.report(
                match.source,
                f"{where}: client configuration group {match.value} does not exist "
                f"(crypto isakmp client configuration group {match.value}), and no "
                "authorization list of the profile asks a server for it",
            )


def _check_pools(config: Config) -> None:
    """IOS refuses a range that overlaps another pool's, or its own pool's."""
    ranges: list[tuple[PoolRange, str]] = [
        (r, pool.name) for pool in config.local_pools.values() for r in pool.ranges
    ]
    ranges.sort(key=lambda item: (int(item[0].first), item[0].source.line))
    reach: tuple[PoolRange, str] | None = None  # the range reaching furthest so far
    for item in ranges:
        current = item[0]
        if reach is not None and current.first <= reach[0].last:
            later, earlier = (
                (item, reach) if current.source.line >= reach[0].source.line else (reach, item)
            )
            config.report(
                later[0].source,
                f"ip local pool {later[1]} {later[0].first} {later[0].last} overlaps pool "
                f"{earlier[1]} {earlier[0].first} {earlier[0].last} "
                f"(line {earlier[0].source.line})",
            )
        if reach is None or current.last > reach[0].last:
            reach = item
