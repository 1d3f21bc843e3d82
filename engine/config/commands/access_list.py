"""`ip access-list extended NAME` and numbered `access-list N`: the traffic selectors."""

from __future__ import annotations

import ipaddress

from engine.config.commands.base import SubMode
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import ACL_PROTOCOLS, AccessList, AclEntry, Config, Network
from engine.config.words import Words

PROTOCOLS = tuple(ACL_PROTOCOLS)


def endpoint(words: Words) -> Network:
    """`any` | `host A` | `A WILDCARD`."""
    first = words.word("address, host or any")
    if first.lower() == "any":
        return ipaddress.ip_network("0.0.0.0/0")
    if first.lower() == "host":
        return ipaddress.ip_network(words.address("host address"))
    try:
        address = ipaddress.IPv4Address(first)
    except ValueError:
        raise LineError(f"bad address '{first}'") from None
    wildcard = words.wildcard()
    prefix = 32 - wildcard.bit_length()
    net = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
    if net.network_address != address:
        mask = ipaddress.IPv4Address(wildcard)
        raise LineError(f"{address} has bits set outside wildcard {mask}")
    return net


def entry(words: Words, source: Source) -> AclEntry:
    action = words.keyword("permit", "deny", "remark")
    if action == "remark":
        words.skip()
        raise LineError("remark", Severity.WARNING)
    protocol = words.keyword(*PROTOCOLS)
    src = endpoint(words)
    dst = endpoint(words)
    if words:
        raise LineError(
            f"ignored: port and option matches are not used for crypto ACLs: {words.shown_rest()}",
            Severity.WARNING,
        )
    return AclEntry(source, action, protocol, src, dst)


class AclMode(SubMode):
    mode_name = "access-list mode"
    commands = {"permit": "add", "deny": "add", "remark": "remark"}

    def __init__(self, config: Config, acl: AccessList) -> None:
        super().__init__(config)
        self.acl = acl

    def knows(self, words: list[str]) -> bool:
        return super().knows(words[1:] if words and _sequence(words[0]) else words)

    def handle(self, words: Words, source: Source, text: str) -> None:
        # `10 permit ...`: IOS XE shows the sequence numbers of named lists; the
        # entries keep the file's order, which is theirs in a running config
        if _sequence(words.peek() or ""):
            words.number("sequence number", 1, 2147483647)
        super().handle(words, source, text)

    def add(self, words: Words, source: Source, text: str) -> None:
        words.pos -= 1  # the action keyword is part of the entry
        self.acl.entries.append(entry(words, source))

    def remark(self, words: Words, source: Source, text: str) -> None:
        words.skip()


def _sequence(word: str) -> bool:
    return word.isascii() and word.isdecimal()


def named_acl(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("access list name")
    words.end()
    acl = config.access_lists.setdefault(name, AccessList(source, name))
    return AclMode(config, acl)


def numbered_acl(config: Config, words: Words, source: Source, text: str) -> None:
    number = words.number("access list number", 1, 2699)
    if not (100 <= number <= 199 or 2000 <= number <= 2699):
        raise LineError(
            f"access-list {number} is a standard list; crypto needs 100-199 or "
            "2000-2699 (extended)",
            Severity.WARNING,
        )
    acl = config.access_lists.setdefault(str(number), AccessList(source, str(number)))
    if words.peek() and words.peek().lower() == "remark":
        words.skip()
        return
    acl.entries.append(entry(words, source))
