"""Model -> what the gateway runs: IKE policy per peer, plus what sessions, accounting
and syslog need to know about each peer (crypto map, interface, VRFs, description).

Each crypto map entry with an ikev2 profile becomes one `PeerPolicy` per peer it
can talk to: a static entry per `set peer` address, a dynamic entry per keyring
peer of its profile. Entries without an ikev2 profile are IKEv1 and are skipped.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from engine.config.commands.crypto_ikev2 import HASHES
from engine.config.compile_ikev1 import (
    compile_ezvpn,
    compile_ikev1_entry,
    compile_ikev1_tunnel,
    isakmp_settings,
)
from engine.config.compile_xsm import xsm_settings
from engine.config.diagnostics import ConfigError
from engine.config.model import (
    Config,
    CryptoMapEntry,
    Ikev2Profile,
    Interface,
    IpsecProfile,
    KeyringPeer,
    Network,
)
from engine.config.tunnels import (
    IPSEC_IPV4,
    tunnel_mode,
    tunnel_networks,
    tunnel_source_address,
)
from engine.crypto.algorithms import DhId, IntegId, PrfId
from engine.ike.policy import (
    AES_CBC_128,
    AES_CBC_256,
    AES_GCM_128,
    AES_GCM_256,
    DpdPolicy,
    EspProposalPolicy,
    IkeConfig,
    IkeProposalPolicy,
    IpsecMode,
    PeerPolicy,
)
from engine.xsm.settings import XsmSettings

#: used when no `crypto ikev2 policy` applies, like IOS's default proposal
DEFAULT_IKE_PROPOSAL = IkeProposalPolicy(
    "default",
    (AES_GCM_256, AES_GCM_128, AES_CBC_256, AES_CBC_128),
    (PrfId.HMAC_SHA2_512, PrfId.HMAC_SHA2_384, PrfId.HMAC_SHA2_256),
    (IntegId.HMAC_SHA2_512_256, IntegId.HMAC_SHA2_384_192, IntegId.HMAC_SHA2_256_128),
    (DhId.ECP_256, DhId.ECP_384, DhId.CURVE25519, DhId.MODP_2048),
)
#: used when an entry names no transform-set
DEFAULT_TRANSFORM_SETS = (
    EspProposalPolicy("default-gcm", (AES_GCM_256,)),
    EspProposalPolicy("default-cbc", (AES_CBC_256,), (IntegId.HMAC_SHA2_256_128,)),
)
ANY = ipaddress.ip_network("0.0.0.0/0")
GRE_PROTOCOL = 47
IOS_DEFAULT_LIFETIME_KB = 4_608_000


@dataclass(frozen=True, slots=True)
class PeerMeta:
    """What the console shows about a peer besides its SAs."""

    peer_name: str
    crypto_map: str
    seq: int
    dynamic: bool
    interface: str
    description: str
    fvrf: str
    ivrf: str
    accounting_list: str | None
    reverse_route: bool
    #: a static entry with `set peer`: kept up by initiating
    initiate: bool
    remote: str | None

    @property
    def origin(self) -> str:
        return "dynamic crypto map" if self.dynamic else "crypto map"


@dataclass(frozen=True, slots=True)
class TunnelRoute:
    """An `ip route` into a tunnel interface; the lowest distance among tunnels that are
    up carries the traffic (a floating static route takes over when its tunnel's
    primary goes down, as on IOS)."""

    network: Network
    distance: int = 1


@dataclass(frozen=True, slots=True)
class TunnelInterface:
    """A tunnel interface as the data plane makes it: a TUN device of its own, its
    address, and the networks the configuration routes into it."""

    name: str
    address: ipaddress.IPv4Interface | None
    mtu: int | None
    adjust_mss: int | None
    routes: tuple[TunnelRoute, ...]
    #: `tunnel destination`: the peer
    destination: str | None = None
    #: `tunnel mode gre ip`: GRE over IPsec, from `source` (the tunnel source's address)
    gre: bool = False
    source: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledConfig:
    ike: IkeConfig
    meta: dict[str, PeerMeta] = field(default_factory=dict)
    hostname: str = "Router"
    #: peer address -> description from `crypto isakmp peer address A`
    isakmp_descriptions: dict[str, str] = field(default_factory=dict)
    #: the tunnel interfaces that are up (not shut down), by IOS name
    tunnels: dict[str, TunnelInterface] = field(default_factory=dict)
    #: virtual templates (dynamic VTI), by IOS name: each peer gets a virtual access
    templates: dict[str, TunnelInterface] = field(default_factory=dict)
    #: `ip http ...`, `xsm ...` and the local users: what the XSM service serves
    xsm: XsmSettings = field(default_factory=XsmSettings)


def compile_config(config: Config, *, ike_port: int = 500, natt_port: int = 4500) -> CompiledConfig:
    """Raises ConfigError if the configuration has errors: it must never be half applied."""
    if config.errors:
        raise ConfigError(config.diagnostics)
    peers: list[PeerPolicy] = []
    meta: dict[str, PeerMeta] = {}
    state = _Compiling(config, ike_port, natt_port)
    for map_name, entries in sorted(config.crypto_maps.items()):
        interface = state.interfaces.get(map_name)
        for seq, entry in sorted(entries.items()):
            if entry.dynamic_map is not None:
                dynamic = config.dynamic_maps.get(entry.dynamic_map[0], {})
                for dyn_seq, dyn_entry in sorted(dynamic.items()):
                    _compile_entry(
                        state, dyn_entry, map_name, (seq, dyn_seq), interface, peers, meta
                    )
            else:
                _compile_entry(state, entry, map_name, (seq,), interface, peers, meta)
    for interface in config.interfaces.values():
        if interface.ezvpn is not None and interface.ezvpn[0] in config.ezvpn_clients:
            common = dict(
                esp_proposals=DEFAULT_TRANSFORM_SETS,
                dpd=state.isakmp.dpd,
                remote_ike_port=state.ike_port,
                remote_natt_port=state.natt_port,
                fvrf=interface.vrf or "",
            )
            compile_ezvpn(config, state.isakmp, interface, common, peers, meta)
    tunnels: dict[str, TunnelInterface] = {}
    for interface in config.interfaces.values():
        if _protected_tunnel(config, interface):
            tunnels[interface.name] = _compile_tunnel(state, interface, peers, meta)
    templates: dict[str, TunnelInterface] = {}
    for profile in config.ikev2_profiles.values():
        template = _template_of(config, profile)
        if template is not None:
            templates[template.name] = _compile_template(state, profile, template, peers, meta)
    ike = IkeConfig(peers=tuple(peers), ike_port=ike_port, natt_port=natt_port, isakmp=state.isakmp)
    descriptions = {addr: p.description for addr, p in config.isakmp_peers.items() if p.description}
    return CompiledConfig(
        ike=ike,
        meta=meta,
        hostname=config.hostname,
        isakmp_descriptions=descriptions,
        tunnels=tunnels,
        templates=templates,
        xsm=xsm_settings(config, None),
    )


def _template_of(config: Config, profile: Ikev2Profile) -> Interface | None:
    """The `interface Virtual-TemplateN type tunnel` of a profile's `virtual-template N`,
    when it is one this gateway runs."""
    if profile.virtual_template is None:
        return None
    template = config.interfaces.get(f"Virtual-Template{profile.virtual_template[0]}")
    if template is None or not template.virtual_template or template.shutdown:
        return None
    protection = template.tunnel_protection
    if protection is None or protection[0] not in config.ipsec_profiles:
        return None
    return template if tunnel_mode(template) == IPSEC_IPV4 else None


def _compile_template(
    state: _Compiling,
    ikev2: Ikev2Profile,
    template: Interface,
    peers: list[PeerPolicy],
    meta: dict[str, PeerMeta],
) -> TunnelInterface:
    """Dynamic VTI: one responder peer per keyring peer of the profile (narrowed by its
    `match identity remote address`, as a dynamic crypto map entry is), with any-to-any
    selectors; each IKE SA that comes up gets a virtual-access interface of its own,
    with routes to what the spoke's selectors name."""
    config = state.config
    assert template.tunnel_protection is not None
    profile = config.ipsec_profiles[template.tunnel_protection[0]]
    keyring = config.keyrings.get(ikev2.keyring[0]) if ikev2.keyring else None
    matches = tuple(
        m.network for m in ikev2.match_remote if m.kind == "address" and m.network is not None
    )
    for key_peer in keyring.peers if keyring else []:
        nets = _narrowed(key_peer.address, matches)
        if nets is None or key_peer.psk_local is None or key_peer.psk_remote is None:
            continue
        name = f"{template.name} {key_peer.name}"
        description = key_peer.description or ikev2.description or template.description
        peers.append(
            PeerPolicy(
                name=name,
                psk_local=key_peer.psk_local,
                psk_remote=key_peer.psk_remote,
                local_ts=(ANY,),
                remote_ts=(ANY,),
                remote_addresses=nets,
                remote_identity=key_peer.identity,
                description=description,
                origin="virtual template",
                interface=template.name,
                **_common(state, ikev2, profile, template),  # type: ignore[arg-type]
            )
        )
        meta[name] = _interface_meta(name, template, ikev2, description, initiate=False)
    return TunnelInterface(template.name, template.address, template.mtu, template.adjust_mss, ())


def _protected_tunnel(config: Config, interface: Interface) -> bool:
    """A static tunnel interface this gateway runs: `tunnel mode ipsec ipv4`, protected by
    a profile that exists (validation reported the rest), not shut down."""
    return (
        interface.is_tunnel
        and not interface.virtual_template
        and not interface.shutdown
        and interface.tunnel_protection is not None
        and interface.tunnel_protection[0] in config.ipsec_profiles
        and (tunnel_mode(interface) == IPSEC_IPV4 or tunnel_source_address(config, interface))
    )


def _compile_tunnel(
    state: _Compiling,
    interface: Interface,
    peers: list[PeerPolicy],
    meta: dict[str, PeerMeta],
) -> TunnelInterface:
    """A tunnel interface is one peer (its `tunnel destination`) with any-to-any
    selectors: what goes into the interface is what its routes send there. IOS names its
    hidden crypto map `Tunnel1-head-0`; sessions show that, and `Interface: Tunnel1`."""
    config = state.config
    assert interface.tunnel_protection is not None
    profile = config.ipsec_profiles[interface.tunnel_protection[0]]
    gre = tunnel_mode(interface) != IPSEC_IPV4
    source = tunnel_source_address(config, interface)
    tunnel = TunnelInterface(
        interface.name,
        interface.address,
        interface.mtu,
        interface.adjust_mss,
        tuple(TunnelRoute(net, distance) for net, distance in tunnel_networks(config, interface)),
        str(interface.tunnel_destination[0]) if interface.tunnel_destination else None,
        gre,
        str(source) if source else None,
    )
    destination = interface.tunnel_destination
    if destination is None:
        return tunnel  # no peer yet: the interface exists, its tunnel stays down
    if profile.ikev2_profile is None:
        # IKEv1 (IOS: an ipsec profile without an IKEv2 profile), with the isakmp keys
        common = _common_v1(state, profile, interface)
        if gre:
            assert source is not None
            common["gre"] = (str(source), str(destination[0]))
        compile_ikev1_tunnel(
            config, state.isakmp, interface, profile, common, GRE_PROTOCOL, peers, meta
        )
        return tunnel
    ikev2 = config.ikev2_profiles[profile.ikev2_profile[0]]
    key_peer = state.keyring(ikev2.keyring[0]).peer_for(destination[0]) if ikev2.keyring else None
    if key_peer is None:
        return tunnel
    assert key_peer.psk_local is not None and key_peer.psk_remote is not None
    address = str(destination[0])
    description = _description(config, profile, ikev2, key_peer, address) or interface.description
    common = _common(state, ikev2, profile, interface)
    local_ts, remote_ts, protocol = (ANY,), (ANY,), 0
    if gre:
        # GRE over IPsec: the SA protects the GRE packets between the two endpoints, in
        # the mode its transform-set asks for (IOS's behaviour)
        assert source is not None
        local_ts = (ipaddress.ip_network(source),)
        remote_ts = (ipaddress.ip_network(address),)
        protocol, common["mode"] = GRE_PROTOCOL, _mode(config, profile)
    peers.append(
        PeerPolicy(
            name=interface.name,
            psk_local=key_peer.psk_local,
            psk_remote=key_peer.psk_remote,
            local_ts=local_ts,
            remote_ts=remote_ts,
            ts_protocol=protocol,
            remote_addresses=(ipaddress.ip_network(address),),
            remote_identity=key_peer.identity,
            description=description,
            origin="tunnel interface",
            interface=interface.name,
            **common,  # type: ignore[arg-type]
        )
    )
    meta[interface.name] = _interface_meta(
        interface.name,
        interface,
        ikev2,
        description,
        initiate=not profile.responder_only,
        remote=address,
    )
    return tunnel


def _interface_meta(
    name: str,
    interface: Interface,
    ikev2: Ikev2Profile,
    description: str,
    *,
    initiate: bool,
    remote: str | None = None,
) -> PeerMeta:
    """What sessions show of a tunnel interface's or virtual template's peer; IOS names
    the interface's hidden crypto map `NAME-head-0`. A template's peers are dynamic."""
    return PeerMeta(
        peer_name=name,
        crypto_map=f"{interface.name}-head-0",
        seq=1,
        dynamic=interface.virtual_template,
        interface=interface.name,
        description=description,
        fvrf=interface.vrf or "",
        ivrf=ikev2.ivrf or "",
        accounting_list=ikev2.accounting[0] if ikev2.accounting else None,
        reverse_route=False,
        initiate=initiate,
        remote=remote,
    )


def _common(
    state: _Compiling,
    profile: Ikev2Profile,
    entry: CryptoMapEntry | IpsecProfile,
    interface: Interface | None,
) -> dict[str, object]:
    """The PeerPolicy fields a crypto map entry and a tunnel interface fill alike."""
    return dict(
        ike_proposals=state.ike_proposals(interface),
        esp_proposals=_esp_proposals(state.config, entry),
        pfs_group=entry.pfs_group,
        ike_lifetime=float(profile.lifetime or 86400),
        child_lifetime=float(entry.lifetime_seconds or 3600),
        child_lifetime_kb=entry.lifetime_kb or IOS_DEFAULT_LIFETIME_KB,
        dpd=DpdPolicy(profile.dpd[0], profile.dpd[1], profile.dpd[2]) if profile.dpd else None,
        local_identity=profile.local_identity,
        remote_ike_port=state.ike_port,
        remote_natt_port=state.natt_port,
        fvrf=interface.vrf if interface and interface.vrf else "",
        ivrf=profile.ivrf or "",
        local_addresses=_local_addresses(state.config, profile),
        # a tunnel interface carries whole packets: always tunnel mode (see validate_tunnels)
        mode=_mode(state.config, entry) if isinstance(entry, CryptoMapEntry) else IpsecMode.TUNNEL,
    )


def _common_v1(
    state: _Compiling, entry: CryptoMapEntry | IpsecProfile, interface: Interface | None
) -> dict[str, object]:
    """`_common` for an IKEv1 entry: no IKEv2 profile, the global `crypto isakmp keepalive`."""
    return dict(
        esp_proposals=_esp_proposals(state.config, entry),
        pfs_group=entry.pfs_group,
        child_lifetime=float(entry.lifetime_seconds or 3600),
        child_lifetime_kb=entry.lifetime_kb or IOS_DEFAULT_LIFETIME_KB,
        dpd=state.isakmp.dpd,
        remote_ike_port=state.ike_port,
        remote_natt_port=state.natt_port,
        fvrf=interface.vrf if interface and interface.vrf else "",
        # a tunnel interface carries whole packets: tunnel mode (GRE: as its set asks)
        mode=_mode(state.config, entry)
        if isinstance(entry, CryptoMapEntry) or (interface and tunnel_mode(interface) != IPSEC_IPV4)
        else IpsecMode.TUNNEL,
    )


class _Compiling:
    """What every entry of a compile looks up, found once: the interface of each crypto
    map, a keyring index per keyring, the IKE proposals per interface, the selectors
    per ACL (per entry, each was a scan of the whole list)."""

    def __init__(self, config: Config, ike_port: int, natt_port: int) -> None:
        self.config = config
        self.ike_port = ike_port
        self.natt_port = natt_port
        self.interfaces: dict[str, Interface] = {}
        for interface in config.interfaces.values():
            if interface.crypto_map is not None:
                self.interfaces.setdefault(interface.crypto_map[0], interface)
        self._keyrings: dict[str, KeyringIndex] = {}
        self._proposals: dict[int, tuple[IkeProposalPolicy, ...]] = {}
        self._selectors: dict[str, tuple[tuple[Network, ...], tuple[Network, ...], int]] = {}
        self.isakmp = isakmp_settings(config)
        #: ISAKMP profiles an entry names with `set isakmp-profile`
        self.claimed_profiles = {
            e.isakmp_profile[0]
            for entries in (*config.crypto_maps.values(), *config.dynamic_maps.values())
            for e in entries.values()
            if e.isakmp_profile is not None
        }

    def keyring(self, name: str) -> KeyringIndex:
        index = self._keyrings.get(name)
        if index is None:
            index = self._keyrings[name] = KeyringIndex(self.config.keyrings[name].peers)
        return index

    def ike_proposals(self, interface: Interface | None) -> tuple[IkeProposalPolicy, ...]:
        key = id(interface)
        if key not in self._proposals:
            self._proposals[key] = _ike_proposals(self.config, interface)
        return self._proposals[key]

    def selectors(
        self, entry: CryptoMapEntry
    ) -> tuple[tuple[Network, ...], tuple[Network, ...], int]:
        if entry.match_address is None:
            return _selectors(self.config, entry)
        name = entry.match_address[0]
        if name not in self._selectors:
            self._selectors[name] = _selectors(self.config, entry)
        return self._selectors[name]


def _compile_entry(
    state: _Compiling,
    entry: CryptoMapEntry,
    map_name: str,
    seqs: tuple[int, ...],
    interface: Interface | None,
    peers: list[PeerPolicy],
    meta: dict[str, PeerMeta],
) -> None:
    if entry.ikev2_profile is None:
        compile_ikev1_entry(
            state.config,
            state.isakmp,
            entry,
            map_name,
            seqs,
            interface,
            _common_v1(state, entry, interface),
            state.selectors(entry),
            state.claimed_profiles,
            peers,
            meta,
        )
        return
    config = state.config
    profile = config.ikev2_profiles[entry.ikev2_profile[0]]
    keyring = config.keyrings[profile.keyring[0]] if profile.keyring else None
    key_peers = keyring.peers if keyring else []
    label = f"{map_name} {'/'.join(str(s) for s in seqs)}"
    fvrf = interface.vrf if interface and interface.vrf else ""
    common = _common(state, profile, entry, interface)
    local_ts, remote_ts, ts_protocol = state.selectors(entry)
    targets: list[tuple[str, KeyringPeer, tuple[Network, ...], str | None]] = []
    if entry.dynamic:
        # The profile's `match identity remote address` narrows who may use the entry.
        matches = tuple(
            m.network for m in profile.match_remote if m.kind == "address" and m.network is not None
        )
        for key_peer in key_peers:
            nets = _narrowed(key_peer.address, matches)
            if nets is not None:
                targets.append((f"{label} {key_peer.name}", key_peer, nets, None))
    else:
        for address, _ in entry.peers:
            key_peer = state.keyring(profile.keyring[0]).peer_for(address) if keyring else None
            if key_peer is not None:
                net = ipaddress.ip_network(address)
                targets.append(
                    (
                        f"{label} {address}" if len(entry.peers) > 1 else label,
                        key_peer,
                        (net,),
                        str(address),
                    )
                )
    for name, key_peer, nets, remote in targets:
        assert key_peer.psk_local is not None and key_peer.psk_remote is not None
        description = _description(config, entry, profile, key_peer, remote)
        peers.append(
            PeerPolicy(
                name=name,
                psk_local=key_peer.psk_local,
                psk_remote=key_peer.psk_remote,
                local_ts=local_ts,
                remote_ts=remote_ts,
                remote_addresses=nets,
                remote_identity=key_peer.identity,
                description=description,
                origin="dynamic crypto map" if entry.dynamic else "crypto map",
                ts_protocol=ts_protocol,
                **common,  # type: ignore[arg-type]
            )
        )
        accounting = profile.accounting[0] if profile.accounting else None
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
            ivrf=profile.ivrf or "",
            accounting_list=accounting,
            reverse_route=entry.reverse_route,
            initiate=not entry.dynamic and remote is not None,
            remote=remote,
        )


def _local_addresses(config: Config, profile: Ikev2Profile) -> tuple[ipaddress.IPv4Address, ...]:
    """`match address local A | interface NAME`, as addresses (validation checked them)."""
    found = []
    for text, _ in profile.match_local:
        if text.startswith("interface "):
            named = config.interfaces.get(text.removeprefix("interface "))
            if named is not None and named.address is not None:
                found.append(named.address.ip)
        else:
            found.append(ipaddress.IPv4Address(text))
    return tuple(found)


def _narrowed(key_net: Network | None, matches: tuple[Network, ...]) -> tuple[Network, ...] | None:
    """The addresses both the keyring peer and the profile allow; None if none."""
    if not matches:
        return (key_net,) if key_net else ()
    if key_net is None:
        return matches
    both = tuple(m for m in matches if m.version == key_net.version and m.subnet_of(key_net))
    both += tuple(
        key_net
        for m in matches
        if m.version == key_net.version and key_net.subnet_of(m) and key_net != m
    )
    return both or None


class KeyringIndex:
    """A keyring's peers by address and by identity.

    A crypto map names one peer per entry; with 20k entries and a keyring of 20k
    peers, scanning the keyring for each entry is 400 million comparisons (minutes).
    Here a lookup is one dict probe per prefix length in use. Where two peers have the
    same address (or identity) the first one wins, as the scan had it; `duplicates`
    lists the others for validation to report."""

    def __init__(self, peers: list[KeyringPeer]) -> None:
        #: version -> prefix length -> network address bits -> first peer
        self._nets: dict[int, dict[int, dict[int, KeyringPeer]]] = {4: {}, 6: {}}
        self._identities: dict[str, KeyringPeer] = {}
        #: (a peer shadowed by an earlier one, the earlier one, what they share)
        self.duplicates: list[tuple[KeyringPeer, KeyringPeer, str]] = []
        for peer in peers:
            if peer.address is not None:
                net = peer.address
                bits = net.max_prefixlen - net.prefixlen
                table = self._nets[net.version].setdefault(net.prefixlen, {})
                first = table.setdefault(int(net.network_address) >> bits, peer)
                if first is not peer:
                    self.duplicates.append((peer, first, f"address {net}"))
            if peer.identity is not None:
                first = self._identities.setdefault(peer.identity.value, peer)
                if first is not peer:
                    self.duplicates.append((peer, first, f"identity {peer.identity.value}"))
        self._lengths = {
            version: sorted(tables, reverse=True) for version, tables in self._nets.items()
        }

    def peer_for(
        self, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> KeyringPeer | None:
        """The keyring peer for `address`: the most specific address match, else an
        identity equal to the address."""
        tables = self._nets[address.version]
        value, width = int(address), address.max_prefixlen
        for length in self._lengths[address.version]:
            found = tables[length].get(value >> (width - length))
            if found is not None:
                return found
        return self._identities.get(str(address))


def _description(
    config: Config,
    entry: CryptoMapEntry | IpsecProfile,
    profile: Ikev2Profile,
    key_peer: KeyringPeer,
    remote: str | None,
) -> str:
    """IOS order: the isakmp peer description, then the keyring peer's, then the entry's."""
    if (
        remote is not None
        and remote in config.isakmp_peers
        and config.isakmp_peers[remote].description
    ):
        return config.isakmp_peers[remote].description
    return key_peer.description or entry.description or profile.description


def _ike_proposals(config: Config, interface: Interface | None) -> tuple[IkeProposalPolicy, ...]:
    local = interface.address.ip if interface and interface.address else None
    fvrf = interface.vrf if interface else None
    chosen: list[IkeProposalPolicy] = []
    for policy in config.ikev2_policies.values():
        if policy.match_local and local not in policy.match_local:
            continue
        if policy.match_fvrf not in (None, "any") and policy.match_fvrf != fvrf:
            continue
        for name, _ in policy.proposals:
            p = config.ikev2_proposals[name]
            aead = all(e.is_aead for e in p.encryptions)
            prfs = p.prfs or [_prf_of(i) for i in p.integrities]
            chosen.append(
                IkeProposalPolicy(
                    name,
                    tuple(p.encryptions),
                    tuple(prfs),
                    () if aead else tuple(p.integrities),
                    tuple(p.groups),
                )
            )
    return tuple(chosen) or (DEFAULT_IKE_PROPOSAL,)


def _prf_of(integ: IntegId) -> PrfId:
    """IOS's implicit PRF for a proposal without `prf`: the integrity's own hash."""
    return _PRF_OF_INTEGRITY[integ]


_PRF_OF_INTEGRITY: dict[IntegId, PrfId] = {pair[0]: pair[1] for pair in HASHES.values() if pair}


def _esp_proposals(
    config: Config, entry: CryptoMapEntry | IpsecProfile
) -> tuple[EspProposalPolicy, ...]:
    proposals = []
    for name, _ in entry.transform_sets:
        ts = config.transform_sets[name]
        if not ts.usable or ts.encryption is None:
            continue
        integ = () if ts.encryption.is_aead else (ts.integrity,)
        proposals.append(EspProposalPolicy(name, (ts.encryption,), integ))  # type: ignore[arg-type]
    return tuple(proposals) or DEFAULT_TRANSFORM_SETS


def _mode(config: Config, entry: CryptoMapEntry | IpsecProfile) -> IpsecMode:
    """The entry's transform-sets agree on one mode (validation sees to it)."""
    modes = {config.transform_sets[name].mode for name, _ in entry.transform_sets}
    return IpsecMode.TRANSPORT if "transport" in modes else IpsecMode.TUNNEL


def _selectors(
    config: Config, entry: CryptoMapEntry
) -> tuple[tuple[Network, ...], tuple[Network, ...], int]:
    """`permit PROTOCOL LOCAL REMOTE` lines of the entry's ACL, with the one IP protocol
    they share (validation sees to it; 0 for `ip`); a dynamic entry without an ACL
    takes whatever the peer proposes."""
    if entry.match_address is None:
        return (ANY,), (ANY,), 0
    acl = config.access_lists[entry.match_address[0]]
    permits = [e for e in acl.entries if e.action == "permit"]
    local = tuple(dict.fromkeys(e.source_net for e in permits))
    remote = tuple(dict.fromkeys(e.destination_net for e in permits))
    protocols = {e.ip_protocol for e in permits}
    protocol = protocols.pop() if len(protocols) == 1 else 0
    return local or (ANY,), remote or (ANY,), protocol
