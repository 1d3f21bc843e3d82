"""The IKEv1 half of the compile: `crypto isakmp policy/key`, `crypto keyring`, ISAKMP
profiles and client configuration groups into `IsakmpSettings`, and crypto map entries
without an IKEv2 profile into IKEv1 peers.

IOS picks an ISAKMP profile by `match identity` during phase 1, whether or not a crypto
map names it: a dynamic entry without `set isakmp-profile` therefore yields one peer per
profile no entry claims (matched by identity first), and one without a profile."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from engine.crypto.algorithms import EncrId
from engine.ike.policy import (
    DpdMode,
    DpdPolicy,
    EncryptionChoice,
    Identity,
    IdentityKind,
    PeerPolicy,
)
from engine.ikev1.constants import Phase1Hash
from engine.ikev1.policy import (
    ClientCredentials,
    ClientGroupPolicy,
    IdentityMatch,
    Ikev1PeerSettings,
    IsakmpProposal,
    IsakmpSettings,
    PresharedKey,
    RemoteAccessPolicy,
)
from engine.secret import Secret

if TYPE_CHECKING:
    from engine.config.compile import PeerMeta
    from engine.config.model import (
        Config,
        CryptoMapEntry,
        Interface,
        IpsecProfile,
        IsakmpProfile,
    )

_HASHES = {
    "sha": Phase1Hash.SHA1,
    "md5": Phase1Hash.MD5,
    "sha256": Phase1Hash.SHA2_256,
    "sha384": Phase1Hash.SHA2_384,
    "sha512": Phase1Hash.SHA2_512,
}
_ENCRYPTIONS = {
    "3des": EncryptionChoice(EncrId.DES_3DES, None),
    "aes-128": EncryptionChoice(EncrId.AES_CBC, 128),
    "aes-192": EncryptionChoice(EncrId.AES_CBC, 192),
    "aes-256": EncryptionChoice(EncrId.AES_CBC, 256),
}
#: IOS's default policy when none is configured (its "default protection suite")
_DEFAULT_PROPOSALS = (
    IsakmpProposal(65507, EncryptionChoice(EncrId.AES_CBC, 128), Phase1Hash.SHA1, 14, 86400.0),
)


def isakmp_settings(config: Config) -> IsakmpSettings:
    proposals = tuple(
        IsakmpProposal(
            p.priority,
            _ENCRYPTIONS[p.encryption],
            _HASHES[p.hash],
            p.group,
            float(p.lifetime),
        )
        for p in sorted(config.isakmp_policies.values(), key=lambda p: p.priority)
        if p.encryption in _ENCRYPTIONS and p.authentication == "pre-share"
    )
    keys: list[PresharedKey] = []
    for key in config.isakmp_keys:
        if key.key is not None:
            keys.append(PresharedKey(key.key, key.address, key.hostname or "", "", key.no_xauth))
    for name, keyring in config.isakmp_keyrings.items():
        for item in keyring.keys:
            if item.key is not None:
                keys.append(PresharedKey(item.key, item.address, item.hostname or "", name))
    groups = tuple(_group(config, name) for name in config.client_groups)
    dpd = None
    if config.isakmp_keepalive is not None:
        interval, retry, mode = config.isakmp_keepalive
        dpd = DpdPolicy(float(interval), float(retry), mode)
    return IsakmpSettings(
        proposals=proposals or _DEFAULT_PROPOSALS,
        keys=tuple(keys),
        groups=groups,
        dpd=dpd,
        aggressive_disabled=not config.isakmp_aggressive_mode,
        nat_keepalive=float(config.isakmp_nat_keepalive) if config.isakmp_nat_keepalive else None,
    )


def _group(config: Config, name: str) -> ClientGroupPolicy:
    group = config.client_groups[name]
    split: list[ipaddress.IPv4Network] = []
    if group.acl is not None and group.acl[0] in config.access_lists:
        for entry in config.access_lists[group.acl[0]].entries:
            if entry.action == "permit" and isinstance(entry.source_net, ipaddress.IPv4Network):
                split.append(entry.source_net)
    pool = group.pool[0] if group.pool else ""
    return ClientGroupPolicy(
        name=name,
        key=group.key,
        pool=pool,
        dns=tuple(group.dns),
        wins=tuple(group.wins),
        domain=group.domain or "",
        split_networks=tuple(split),
        save_password=group.save_password,
        banner=group.banner or "",
        netmask=group.netmask,
        max_users=group.max_users,
    )


def _identity_match(profile: IsakmpProfile) -> IdentityMatch:
    addresses, groups, hosts, domains, users = [], [], [], [], []
    for match in profile.matches:
        if match.kind == "address" and match.network is not None:
            addresses.append(match.network)
        elif match.kind == "group":
            groups.append(match.value)
        elif match.kind == "host":
            hosts.append(match.value)
        elif match.kind == "host-domain":
            domains.append(match.value)
        elif match.kind in ("user", "user-domain"):
            users.append(match.value)
    return IdentityMatch(
        tuple(addresses), tuple(groups), tuple(hosts), tuple(domains), tuple(users)
    )


def _self_identity(profile: IsakmpProfile | None) -> Identity | None:
    if profile is None or profile.self_identity is None:
        return None
    kind, value = profile.self_identity
    if kind == "address":
        return Identity.address(value) if value else None
    if kind == "fqdn":
        return Identity(IdentityKind.FQDN, value)
    return Identity(IdentityKind.EMAIL, value)


def _remote_access(
    config: Config, entry: CryptoMapEntry, map_name: str, profile: IsakmpProfile | None
) -> RemoteAccessPolicy | None:
    """From the profile, else from the crypto map's `client ...` lines (the spec's
    configuration without ISAKMP profiles)."""
    if profile is not None:
        xauth = profile.client_authentication_list
        authorization = profile.isakmp_authorization_list
        mode = profile.client_configuration_address or ""
        groups = tuple(profile.groups)
    else:
        client = config.crypto_map_clients.get(map_name)
        if client is None:
            return None
        xauth = client.authentication_list
        authorization = client.authorization_list
        mode = client.configuration_address[0] if client.configuration_address else ""
        groups = ()
    if xauth is None and not mode and authorization is None:
        return None
    return RemoteAccessPolicy(
        xauth_list=xauth[0] if xauth else "",
        authorization_list=authorization[0] if authorization else "",
        config_mode=mode,
        groups=groups,
        reverse_route=entry.reverse_route,
    )


def _psk_for(
    settings: IsakmpSettings, address: ipaddress.IPv4Address, keyrings: tuple[str, ...]
) -> Secret:
    key = settings.key_for_address(address, keyrings)
    return key.key if key is not None else Secret("")


def compile_ikev1_entry(
    config: Config,
    settings: IsakmpSettings,
    entry: CryptoMapEntry,
    map_name: str,
    seqs: tuple[int, ...],
    interface: Interface | None,
    common: dict[str, object],
    selectors: tuple[tuple, tuple, int],
    claimed_profiles: set[str],
    peers: list[PeerPolicy],
    meta: dict[str, PeerMeta],
) -> None:
    from engine.config.compile import PeerMeta

    label = f"{map_name} {'/'.join(str(s) for s in seqs)}"
    local_ts, remote_ts, ts_protocol = selectors
    if entry.isakmp_profile is not None:
        profiles: list[IsakmpProfile | None] = [config.isakmp_profiles[entry.isakmp_profile[0]]]
    elif entry.dynamic:
        profiles = [p for name, p in config.isakmp_profiles.items() if name not in claimed_profiles]
        profiles.append(None)
    else:
        profiles = [None]
    fvrf = interface.vrf if interface and interface.vrf else ""
    addresses = [a for a, _ in entry.peers]
    for profile in profiles:
        keyrings = tuple(k for k, _ in profile.keyrings) if profile else ()
        settings_v1 = Ikev1PeerSettings(
            profile=profile.name if profile else "",
            match=_identity_match(profile) if profile else IdentityMatch(),
            keyrings=keyrings,
            aggressive=bool(profile and profile.initiate_aggressive),
            remote_access=_remote_access(config, entry, map_name, profile),
            self_identity=_self_identity(profile),
        )
        dpd = common.get("dpd")
        if profile is not None and profile.keepalive is not None:
            dpd = DpdPolicy(
                float(profile.keepalive[0]), float(profile.keepalive[1]), DpdMode.PERIODIC
            )
        ivrf = (profile.vrf if profile else None) or ""
        targets: list[tuple[str, tuple, str | None]] = []
        if entry.dynamic or not addresses:
            nets = tuple(ipaddress.ip_network(a) for a in addresses)
            suffix = f" {profile.name}" if profile and len(profiles) > 1 else ""
            targets.append((label + suffix, nets, None))
        else:
            for address in addresses:
                name = f"{label} {address}" if len(addresses) > 1 else label
                targets.append((name, (ipaddress.ip_network(address),), str(address)))
        lifetime = min((p.lifetime for p in settings.proposals), default=86400.0)
        for name, nets, remote in targets:
            psk = (
                _psk_for(settings, ipaddress.IPv4Address(remote), keyrings)
                if remote
                else Secret("")
            )
            description = ""
            if remote is not None and remote in config.isakmp_peers:
                description = config.isakmp_peers[remote].description
            description = (
                description or entry.description or (profile.description if profile else "")
            )
            fields = dict(common)
            fields.update(
                dpd=dpd,
                ike_lifetime=lifetime,
                ivrf=ivrf,
                ike_proposals=(),
                local_identity=None,
                local_addresses=(),
            )
            peers.append(
                PeerPolicy(
                    name=name,
                    psk_local=psk,
                    psk_remote=psk,
                    local_ts=local_ts,
                    remote_ts=remote_ts,
                    remote_addresses=nets,
                    description=description,
                    origin="dynamic crypto map" if entry.dynamic else "crypto map",
                    ts_protocol=ts_protocol,
                    ike_version=1,
                    ikev1=settings_v1,
                    **fields,  # type: ignore[arg-type]
                )
            )
            accounting = profile.accounting[0] if profile and profile.accounting else None
            if accounting is None and map_name in config.crypto_map_accounting:
                accounting = config.crypto_map_accounting[map_name][0]
            meta[name] = PeerMeta(
                peer_name=name,
                crypto_map=map_name,
                seq=seqs[0],
                dynamic=entry.dynamic,
                interface=interface.name if interface else "",
                description=description,
                fvrf=fvrf,
                ivrf=ivrf,
                accounting_list=accounting,
                reverse_route=entry.reverse_route,
                initiate=not entry.dynamic and remote is not None,
                remote=remote,
            )


def compile_ezvpn(
    config: Config,
    settings: IsakmpSettings,
    interface: Interface,
    common: dict[str, object],
    peers: list[PeerPolicy],
    meta: dict[str, PeerMeta],
) -> None:
    """An Easy VPN remote on `interface`: aggressive mode to its server with the group
    as ID_KEY_ID and the group key, XAUTH with its user, tunnels from the address the
    server gives it (to the split networks the server names, else to everything)."""
    from engine.config.compile import ANY, PeerMeta

    assert interface.ezvpn is not None
    client = config.ezvpn_clients[interface.ezvpn[0]]
    if client.key is None or not client.peers:
        return  # check reports it
    address = client.peers[0][0]
    name = f"ezvpn {client.name}"
    credentials = ClientCredentials(client.username, client.password or Secret(""))
    fields = dict(common)
    fields.update(ike_proposals=(), local_identity=None, local_addresses=())
    peers.append(
        PeerPolicy(
            name=name,
            psk_local=client.key,
            psk_remote=client.key,
            local_ts=(ANY,),
            remote_ts=(ANY,),
            remote_addresses=(ipaddress.ip_network(address),),
            description=f"Easy VPN server {address}",
            origin="ezvpn",
            ike_version=1,
            ikev1=Ikev1PeerSettings(
                aggressive=True,
                self_identity=Identity(IdentityKind.KEY_ID, client.group),
                client=credentials,
            ),
            **fields,  # type: ignore[arg-type]
        )
    )
    meta[name] = PeerMeta(
        peer_name=name,
        crypto_map="",
        seq=0,
        dynamic=False,
        interface=interface.name,
        description=f"Easy VPN server {address}",
        fvrf=interface.vrf or "",
        ivrf="",
        accounting_list=None,
        reverse_route=False,
        initiate=client.connect == "auto",
        remote=str(address),
    )


def compile_ikev1_tunnel(
    config: Config,
    settings: IsakmpSettings,
    interface: Interface,
    profile: IpsecProfile,
    common: dict[str, object],
    gre_protocol: int,
    peers: list[PeerPolicy],
    meta: dict[str, PeerMeta],
) -> None:
    """A tunnel interface protected over IKEv1: one peer (its destination) with
    any-to-any selectors (or the GRE endpoints), keyed by `crypto isakmp key` or the
    ISAKMP profile's keyrings; without a key the tunnel stays down (check warns)."""
    from engine.config.compile import ANY, PeerMeta

    assert interface.tunnel_destination is not None
    address = interface.tunnel_destination[0]
    isakmp = (
        config.isakmp_profiles.get(profile.isakmp_profile[0]) if profile.isakmp_profile else None
    )
    keyrings = tuple(k for k, _ in isakmp.keyrings) if isakmp else ()
    key = settings.key_for_address(ipaddress.ip_address(address), keyrings)
    if key is None:
        return
    fields = dict(common)
    gre = fields.pop("gre", None)
    local_ts, remote_ts, protocol = (ANY,), (ANY,), 0
    if gre is not None:
        source, destination = gre  # type: ignore[misc]
        local_ts = (ipaddress.ip_network(source),)
        remote_ts = (ipaddress.ip_network(destination),)
        protocol = gre_protocol
    fields.update(ike_proposals=(), local_identity=None, local_addresses=())
    if isakmp is not None and isakmp.keepalive is not None:
        fields["dpd"] = DpdPolicy(
            float(isakmp.keepalive[0]), float(isakmp.keepalive[1]), DpdMode.PERIODIC
        )
    ivrf = (isakmp.vrf if isakmp else None) or ""
    description = profile.description or interface.description
    peers.append(
        PeerPolicy(
            name=interface.name,
            psk_local=key.key,
            psk_remote=key.key,
            local_ts=local_ts,
            remote_ts=remote_ts,
            ts_protocol=protocol,
            remote_addresses=(ipaddress.ip_network(address),),
            description=description,
            origin="tunnel interface",
            interface=interface.name,
            ivrf=ivrf,
            ike_version=1,
            ikev1=Ikev1PeerSettings(
                profile=isakmp.name if isakmp else "",
                keyrings=keyrings,
                aggressive=bool(isakmp and isakmp.initiate_aggressive),
                self_identity=_self_identity(isakmp),
            ),
            **fields,  # type: ignore[arg-type]
        )
    )
    meta[interface.name] = PeerMeta(
        peer_name=interface.name,
        crypto_map=f"{interface.name}-head-0",
        seq=1,
        dynamic=False,
        interface=interface.name,
        description=description,
        fvrf=interface.vrf or "",
        ivrf=ivrf,
        accounting_list=isakmp.accounting[0] if isakmp and isakmp.accounting else None,
        reverse_route=False,
        initiate=not profile.responder_only,
        remote=str(address),
    )
