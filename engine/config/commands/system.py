"""`hostname`, `ip local pool`, `logging ...`."""

from __future__ import annotations

from engine.config.commands.base import CommandTree
from engine.config.diagnostics import LineError, Source
from engine.config.model import Config, LocalPool, LoggingHost
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
    name = words.word("pool name")
    first = words.address("first address")
    last = words.address("last address")
    words.end()
    if first.version != 4 or last.version != 4 or int(first) > int(last):
        raise LineError(f"pool {name}: {first} - {last} is not an IPv4 range")
    config.local_pools[name] = LocalPool(source, name, first, last)  # type: ignore[arg-type]


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
