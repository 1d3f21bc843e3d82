"""Reference resolution and the checks IOS would refuse a configuration for."""

from __future__ import annotations

from engine.config.compile import KeyringIndex
from engine.config.diagnostics import Severity, Source
from engine.config.model import (
    AccessList,
    Config,
    CryptoMapEntry,
    Ikev2Keyring,
    Ikev2Proposal,
)
from engine.config.validate_remote_access import validate_remote_access
from engine.config.validate_tunnels import validate_tunnels
from engine.config.validate_xsm import validate_xsm


def validate(config: Config) -> Config:
    """Add every reference and consistency problem to `config.diagnostics`."""
    indexes: dict[str, KeyringIndex] = {}
    for proposal in config.ikev2_proposals.values():
        _check_proposal(config, proposal)
    for policy in config.ikev2_policies.values():
        for name, source in policy.proposals:
            _require(
                config,
                name in config.ikev2_proposals,
                source,
                f"ikev2 proposal {name} does not exist",
            )
        _check_vrf(config, policy.match_fvrf, policy.match_fvrf_source)
    for keyring in config.keyrings.values():
        for peer in keyring.peers:
            if peer.psk_local is None or peer.psk_remote is None:
                which = (
                    ""
                    if peer.psk_local is None and peer.psk_remote is None
                    else ("local " if peer.psk_local is None else "remote ")
                )
                config.report(
                    peer.source,
                    f"keyring {keyring.name} peer {peer.name} has no {which}pre-shared-key",
                )
            if peer.address is None and peer.identity is None:
                config.report(
                    peer.source,
                    f"keyring {keyring.name} peer {peer.name} has "
                    "neither an address nor an identity to match",
                )
        indexes[keyring.name] = _check_duplicates(config, keyring)
    for profile in config.ikev2_profiles.values():
        if profile.keyring is not None:
            name, source = profile.keyring
            _require(config, name in config.keyrings, source, f"keyring {name} does not exist")
        else:
            config.report(
                profile.source,
                f"ikev2 profile {profile.name} has no keyring: "
                "no pre-shared key to authenticate with",
            )
        if profile.accounting is not None:
            _check_accounting(config, *profile.accounting)
        for text, source in profile.match_local:
            if text.startswith("interface "):
                named = config.interfaces.get(text.removeprefix("interface "))
                if named is None or named.address is None:
                    config.report(source, f"match address local {text}: it has no address")
        if profile.virtual_template is not None:
            number, source = profile.virtual_template
            template = config.interfaces.get(f"Virtual-Template{number}")
            if template is None or not template.virtual_template:
                config.report(
                    source,
                    f"interface Virtual-Template{number} type tunnel does not exist",
                )
        _check_vrf(config, profile.ivrf, profile.ivrf_source)
        _check_vrf(config, profile.match_fvrf, profile.match_fvrf_source)
    for profile in config.isakmp_profiles.values():
        if profile.accounting is not None:
            _check_accounting(config, *profile.accounting)
    for name, (acct, source) in config.crypto_map_accounting.items():
        _check_accounting(config, acct, source)
        _require(config, name in config.crypto_maps, source, f"crypto map {name} does not exist")
    for entries in (*config.crypto_maps.values(), *config.dynamic_maps.values()):
        for entry in entries.values():
            _check_entry(config, entry, indexes)
    for interface in config.interfaces.values():
        if interface.crypto_map is not None:
            name, source = interface.crypto_map
            _require(
                config, name in config.crypto_maps, source, f"crypto map {name} does not exist"
            )
        _check_vrf(config, interface.vrf, interface.vrf_source)
    validate_tunnels(config)
    validate_remote_access(config)
    for acct in config.accounting_lists.values():
        group, source = acct.group
        if group == "radius":
            if not config.radius_servers:
                config.report(
                    source,
                    f"accounting list {acct.name} uses group radius, but no "
                    "radius-server host is configured",
                    Severity.WARNING,
                )
        elif group not in config.radius_groups:
            config.report(source, f"server group {group} does not exist")
    for server in config.radius_servers:
        if server.key is None and config.radius.key is None:
            config.report(
                server.source,
                f"radius-server host {server.address} has no key and no radius-server key is set",
            )
    _check_ezvpn(config)
    validate_xsm(config)
    return config


def _require(config: Config, condition: bool, source: Source, message: str) -> None:
    if not condition:
        config.report(source, message)


def _check_vrf(config: Config, vrf: str | None, source: Source) -> None:
    if vrf is not None and vrf != "any" and vrf not in config.vrfs:
        config.report(source, f"VRF {vrf} is not defined (ip vrf / vrf definition)")


def _check_accounting(config: Config, name: str, source: Source) -> None:
    _require(
        config,
        name in config.accounting_lists,
        source,
        f"accounting list {name} does not exist (aaa accounting network {name} ...)",
    )


def _check_proposal(config: Config, proposal: Ikev2Proposal) -> None:
    where = f"ikev2 proposal {proposal.name}"
    aead = [e for e in proposal.encryptions if e.is_aead]
    if not proposal.encryptions:
        config.report(proposal.source, f"{where} has no usable encryption")
    if aead and proposal.integrities:
        config.report(proposal.source, f"{where}: AES-GCM takes no integrity algorithm; use prf")
    if aead and not proposal.prfs:
        config.report(proposal.source, f"{where}: AES-GCM needs a prf")
    if proposal.encryptions and not aead and not proposal.integrities:
        config.report(proposal.source, f"{where} has no usable integrity algorithm")
    if not proposal.groups:
        config.report(proposal.source, f"{where} has no usable DH group")


def _check_duplicates(config: Config, keyring: Ikev2Keyring) -> KeyringIndex:
    """Two peers of one keyring for the same address (or identity): the first is the
    one used, and the second never is, which is worth a word."""
    index = KeyringIndex(keyring.peers)
    for peer, first, same in index.duplicates:
        config.report(
            peer.source,
            f"keyring {keyring.name} peer {peer.name} has the same {same} as peer "
            f"{first.name} (line {first.source.line}); peer {first.name} is the one used",
            Severity.WARNING,
        )
    return index


def _check_acl_protocols(config: Config, acl: AccessList, source: Source) -> None:
    """One child SA carries one IP protocol in its selectors here, as IOS gives one SA
    per ACL line: an ACL that mixes them cannot become one set of selectors."""
    protocols = dict.fromkeys(e.protocol for e in acl.entries if e.action == "permit")
    if len(protocols) > 1:
        config.report(
            source,
            f"access list {acl.name} mixes protocols ({', '.join(protocols)}): the "
            "permit entries of a crypto ACL must all name one protocol",
        )


def _check_modes(config: Config, entry: CryptoMapEntry, where: str) -> None:
    """IKEv2 negotiates one mode per child SA (USE_TRANSPORT_MODE), not per proposal."""
    named = [
        config.transform_sets[n] for n, _ in entry.transform_sets if n in config.transform_sets
    ]
    if len({ts.mode for ts in named}) > 1:
        listing = ", ".join(f"{ts.name} (mode {ts.mode})" for ts in named)
        config.report(
            entry.transform_sets[0][1],
            f"{where}: its transform-sets must agree on one mode: {listing}",
        )


def _check_entry(config: Config, entry: CryptoMapEntry, indexes: dict[str, KeyringIndex]) -> None:
    kind = "crypto dynamic-map" if entry.dynamic else "crypto map"
    where = f"{kind} {entry.map_name} {entry.seq}"
    if entry.dynamic_map is not None:
        name, source = entry.dynamic_map
        _require(config, name in config.dynamic_maps, source, f"dynamic map {name} does not exist")
        return
    for name, source in entry.transform_sets:
        _require(
            config, name in config.transform_sets, source, f"transform-set {name} does not exist"
        )
    if entry.match_address is not None:
        name, source = entry.match_address
        _require(config, name in config.access_lists, source, f"access list {name} does not exist")
        acl = config.access_lists.get(name)
        if acl is not None and acl.standard:
            config.report(
                source,
                f"access list {name} is a standard list; match address needs an extended one",
            )
        elif acl is not None:
            _check_acl_protocols(config, acl, source)
    _check_modes(config, entry, where)
    if entry.isakmp_profile is not None:
        name, source = entry.isakmp_profile
        _require(
            config, name in config.isakmp_profiles, source, f"isakmp profile {name} does not exist"
        )
    if entry.ikev2_profile is None:
        _check_ikev1_keys(config, entry, where)
        return
    name, source = entry.ikev2_profile
    if name not in config.ikev2_profiles:
        config.report(source, f"ikev2 profile {name} does not exist")
        return
    if not entry.dynamic:
        if not entry.peers:
            config.report(entry.source, f"{where} has no 'set peer'")
        if entry.match_address is None:
            config.report(entry.source, f"{where} has no 'match address'")
    profile = config.ikev2_profiles[name]
    keyring = config.keyrings.get(profile.keyring[0]) if profile.keyring else None
    if keyring is not None and not entry.dynamic:
        index = indexes[keyring.name]
        for address, peer_source in entry.peers:
            if index.peer_for(address) is None:
                config.report(
                    peer_source,
                    f"no peer of keyring {keyring.name} covers {address}: no pre-shared key for it",
                )
    named = [config.transform_sets.get(ts) for ts, _ in entry.transform_sets]
    if named and all(named) and not any(ts.usable for ts in named if ts):
        config.report(entry.source, f"{where}: none of its transform-sets can be negotiated")


def _check_ezvpn(config: Config) -> None:
    """An interface's Easy VPN client must exist with its group, key and server."""
    for interface in config.interfaces.values():
        if interface.ezvpn is None:
            continue
        name, source = interface.ezvpn
        client = config.ezvpn_clients.get(name)
        if client is None:
            config.report(source, f"crypto ipsec client ezvpn {name} does not exist")
            continue
        if client.key is None or not client.group:
            config.report(client.source, f"ezvpn {name} has no 'group NAME key KEY'")
        if not client.peers:
            config.report(client.source, f"ezvpn {name} has no 'peer ADDRESS'")


def _check_ikev1_keys(config: Config, entry: CryptoMapEntry, where: str) -> None:
    """An IKEv1 entry's peers need a pre-shared key (`crypto isakmp key` or a keyring of
    its profile): IOS would fail their phase 1 with "no pre-shared key"."""
    keyrings: set[str] = set()
    if entry.isakmp_profile is not None and entry.isakmp_profile[0] in config.isakmp_profiles:
        keyrings = {k for k, _ in config.isakmp_profiles[entry.isakmp_profile[0]].keyrings}
    for address, source in entry.peers:
        found = any(
            k.address is not None and k.address.version == 4 and address in k.address
            for k in config.isakmp_keys
        ) or any(
            item.address is not None and item.address.version == 4 and address in item.address
            for name, ring in config.isakmp_keyrings.items()
            if not keyrings or name in keyrings
            for item in ring.keys
        )
        if not found:
            config.report(
                source,
                f"{where}: no crypto isakmp key or keyring pre-shared-key covers peer {address}: "
                "its phase 1 fails",
                Severity.WARNING,
            )
