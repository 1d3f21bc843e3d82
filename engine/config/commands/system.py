"""`hostname`, `ip local pool`, `logging ...`."""

from __future__ import annotations

import ipaddress

from engine.config.commands.base import CommandTree
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config, LocalPool, LoggingHost, PoolRange
from engine.config.words import Words, match_keyword

TRAP_LEVELS = (
    "emergencies",
    "alerts",
    "critical",
    "errors",
    "warnings",
    "notifications",
    "informational",
    "debugging",
)


def hostname(config: Config, words: Words, source: Source, text: str) -> None:
    config.hostname = words.word("host name")
    words.end()


def local_pool(config: Config, words: Words, source: Source, text: str) -> None:
    """`ip local pool NAME FIRST [LAST]`: a line with a name already used adds a range
    to that pool, as IOS does; overlaps are checked with the whole file (validate)."""
    name = words.word("pool name")
    first = words.address("first address")
    last = first
    if words and words.peek().lower() not in ("group", "cache-size", "recycle"):
        last = words.address("last address")
    grouped = words.optional_keyword("group", "cache-size", "recycle")
    words.skip()
    if not isinstance(first, ipaddress.IPv4Address) or not isinstance(last, ipaddress.IPv4Address):
        raise LineError(f"pool {name}: {first} - {last} is not an IPv4 range")
    if first > last:
        raise LineError(f"pool {name}: the first address {first} is after the last {last}")
    pool = config.local_pools.setdefault(name, LocalPool(source, name))
    pool.ranges.append(PoolRange(source, first, last))
    if grouped is not None:
        config.report(
            source,
            f"pool {name}: '{grouped}' is not supported (all pools share one address space)",
            Severity.WARNING,
        )


def level(words: Words) -> int:
    """`logging trap LEVEL`: a name (abbreviations allowed) or 0-7, as IOS takes it."""
    word = words.word("logging level")
    if word.isascii() and word.isdecimal() and int(word) < len(TRAP_LEVELS):
        return int(word)
    found = match_keyword(word, TRAP_LEVELS)
    if found is None:
        raise LineError(f"unknown logging level '{word}' ({', '.join(TRAP_LEVELS)} or 0-7)")
    return TRAP_LEVELS.index(found)


def logging_host(config: Config, words: Words, source: Source, text: str) -> None:
    words.optional_keyword("ipv6")
    host = LoggingHost(source, words.address("logging host"))
    if words.optional_keyword("transport"):
        words.keyword("udp")
        if words.optional_keyword("port"):
            host.port = words.number("port", 1, 65535)
    words.end()
    config.logging_hosts.append(host)


def logging_buffered(config: Config, words: Words, source: Source, text: str) -> None:
    if words and words.peek().isascii() and words.peek().isdecimal():
        config.logging_buffered = words.number("buffer size", 4096, 2147483647)
    if words:
        level(words)
    words.end()


def logging_trap(config: Config, words: Words, source: Source, text: str) -> None:
    config.logging_trap = level(words)
    words.end()


LOGGING_COMMANDS: CommandTree = {
    "host": logging_host,
    "buffered": logging_buffered,
    "trap": logging_trap,
}
