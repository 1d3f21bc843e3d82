"""`crypto isakmp ...`: peer descriptions, and the IKEv1 family: policies, keys,
profiles, keepalives and the global IKEv1 switches."""

from __future__ import annotations

import ipaddress

from engine.config.commands import client_config
from engine.config.commands.base import CommandTree, SubMode, description, one_name, secret
from engine.config.commands.interface import interface_name
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import (
    ISAKMP_AUTHENTICATIONS,
    ISAKMP_GROUPS,
    ISAKMP_HASHES,
    Config,
    IdentityMatch,
    IsakmpKey,
    IsakmpPeer,
    IsakmpPolicy,
    IsakmpProfile,
    Network,
)
from engine.config.words import Words, network
from engine.ike.policy import DpdMode
from engine.redaction import redact

AES_SIZES = ("128", "192", "256")


class PeerMode(SubMode):
    mode_name = "isakmp peer mode"
    commands = {"description": "description", "set": "ignored"}

    def __init__(self, config: Config, peer: IsakmpPeer) -> None:
        super().__init__(config)
        self.peer = peer

    def description(self, words: Words, source: Source, text: str) -> None:
        self.peer.description = description(words, text)

    def ignored(self, words: Words, source: Source, text: str) -> None:
        raise LineError(
            f"ignored: not supported in {self.mode_name}: {redact(text)}", Severity.WARNING
        )


def peer(config: Config, words: Words, source: Source, text: str) -> SubMode:
    words.keyword("address")
    address = words.address("peer address")
    if words.optional_keyword("vrf"):
        words.word("VRF name")
    words.end()
    item = config.isakmp_peers.setdefault(str(address), IsakmpPeer(source, address))  # type: ignore[arg-type]
    return PeerMode(config, item)


def encryption_name(words: Words) -> str:
    """`des`, `3des`, `aes [128|192|256]` as one normalized name: 'aes' alone is
    AES-128, as on IOS."""
    kind = words.keyword("des", "3des", "aes")
    if kind != "aes":
        return kind
    size = words.peek()
    if size is None:
        return "aes-128"
    if size not in AES_SIZES:
        raise LineError(f"aes key size must be one of {', '.join(AES_SIZES)}, not '{size}'")
    words.word("key size")
    return f"aes-{size}"


class PolicyMode(SubMode):
    mode_name = "isakmp policy mode"
    commands = {
        "encryption": "encryption",
        "authentication": "authentication",
        "group": "group",
        "hash": "hash",
        "lifetime": "lifetime",
    }

    def __init__(self, config: Config, policy: IsakmpPolicy) -> None:
        super().__init__(config)
        self.policy = policy

    def encryption(self, words: Words, source: Source, text: str) -> None:
        value = encryption_name(words)
        words.end()
        self.policy.encryption = value
        self.policy.set_at("encryption", source)

    def authentication(self, words: Words, source: Source, text: str) -> None:
        value = words.keyword(*ISAKMP_AUTHENTICATIONS)
        words.end()
        self.policy.authentication = value
        self.policy.set_at("authentication", source)

    def group(self, words: Words, source: Source, text: str) -> None:
        group = words.number("group", 1, 24)
        words.end()
        if group not in ISAKMP_GROUPS:
            raise LineError(
                f"group {group} is not an IKEv1 group ({', '.join(map(str, ISAKMP_GROUPS))})"
            )
        self.policy.group = group
        self.policy.set_at("group", source)

    def hash(self, words: Words, source: Source, text: str) -> None:
        value = words.keyword(*ISAKMP_HASHES)
        words.end()
        self.policy.hash = value
        self.policy.set_at("hash", source)

    def lifetime(self, words: Words, source: Source, text: str) -> None:
        value = words.number("lifetime", 60, 86400)
        words.end()
        self.policy.lifetime = value
        self.policy.set_at("lifetime", source)


def policy(config: Config, words: Words, source: Source, text: str) -> SubMode:
    priority = words.number("policy priority", 1, 10000)
    words.end()
    item = config.isakmp_policies.setdefault(priority, IsakmpPolicy(source, priority))
    return PolicyMode(config, item)


def peer_network(words: Words, what: str = "peer address") -> Network:
    """`A [MASK]`: a host, or with a mask the network it names."""
    addr = words.address(what)
    nxt = words.peek()
    if nxt is not None and isinstance(addr, ipaddress.IPv4Address) and nxt.count(".") == 3:
        return network(addr, words.mask())
    return ipaddress.ip_network(addr)


def key(config: Config, words: Words, source: Source, text: str) -> None:
    """`crypto isakmp key K address A [MASK] [no-xauth]` / `... hostname H [no-xauth]`."""
    item = IsakmpKey(source, secret(words))
    kind = words.keyword("address", "hostname")
    if kind == "hostname":
        item.hostname = words.hostname("peer host name")
    else:
        item.address = peer_network(words)
    item.no_xauth = words.optional_keyword("no-xauth") is not None
    words.end()
    config.isakmp_keys.append(item)


class ProfileMode(SubMode):
    mode_name = "isakmp profile mode"
    commands = {
        "description": "description",
        "vrf": "vrf",
        "match": "match",
        "keyring": "keyring",
        "self-identity": "self_identity",
        "local-address": "local_address",
        "client": "client",
        "isakmp": "isakmp",
        "accounting": "accounting",
        "keepalive": "keepalive",
        "initiate": "initiate",
    }

    def __init__(self, config: Config, profile: IsakmpProfile) -> None:
        super().__init__(config)
        self.profile = profile

    def description(self, words: Words, source: Source, text: str) -> None:
        self.profile.description = description(words, text)

    def vrf(self, words: Words, source: Source, text: str) -> None:
        name = words.word("VRF name")
        words.end()  # before assigning: `vrf definition X` is a global command
        self.profile.vrf = name

    def match(self, words: Words, source: Source, text: str) -> None:
        """Several `match identity` lines: a peer matching any of them is the profile's."""
        words.keyword("identity")
        what = words.keyword("address", "group", "host", "user")
        item = IdentityMatch(source, what)
        if what == "address":
            item.network = peer_network(words, "identity address")
            item.value = str(item.network)
            if words:
                item.vrf = words.word("VRF name")
        elif what == "group":
            item.value = one_name(words, "group name")
        else:
            if words.optional_keyword("domain"):
                item.kind = f"{what}-domain"
            item.value = one_name(words, f"{what} to match")
        words.end()
        self.profile.matches.append(item)

    def keyring(self, words: Words, source: Source, text: str) -> None:
        self.profile.keyrings.append((one_name(words, "keyring name"), source))

    def self_identity(self, words: Words, source: Source, text: str) -> None:
        kind = words.keyword("address", "fqdn", "user-fqdn")
        value = ""
        if kind == "user-fqdn":
            value = words.word("user-fqdn")
        elif kind == "fqdn" and words:
            value = words.hostname("fqdn")
        words.end()
        self.profile.self_identity = (kind, value)

    def local_address(self, words: Words, source: Source, text: str) -> None:
        self.profile.local_address = (local_address(words), source)

    def client(self, words: Words, source: Source, text: str) -> None:
        what = words.keyword("authentication", "configuration")
        if what == "authentication":
            words.keyword("list")
            self.profile.client_authentication_list = (one_name(words, "list name"), source)
        else:
            words.keyword("address")
            value = words.keyword("respond", "initiate")
            words.end()
            self.profile.client_configuration_address = value

    def isakmp(self, words: Words, source: Source, text: str) -> None:
        words.keyword("authorization")
        words.keyword("list")
        self.profile.isakmp_authorization_list = (one_name(words, "list name"), source)

    def accounting(self, words: Words, source: Source, text: str) -> None:
        self.profile.accounting = (one_name(words, "accounting list"), source)

    def keepalive(self, words: Words, source: Source, text: str) -> None:
        interval = words.number("keepalive interval", 10, 3600)
        words.keyword("retry")
        retry = words.number("retry interval", 2, 60)
        words.end()
        self.profile.keepalive = (interval, retry)

    def initiate(self, words: Words, source: Source, text: str) -> None:
        words.keyword("mode")
        words.keyword("aggressive")
        words.end()
        self.profile.initiate_aggressive = True


def local_address(words: Words) -> str:
    """`local-address A | INTERFACE`: an address, or an interface name (`GigabitEthernet
    0/0` may be written in two words, as IOS takes it)."""
    parts = words.rest("local address or interface")
    if not parts:
        raise LineError("missing local address or interface")
    if len(parts) == 1:
        try:
            return str(ipaddress.ip_address(parts[0]))
        except ValueError:
            pass
    if not parts[0][:1].isalpha():
        raise LineError(f"bad local address or interface '{' '.join(parts)}'")
    return interface_name(parts)


def profile(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("profile name")
    words.end()
    item = config.isakmp_profiles.setdefault(name, IsakmpProfile(source, name))
    return ProfileMode(config, item)


def keepalive(config: Config, words: Words, source: Source, text: str) -> None:
    """`crypto isakmp keepalive N [R] [periodic|on-demand]`: DPD, on demand unless said."""
    interval = words.number("keepalive interval", 10, 3600)
    nxt = words.peek()
    numbered = nxt is not None and nxt.isascii() and nxt.isdecimal()
    retry = words.number("retry interval", 2, 60) if numbered else 2
    mode = words.optional_keyword("on-demand", "periodic") or "on-demand"
    words.end()
    config.isakmp_keepalive = (interval, retry, DpdMode(mode))


def nat_keepalive(config: Config, words: Words, source: Source, text: str) -> None:
    config.isakmp_nat_keepalive = words.number("NAT keepalive interval", 5, 3600)
    words.end()


def identity(config: Config, words: Words, source: Source, text: str) -> None:
    config.isakmp_identity = words.keyword("address", "hostname", "dn")
    words.end()
    if config.isakmp_identity == "dn":
        config.isakmp_identity = "address"
        raise LineError(
            "crypto isakmp identity dn needs certificates, which are not supported: "
            "the address is the identity",
            Severity.WARNING,
        )


def aggressive_mode(config: Config, words: Words, source: Source, text: str) -> None:
    words.keyword("disable")
    words.end()
    config.isakmp_aggressive_mode = False


def invalid_spi_recovery(config: Config, words: Words, source: Source, text: str) -> None:
    words.end()
    config.isakmp_invalid_spi_recovery = True


COMMANDS: CommandTree = {
    "peer": peer,
    "policy": policy,
    "key": key,
    "profile": profile,
    "keepalive": keepalive,
    "nat": {"keepalive": nat_keepalive},
    "identity": identity,
    "aggressive-mode": aggressive_mode,
    "invalid-spi-recovery": invalid_spi_recovery,
    "client": {
        "configuration": {
            "group": client_config.client_group,
            "address-pool": {"local": client_config.address_pool},
        }
    },
}
