"""`crypto isakmp ...`: peer descriptions, and the IKEv1 family (parsed, not negotiated)."""

from __future__ import annotations

import ipaddress

from engine.config.commands.base import CommandTree, SubMode, description, secret
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config, IsakmpKey, IsakmpPeer, IsakmpPolicy, IsakmpProfile
from engine.config.words import Words, network
from engine.redaction import redact

IKEV1_NOTE = "IKEv1 is parsed but not negotiated yet"


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
        self.policy.encryption = " ".join(words.rest("encryption")) or "des"

    def authentication(self, words: Words, source: Source, text: str) -> None:
        self.policy.authentication = words.keyword("pre-share", "rsa-sig", "rsa-encr")
        words.end()

    def group(self, words: Words, source: Source, text: str) -> None:
        self.policy.group = words.number("group", 1, 24)
        words.end()

    def hash(self, words: Words, source: Source, text: str) -> None:
        self.policy.hash = words.keyword("sha", "md5", "sha256", "sha384", "sha512")
        words.end()

    def lifetime(self, words: Words, source: Source, text: str) -> None:
        self.policy.lifetime = words.number("lifetime", 60, 86400)
        words.end()


def policy(config: Config, words: Words, source: Source, text: str) -> SubMode:
    priority = words.number("policy priority", 1, 10000)
    words.end()
    config.report(source, f"crypto isakmp policy {priority}: {IKEV1_NOTE}", Severity.WARNING)
    item = config.isakmp_policies.setdefault(priority, IsakmpPolicy(source, priority))
    return PolicyMode(config, item)


def key(config: Config, words: Words, source: Source, text: str) -> None:
    key_value = secret(words)
    kind = words.keyword("address", "hostname")
    if kind == "hostname":
        raise LineError("crypto isakmp key ... hostname is not supported", Severity.WARNING)
    addr = words.address("peer address")
    if words.peek() and words.peek() != "no-xauth" and isinstance(addr, ipaddress.IPv4Address):
        net = network(addr, words.mask())
    else:
        net = ipaddress.ip_network(addr)
    words.optional_keyword("no-xauth")
    words.end()
    config.isakmp_keys.append(IsakmpKey(source, key_value, net))
    config.report(source, f"crypto isakmp key: {IKEV1_NOTE}", Severity.WARNING)


class ProfileMode(SubMode):
    mode_name = "isakmp profile mode"
    commands = {
        "vrf": "vrf",
        "match": "match",
        "client": "client",
        "isakmp": "isakmp",
        "accounting": "accounting",
        "keyring": "ignored",
        "self-identity": "ignored",
    }

    def __init__(self, config: Config, profile: IsakmpProfile) -> None:
        super().__init__(config)
        self.profile = profile

    def vrf(self, words: Words, source: Source, text: str) -> None:
        name = words.word("VRF name")
        words.end()  # before assigning: `vrf definition X` is a global command
        self.profile.vrf = name

    def match(self, words: Words, source: Source, text: str) -> None:
        words.keyword("identity")
        what = words.keyword("group", "address", "host", "user")
        value = " ".join(words.rest(f"{what} to match"))
        if what == "group":
            self.profile.match_identity_group = value

    def client(self, words: Words, source: Source, text: str) -> None:
        what = words.keyword("authentication", "configuration")
        if what == "authentication":
            words.keyword("list")
            self.profile.client_authentication_list = words.word("list name")
        else:
            words.keyword("address")
            self.profile.client_configuration_address = words.keyword("respond", "initiate")
        words.end()

    def isakmp(self, words: Words, source: Source, text: str) -> None:
        words.keyword("authorization")
        words.keyword("list")
        self.profile.isakmp_authorization_list = words.word("list name")
        words.end()

    def accounting(self, words: Words, source: Source, text: str) -> None:
        self.profile.accounting = (words.word("accounting list"), source)
        words.end()

    def ignored(self, words: Words, source: Source, text: str) -> None:
        words.skip()


def profile(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("profile name")
    words.end()
    config.report(source, f"crypto isakmp profile {name}: {IKEV1_NOTE}", Severity.WARNING)
    item = config.isakmp_profiles.setdefault(name, IsakmpProfile(source, name))
    return ProfileMode(config, item)


def keepalive(config: Config, words: Words, source: Source, text: str) -> None:
    interval = words.number("keepalive interval", 10, 3600)
    retry = (
        words.number("retry interval", 2, 60)
        if words.peek() and words.peek().isascii() and words.peek().isdecimal()
        else 2
    )
    words.optional_keyword("on-demand", "periodic")
    words.end()
    config.isakmp_keepalive = (interval, retry)
    config.report(source, f"crypto isakmp keepalive: {IKEV1_NOTE}", Severity.WARNING)


COMMANDS: CommandTree = {
    "peer": peer,
    "policy": policy,
    "key": key,
    "profile": profile,
    "keepalive": keepalive,
}
