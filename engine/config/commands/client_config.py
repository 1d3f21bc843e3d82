"""`crypto isakmp client configuration group NAME` (a remote-access group's policy) and
`crypto isakmp client configuration address-pool local NAME` (the default pool)."""

from __future__ import annotations

import ipaddress

from engine.config.commands.base import SubMode, one_name, secret
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import ClientGroup, Config
from engine.config.words import Words

MAX_BANNER = 500


class ClientGroupMode(SubMode):
    """What mode-config sends the group's clients. Sub-commands of IOS's this mode does
    not read (`pfs`, `firewall`, `backup-gateway` ...) are warnings with their line."""

    mode_name = "isakmp group mode"
    commands = {
        "key": "key",
        "pool": "pool",
        "dns": "dns",
        "wins": "wins",
        "domain": "domain",
        "acl": "acl",
        "save-password": "save_password",
        "max-users": "max_users",
        "banner": "banner",
        "netmask": "netmask",
    }

    def __init__(self, config: Config, group: ClientGroup) -> None:
        super().__init__(config)
        self.group = group

    def key(self, words: Words, source: Source, text: str) -> None:
        value = secret(words)
        words.end()
        self.group.key = value

    def pool(self, words: Words, source: Source, text: str) -> None:
        self.group.pool = (one_name(words, "pool name"), source)

    def _servers(self, words: Words, what: str) -> list[ipaddress.IPv4Address]:
        servers = []
        while words:
            address = words.address(f"{what} server")
            if not isinstance(address, ipaddress.IPv4Address):
                raise LineError(f"{what} server {address} is not an IPv4 address")
            servers.append(address)
        if not 1 <= len(servers) <= 2:
            raise LineError(f"{what} takes a primary and an optional secondary server")
        return servers

    def dns(self, words: Words, source: Source, text: str) -> None:
        self.group.dns = self._servers(words, "dns")

    def wins(self, words: Words, source: Source, text: str) -> None:
        self.group.wins = self._servers(words, "wins")

    def domain(self, words: Words, source: Source, text: str) -> None:
        value = words.hostname("domain name")
        words.end()
        self.group.domain = value

    def acl(self, words: Words, source: Source, text: str) -> None:
        self.group.acl = (one_name(words, "access list"), source)

    def save_password(self, words: Words, source: Source, text: str) -> None:
        words.end()
        self.group.save_password = True

    def max_users(self, words: Words, source: Source, text: str) -> None:
        self.group.max_users = words.number("max-users", 1, 5000)
        words.end()

    def netmask(self, words: Words, source: Source, text: str) -> None:
        mask = words.mask("netmask")
        words.end()
        self.group.netmask = mask

    def banner(self, words: Words, source: Source, text: str) -> None:
        """`banner cTEXTc`: the text up to the delimiter c. A banner that goes on over
        more lines keeps its first line; the lines after it are skipped as banner text
        (engine/config/parser.py), never read as commands."""
        body = words.rest_text(text, "banner")
        if not body:
            raise LineError("banner needs a delimiter and its text (banner ^C text ^C)")
        delimiter = "^C" if body.startswith("^C") else body[0]
        rest = body[len(delimiter) :]
        end = rest.find(delimiter)
        value = (rest if end < 0 else rest[:end]).strip()
        if end < 0:
            self.config.report(
                source,
                "banner: only its first line is kept (the rest, up to its delimiter, is skipped)",
                Severity.WARNING,
            )
        self.group.banner = value[:MAX_BANNER]


def client_group(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("group name")
    words.end()
    group = config.client_groups.setdefault(name, ClientGroup(source, name))
    return ClientGroupMode(config, group)


def address_pool(config: Config, words: Words, source: Source, text: str) -> None:
    config.client_address_pool = (one_name(words, "pool name"), source)
