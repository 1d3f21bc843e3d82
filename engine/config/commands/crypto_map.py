"""`crypto ipsec transform-set`, `crypto map`, `crypto dynamic-map`, `crypto ipsec profile`."""

from __future__ import annotations

import ipaddress

from engine.config.commands.base import SubMode, description, one_name
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import (
    Config,
    CryptoMapClient,
    CryptoMapEntry,
    IpsecProfile,
    TransformSet,
)
from engine.config.words import Words, match_keyword
from engine.crypto import SUPPORTED_DH_GROUPS
from engine.crypto.algorithms import WEAK_DH_GROUPS, WEAK_ENCRYPTIONS, WEAK_INTEGRITIES, IntegId
from engine.ike.policy import EncrId, EncryptionChoice

#: IOS transform -> (encryption family, default key bits; None: it takes no key size);
#: None: parsed, not offered
ESP_ENCRYPTIONS: dict[str, tuple[EncrId, int | None] | None] = {
    "esp-gcm": (EncrId.AES_GCM_16, 128),
    "esp-aes": (EncrId.AES_CBC, 128),
    "esp-3des": (EncrId.DES_3DES, None),
    "esp-des": None,
    "esp-null": (EncrId.NULL, None),
    "esp-seal": None,
    "esp-gmac": None,
}
ESP_INTEGRITIES: dict[str, IntegId | None] = {
    "esp-sha256-hmac": IntegId.HMAC_SHA2_256_128,
    "esp-sha384-hmac": IntegId.HMAC_SHA2_384_192,
    "esp-sha512-hmac": IntegId.HMAC_SHA2_512_256,
    "esp-sha-hmac": IntegId.HMAC_SHA1_96,
    "esp-md5-hmac": IntegId.HMAC_MD5_96,
}
#: what a weak transform's warning suggests instead
STRONGER_ESP_ENCRYPTION = "use esp-aes or esp-gcm"
STRONGER_ESP_INTEGRITY = "use esp-sha256-hmac or stronger"
OTHER_TRANSFORMS = (
    "ah-sha-hmac",
    "ah-md5-hmac",
    "ah-sha256-hmac",
    "ah-sha384-hmac",
    "ah-sha512-hmac",
    "comp-lzs",
)


class TransformSetMode(SubMode):
    mode_name = "transform-set mode"
    commands = {"mode": "mode"}

    def __init__(self, config: Config, item: TransformSet) -> None:
        super().__init__(config)
        self.item = item

    def mode(self, words: Words, source: Source, text: str) -> None:
        """`mode tunnel | transport`: transport asks the peer for transport mode and
        falls back to tunnel mode when the peer refuses (IOS semantics)."""
        mode = words.keyword("tunnel", "transport")
        if mode == "transport" and words.optional_keyword("require"):
            raise LineError(
                "mode transport require is not supported: 'mode transport' asks for "
                "transport mode and falls back to tunnel mode when the peer refuses"
            )
        words.end()
        self.item.mode = mode
        self.item.mode_source = source


def transform_set(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("transform-set name")
    item = TransformSet(source, name)
    if not words:
        raise LineError("transform-set needs at least one transform")
    while words:
        raw = words.word("transform").lower()
        item.transforms.append(raw)
        if raw in ESP_ENCRYPTIONS:
            bits = None
            if words.peek() in ("128", "192", "256"):
                bits = int(words.word("key size"))
                item.transforms[-1] = f"{raw} {bits}"  # rendered back as written
            family = ESP_ENCRYPTIONS[raw]
            if item.encryption is not None or (
                family is None and item.unsupported and raw in item.unsupported
            ):
                raise LineError("a transform-set takes one ESP encryption transform")
            if family is None:
                item.unsupported.append(raw)
                continue
            encr_id, default_bits = family
            if bits is not None and default_bits is None:
                raise LineError(f"{raw} takes no key size")
            item.encryption = EncryptionChoice(encr_id, bits or default_bits)
            if encr_id in WEAK_ENCRYPTIONS:
                what = "encrypts nothing" if encr_id == EncrId.NULL else "is weak"
                config.report(
                    source,
                    f"transform-set {name}: {raw} {what}: {STRONGER_ESP_ENCRYPTION}",
                    Severity.WARNING,
                )
        elif raw in ESP_INTEGRITIES:
            integ = ESP_INTEGRITIES[raw]
            if integ is None:
                item.unsupported.append(raw)
            elif item.integrity is not None:
                raise LineError("a transform-set takes one ESP integrity transform")
            else:
                item.integrity = integ
                if integ in WEAK_INTEGRITIES:
                    config.report(
                        source,
                        f"transform-set {name}: {raw} is weak: {STRONGER_ESP_INTEGRITY}",
                        Severity.WARNING,
                    )
        elif raw in OTHER_TRANSFORMS:
            item.unsupported.append(raw)
        else:
            raise LineError(f"unknown transform '{raw}'")
    if item.unsupported:
        config.report(
            source,
            f"transform-set {name}: {', '.join(item.unsupported)} not offered by this gateway",
            Severity.WARNING,
        )
    if item.encryption is not None and item.encryption.is_aead and item.integrity is not None:
        raise LineError(f"transform-set {name}: esp-gcm takes no integrity transform")
    config.transform_sets[name] = item
    return TransformSetMode(config, item)


def df_bit(config: Config, words: Words, source: Source, text: str) -> None:
    """`crypto ipsec df-bit clear|set|copy` (global)."""
    config.df_bit = words.keyword("clear", "set", "copy")
    words.end()
    if config.df_bit == "copy":
        raise LineError(
            "crypto ipsec df-bit copy: ESP leaves with the kernel's path MTU discovery "
            "(DF set, the default here); per-packet copying of the inner DF bit is not done",
            Severity.WARNING,
        )


def fragmentation(config: Config, words: Words, source: Source, text: str) -> None:
    """`crypto ipsec fragmentation before-encryption|after-encryption`."""
    config.fragmentation = words.keyword("before-encryption", "after-encryption")
    words.end()
    if config.fragmentation == "after-encryption":
        raise LineError(
            "crypto ipsec fragmentation after-encryption is not done: packets larger than "
            "a tunnel's MTU are fragmented before encryption (the host does it, by the "
            "tunnel device's MTU)",
            Severity.WARNING,
        )


REPLAY_WINDOWS = (64, 128, 256, 512, 1024)


def replay_window(config: Config, words: Words, source: Source, text: str) -> None:
    """`crypto ipsec security-association replay window-size N` (IOS sizes)."""
    size = words.number("window size", 64, 1024)
    words.end()
    if size not in REPLAY_WINDOWS:
        raise LineError(f"window-size must be one of {', '.join(map(str, REPLAY_WINDOWS))}")
    config.replay_window = size


#: what `set` takes in a crypto map entry and in an ipsec profile alike
SET_COMMANDS = ("transform-set", "ikev2-profile", "isakmp-profile", "pfs", "security-association")


def set_command(
    config: Config, entry: CryptoMapEntry | IpsecProfile, what: str, words: Words, source: Source
) -> None:
    """`set transform-set|ikev2-profile|isakmp-profile|pfs|security-association ...`."""
    if what == "transform-set":
        names = words.rest("transform-set name")
        if not names:
            raise LineError("missing transform-set name")
        entry.transform_sets = [(n, source) for n in names]
    elif what == "ikev2-profile":
        entry.ikev2_profile = (words.word("ikev2 profile name"), source)
    elif what == "isakmp-profile":
        entry.isakmp_profile = (words.word("isakmp profile name"), source)
    elif what == "pfs":
        # a bare `set pfs` asks for group1, as on IOS
        group = words.word("pfs group").lower() if words else "group1"
        if not group.startswith("group") or not (group[5:].isascii() and group[5:].isdecimal()):
            raise LineError(f"bad pfs group '{group}' (group14, group19 ...)")
        number = int(group[5:])
        if number not in SUPPORTED_DH_GROUPS:
            raise LineError(
                f"pfs {group} is not supported (groups {', '.join(map(str, SUPPORTED_DH_GROUPS))})"
            )
        if number in WEAK_DH_GROUPS:
            config.report(
                source,
                f"pfs {group} is weak: use group14, group19, group31 or stronger",
                Severity.WARNING,
            )
        entry.pfs_group = number
    else:
        words.keyword("lifetime")
        unit = words.keyword("seconds", "kilobytes")
        if unit == "seconds":
            entry.lifetime_seconds = words.number("lifetime seconds", 60, 86400)
        else:
            entry.lifetime_kb = words.number("lifetime kilobytes", 2560, 4294967295)
    words.end()


class MapEntryMode(SubMode):
    mode_name = "crypto map mode"
    commands = {
        "description": "description",
        "set": "set",
        "match": "match",
        "reverse-route": "reverse_route",
    }

    def __init__(self, config: Config, entry: CryptoMapEntry) -> None:
        super().__init__(config)
        self.entry = entry

    def description(self, words: Words, source: Source, text: str) -> None:
        self.entry.description = description(words, text)

    def set(self, words: Words, source: Source, text: str) -> None:
        what = words.keyword("peer", *SET_COMMANDS)
        if what == "peer":
            self.entry.peers.append((words.address("peer address"), source))  # type: ignore[arg-type]
            words.optional_keyword("default", "dynamic")
            words.end()
        else:
            set_command(self.config, self.entry, what, words, source)

    def match(self, words: Words, source: Source, text: str) -> None:
        words.keyword("address")
        self.entry.match_address = (words.word("access list"), source)
        words.end()

    def reverse_route(self, words: Words, source: Source, text: str) -> None:
        """`reverse-route [static] [tag N] [remote-peer [A [gateway]]] [distance N]`."""
        entry = self.entry
        entry.reverse_route = True
        while words:
            option = words.keyword("static", "tag", "remote-peer", "distance")
            if option == "static":
                entry.reverse_route_static = True
            elif option == "tag":
                entry.reverse_route_tag = words.number("route tag", 1, 4294967295)
            elif option == "distance":
                words.number("route distance", 1, 255)
            else:
                entry.reverse_route_remote_peer = True
                nxt = words.peek()
                if nxt is not None and nxt.count(".") == 3:
                    address = words.address("next hop")
                    if not isinstance(address, ipaddress.IPv4Address):
                        raise LineError(f"next hop {address} is not an IPv4 address")
                    entry.reverse_route_next_hop = address
                    entry.reverse_route_gateway = words.optional_keyword("gateway") is not None


def map_client(config: Config, name: str, words: Words, source: Source) -> None:
    """`crypto map NAME client accounting list L | client authentication list L | client
    configuration address respond|initiate`, and `crypto map NAME isakmp authorization
    list L`: remote access on a crypto map without isakmp profiles."""
    client = config.crypto_map_clients.get(name) or CryptoMapClient(source, name)
    if words.keyword("client", "isakmp") == "isakmp":
        words.keyword("authorization")
        words.keyword("list")
        client.authorization_list = (one_name(words, "authorization list"), source)
    else:
        what = words.keyword("accounting", "authentication", "configuration")
        if what == "configuration":
            words.keyword("address")
            mode = words.keyword("respond", "initiate")
            words.end()
            client.configuration_address = (mode, source)
        else:
            words.keyword("list")
            listed = (one_name(words, f"{what} list"), source)
            if what == "accounting":
                words.end()
                config.crypto_map_accounting[name] = listed
                return
            client.authentication_list = listed
    words.end()
    config.crypto_map_clients[name] = client


def crypto_map(config: Config, words: Words, source: Source, text: str) -> SubMode | None:
    name = words.word("crypto map name")
    if words.peek() is not None and match_keyword(words.peek(), ("client", "isakmp")):
        map_client(config, name, words, source)
        return None
    seq = words.number("sequence number", 1, 65535)
    words.keyword("ipsec-isakmp", "ipsec-manual", "gdoi")
    dynamic = (
        (words.word("dynamic map name"), source) if words.optional_keyword("dynamic") else None
    )
    words.end()
    # Entering an existing entry again edits it, as on a router.
    entry = config.crypto_maps.setdefault(name, {}).setdefault(
        seq, CryptoMapEntry(source, name, seq)
    )
    if dynamic is not None:
        entry.dynamic_map = dynamic
    return MapEntryMode(config, entry)


def dynamic_map(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("dynamic map name")
    seq = words.number("sequence number", 1, 65535)
    words.end()
    entry = config.dynamic_maps.setdefault(name, {}).setdefault(
        seq, CryptoMapEntry(source, name, seq, dynamic=True)
    )
    return MapEntryMode(config, entry)


class IpsecProfileMode(SubMode):
    mode_name = "ipsec profile mode"
    commands = {"description": "description", "set": "set", "responder-only": "responder_only"}

    def __init__(self, config: Config, profile: IpsecProfile) -> None:
        super().__init__(config)
        self.profile = profile

    def description(self, words: Words, source: Source, text: str) -> None:
        self.profile.description = description(words, text)

    def set(self, words: Words, source: Source, text: str) -> None:
        set_command(self.config, self.profile, words.keyword(*SET_COMMANDS), words, source)

    def responder_only(self, words: Words, source: Source, text: str) -> None:
        words.end()
        self.profile.responder_only = True


def ipsec_profile(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("ipsec profile name")
    words.end()
    profile = config.ipsec_profiles.setdefault(name, IpsecProfile(source, name))
    return IpsecProfileMode(config, profile)
