"""`crypto ikev2 proposal | policy | keyring | profile`."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from engine.config.commands.base import CommandTree, SubMode, description, secret
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import (
    Config,
    Ikev2Keyring,
    Ikev2Policy,
    Ikev2Profile,
    Ikev2Proposal,
    KeyringPeer,
    RemoteMatch,
)
from engine.config.words import Words, network
from engine.crypto import SUPPORTED_DH_GROUPS
from engine.crypto.algorithms import (
    WEAK_DH_GROUPS,
    WEAK_ENCRYPTIONS,
    WEAK_INTEGRITIES,
    WEAK_PRFS,
    IntegId,
    PrfId,
)
from engine.ike.policy import (
    AES_CBC_128,
    AES_CBC_256,
    AES_GCM_128,
    AES_GCM_256,
    CHACHA20_POLY1305,
    TRIPLE_DES,
    DpdMode,
    EncrId,
    EncryptionChoice,
    Identity,
    IdentityKind,
)

ENCRYPTIONS: dict[str, EncryptionChoice | None] = {
    "aes-cbc-128": AES_CBC_128,
    "aes-cbc-192": EncryptionChoice(EncrId.AES_CBC, 192),
    "aes-cbc-256": AES_CBC_256,
    "aes-gcm-128": AES_GCM_128,
    "aes-gcm-256": AES_GCM_256,
    "chacha20-poly1305": CHACHA20_POLY1305,
    "3des": TRIPLE_DES,
    "des": None,
}
#: `integrity X` / `prf X`; a proposal with integrity only takes the PRF of the same hash
HASHES: dict[str, tuple[IntegId, PrfId] | None] = {
    "sha256": (IntegId.HMAC_SHA2_256_128, PrfId.HMAC_SHA2_256),
    "sha384": (IntegId.HMAC_SHA2_384_192, PrfId.HMAC_SHA2_384),
    "sha512": (IntegId.HMAC_SHA2_512_256, PrfId.HMAC_SHA2_512),
    "sha1": (IntegId.HMAC_SHA1_96, PrfId.HMAC_SHA1),
    "md5": (IntegId.HMAC_MD5_96, PrfId.HMAC_MD5),
}
#: what a weak choice's warning suggests instead
STRONGER_ENCRYPTION = "use aes-cbc-128, aes-gcm-128 or stronger"
STRONGER_HASH = "use sha256 or stronger"
STRONGER_GROUP = "use group 14, 19, 31 or stronger"
IOS_GROUPS = (1, 2, 5, 14, 15, 16, 19, 20, 21, 24, 31)


def fvrf_name(word: str) -> str:
    """`match fvrf any` takes the keyword in any case; VRF names keep theirs."""
    return "any" if word.lower() == "any" else word


class ProposalMode(SubMode):
    mode_name = "ikev2 proposal mode"
    commands = {
        "encryption": "encryption",
        "integrity": "integrity",
        "prf": "prf",
        "group": "group",
    }

    def __init__(self, config: Config, proposal: Ikev2Proposal) -> None:
        super().__init__(config)
        self.proposal = proposal

    def _algorithms(
        self,
        words: Words,
        table: dict,
        what: str,
        source: Source,
        weak: Callable[[object], bool],
        instead: str,
    ) -> list:
        """The algorithms named, each weak one accepted with a warning that says so."""
        names = words.rest(f"{what} algorithm")
        if not names:
            raise LineError(f"missing {what} algorithm")
        chosen = []
        for raw in names:
            key = raw.lower()
            if key not in table:
                raise LineError(f"unknown {what} algorithm '{raw}' (one of: {', '.join(table)})")
            if table[key] is None:
                self.config.report(
                    source, f"{what} {raw} is not offered by this gateway", Severity.WARNING
                )
                continue
            if weak(table[key]):
                self.config.report(source, f"{what} {key} is weak: {instead}", Severity.WARNING)
            chosen.append(table[key])
        return chosen

    def encryption(self, words: Words, source: Source, text: str) -> None:
        self.proposal.encryptions += self._algorithms(
            words,
            ENCRYPTIONS,
            "encryption",
            source,
            lambda e: e.encr_id in WEAK_ENCRYPTIONS,  # type: ignore[attr-defined]
            STRONGER_ENCRYPTION,
        )

    def integrity(self, words: Words, source: Source, text: str) -> None:
        found = self._algorithms(
            words,
            HASHES,
            "integrity",
            source,
            lambda pair: pair[0] in WEAK_INTEGRITIES,  # type: ignore[index]
            STRONGER_HASH,
        )
        self.proposal.integrities += [integ for integ, _ in found]

    def prf(self, words: Words, source: Source, text: str) -> None:
        found = self._algorithms(
            words,
            HASHES,
            "prf",
            source,
            lambda pair: pair[1] in WEAK_PRFS,  # type: ignore[index]
            STRONGER_HASH,
        )
        self.proposal.prfs += [prf for _, prf in found]

    def group(self, words: Words, source: Source, text: str) -> None:
        groups = words.rest("DH group")
        if not groups:
            raise LineError("missing DH group")
        for raw in groups:
            if not raw.isdecimal() or not raw.isascii() or int(raw) not in IOS_GROUPS:
                raise LineError(f"unknown DH group '{raw}'")
            if int(raw) not in SUPPORTED_DH_GROUPS:
                self.config.report(
                    source, f"DH group {raw} is not offered by this gateway", Severity.WARNING
                )
                continue
            if int(raw) in WEAK_DH_GROUPS:
                self.config.report(
                    source, f"DH group {raw} is weak: {STRONGER_GROUP}", Severity.WARNING
                )
            self.proposal.groups.append(int(raw))


def proposal(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("proposal name")
    words.end()
    item = config.ikev2_proposals.setdefault(name, Ikev2Proposal(source, name))
    return ProposalMode(config, item)


class PolicyMode(SubMode):
    mode_name = "ikev2 policy mode"
    commands = {"proposal": "proposal", "match": "match"}

    def __init__(self, config: Config, policy: Ikev2Policy) -> None:
        super().__init__(config)
        self.policy = policy

    def proposal(self, words: Words, source: Source, text: str) -> None:
        name = words.word("proposal name")
        words.end()
        self.policy.proposals.append((name, source))

    def match(self, words: Words, source: Source, text: str) -> None:
        what = words.keyword("fvrf", "address")
        if what == "fvrf":
            self.policy.match_fvrf = fvrf_name(words.word("VRF name or any"))
            self.policy.match_fvrf_source = source
        else:
            words.keyword("local")
            self.policy.match_local.append(words.address("local address"))
        words.end()


def policy(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("policy name")
    words.end()
    item = config.ikev2_policies.setdefault(name, Ikev2Policy(source, name))
    return PolicyMode(config, item)


def identity(words: Words) -> Identity:
    kind = words.keyword("address", "fqdn", "email", "key-id")
    if kind == "address":
        return Identity.address(words.address("identity address"))
    value = words.word(f"{kind} identity")
    words.end()
    return Identity(
        {"fqdn": IdentityKind.FQDN, "email": IdentityKind.EMAIL, "key-id": IdentityKind.KEY_ID}[
            kind
        ],
        value,
    )


class KeyringMode(SubMode):
    """Keyring peers nest one level deeper; their lines apply to the last `peer`."""

    mode_name = "ikev2 keyring mode"
    shown_words = 1
    commands = {
        "peer": "peer",
        "description": "description",
        "address": "address",
        "identity": "identity",
        "pre-shared-key": "pre_shared_key",
    }

    def __init__(self, config: Config, keyring: Ikev2Keyring) -> None:
        super().__init__(config)
        self.keyring = keyring
        self.current: KeyringPeer | None = None

    def _peer(self) -> KeyringPeer:
        if self.current is None:
            raise LineError("this command belongs under a keyring 'peer NAME'")
        return self.current

    def exit(self) -> bool:
        """`exit` after a `peer` goes back to the keyring, as on a router."""
        if self.current is None:
            return True
        self.current = None
        return False

    def peer(self, words: Words, source: Source, text: str) -> None:
        name = words.word("peer name")
        words.end()
        self.current = self.keyring.peer(name, source)

    def description(self, words: Words, source: Source, text: str) -> None:
        self._peer().description = description(words, text)

    def address(self, words: Words, source: Source, text: str) -> None:
        peer = self._peer()
        addr = words.address("peer address")
        if words and isinstance(addr, ipaddress.IPv4Address):
            peer.address = network(addr, words.mask())
        else:
            peer.address = ipaddress.ip_network(addr)
        words.end()

    def identity(self, words: Words, source: Source, text: str) -> None:
        self._peer().identity = identity(words)

    def pre_shared_key(self, words: Words, source: Source, text: str) -> None:
        peer = self._peer()
        direction = words.optional_keyword("local", "remote")
        key = secret(words)
        words.end()
        if direction in (None, "local"):
            peer.psk_local = key
        if direction in (None, "remote"):
            peer.psk_remote = key


def keyring(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("keyring name")
    words.end()
    item = config.keyrings.setdefault(name, Ikev2Keyring(source, name))
    return KeyringMode(config, item)


class ProfileMode(SubMode):
    mode_name = "ikev2 profile mode"
    commands = {
        "description": "description",
        "match": "match",
        "identity": "identity",
        "authentication": "authentication",
        "keyring": "keyring",
        "lifetime": "lifetime",
        "dpd": "dpd",
        "ivrf": "ivrf",
        "aaa": "aaa",
        "accounting": "accounting",
        "virtual-template": "virtual_template",
    }
    second_words = {
        "aaa": ("accounting",),
        "match": ("identity", "fvrf", "address"),
        "identity": ("local",),
    }

    def __init__(self, config: Config, profile: Ikev2Profile) -> None:
        super().__init__(config)
        self.profile = profile

    def description(self, words: Words, source: Source, text: str) -> None:
        self.profile.description = description(words, text)

    def match(self, words: Words, source: Source, text: str) -> None:
        what = words.keyword("identity", "fvrf", "address")
        if what == "address":
            # `match address local A` / `match address local interface NAME`: the profile
            # serves IKE SAs that reach us on that address
            words.keyword("local")
            if words.optional_keyword("interface"):
                name = words.word("interface name")
                self.profile.match_local.append((f"interface {name}", source))
            else:
                self.profile.match_local.append((str(words.address("local address")), source))
            words.end()
            return
        if what == "fvrf":
            self.profile.match_fvrf = fvrf_name(words.word("VRF name or any"))
            self.profile.match_fvrf_source = source
            words.end()
            return
        words.keyword("remote")
        kind = words.keyword("address", "fqdn", "email")
        if kind == "address":
            addr = words.address("remote address")
            if words and isinstance(addr, ipaddress.IPv4Address):
                net = network(addr, words.mask())
            else:
                net = ipaddress.ip_network(addr)
            words.end()
            self.profile.match_remote.append(RemoteMatch(source, "address", str(net), net))
            return
        domain = words.optional_keyword("domain") is not None
        value = words.word(f"{kind} to match")
        words.end()
        self.profile.match_remote.append(RemoteMatch(source, kind, value, None, domain))

    def identity(self, words: Words, source: Source, text: str) -> None:
        words.keyword("local")
        self.profile.local_identity = identity(words)

    def authentication(self, words: Words, source: Source, text: str) -> None:
        side = words.keyword("local", "remote")
        method = words.keyword("pre-share", "rsa-sig", "ecdsa-sig", "eap")
        if method != "pre-share":
            raise LineError(f"authentication {method} is not supported; use pre-share")
        words.skip()
        if side == "local":
            self.profile.auth_local = method
        else:
            self.profile.auth_remote.append(method)

    def virtual_template(self, words: Words, source: Source, text: str) -> None:
        """Dynamic VTI: each peer of this profile gets a virtual-access interface cloned
        from `interface Virtual-TemplateN`."""
        self.profile.virtual_template = (words.number("virtual template", 1, 65535), source)
        words.end()

    def keyring(self, words: Words, source: Source, text: str) -> None:
        words.optional_keyword("local")
        self.profile.keyring = (words.word("keyring name"), source)
        words.end()

    def lifetime(self, words: Words, source: Source, text: str) -> None:
        self.profile.lifetime = words.number("lifetime", 120, 86400)
        words.end()

    def dpd(self, words: Words, source: Source, text: str) -> None:
        interval = words.number("DPD interval", 10, 3600)
        retry = words.number("DPD retry interval", 2, 60)
        mode = words.keyword("on-demand", "periodic")
        words.end()
        self.profile.dpd = (interval, retry, DpdMode(mode))

    def ivrf(self, words: Words, source: Source, text: str) -> None:
        self.profile.ivrf = words.word("VRF name")
        self.profile.ivrf_source = source
        words.end()

    def aaa(self, words: Words, source: Source, text: str) -> None:
        words.keyword("accounting")
        words.keyword("psk", "eap", "cert", "anyconnect-eap")
        self.profile.accounting = (words.word("accounting list"), source)
        words.end()

    def accounting(self, words: Words, source: Source, text: str) -> None:
        self.profile.accounting = (words.word("accounting list"), source)
        words.end()


def profile(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("profile name")
    words.end()
    item = config.ikev2_profiles.setdefault(name, Ikev2Profile(source, name))
    return ProfileMode(config, item)


COMMANDS: CommandTree = {
    "proposal": proposal,
    "policy": policy,
    "keyring": keyring,
    "profile": profile,
}
