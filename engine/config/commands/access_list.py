"""`ip access-list extended|standard NAME` and numbered `access-list N`: the traffic
selectors of crypto maps (extended lists), and the networks a split-tunnel list names
(standard or extended)."""

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


def standard_entry(words: Words, source: Source) -> AclEntry:
    """`permit|deny A [WILDCARD] | host A | any [log]`: a source, to any destination."""
    action = words.keyword("permit", "deny", "remark")
    if action == "remark":
        words.skip()
        raise LineError("remark", Severity.WARNING)
    first = (words.peek() or "").lower()
    second = words.items[words.pos + 1] if words.pos + 1 < len(words.items) else ""
    if first in ("any", "host") or second.count(".") == 3:
        src = endpoint(words)
    else:
        src = ipaddress.ip_network(words.address("source address"))  # `permit A`: one host
    words.optional_keyword("log")
    words.end()
    return AclEntry(source, action, "ip", src)


def entry(words: Words, source: Source, standard: bool = False) -> AclEntry:
    if standard:
        return standard_entry(words, source)
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
        self.acl.entries.append(entry(words, source, self.acl.standard))

    def remark(self, words: Words, source: Source, text: str) -> None:
        words.skip()


def _sequence(word: str) -> bool:
    return word.isascii() and word.isdecimal()


def named_acl(config: Config, words: Words, source: Source, text: str) -> SubMode:
    return _named(config, words, source, standard=False)


def named_standard_acl(config: Config, words: Words, source: Source, text: str) -> SubMode:
    return _named(config, words, source, standard=True)


def _named(config: Config, words: Words, source: Source, standard: bool) -> SubMode:
    name = words.word("access list name")
    words.end()
    acl = config.access_lists.setdefault(name, AccessList(source, name, standard=standard))
    if acl.standard != standard:
        kinds = ("extended", "standard")
        raise LineError(f"access list {name} is {kinds[acl.standard]}, not {kinds[standard]}")
    return AclMode(config, acl)


def numbered_acl(config: Config, words: Words, source: Source, text: str) -> None:
    """`access-list N ...`: 1-99 and 1300-1999 are standard lists, 100-199 and 2000-2699
    extended ones."""
    number = words.number("access list number", 1, 2699)
    standard = number < 100 or 1300 <= number <= 1999
    if 200 <= number < 1300:
        raise LineError(
            f"access-list {number} is not an IP access list (IP lists: 1-199, 1300-2699)",
            Severity.WARNING,
        )
    acl = config.access_lists.setdefault(
        str(number), AccessList(source, str(number), standard=standard)
    )
    if words.peek() and words.peek().lower() == "remark":
        words.skip()
        return
    acl.entries.append(entry(words, source, standard))
