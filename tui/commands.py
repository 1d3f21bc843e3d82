"""The `:` prompt's language: a screen name, or an IOS exec command as the CLI takes it.

Keywords take IOS abbreviations (`sh cry sess det`, `:fl`). Parsing is separate from
running so a typo is reported before anything touches the gateway; the output of a
`show` is rendered by `engine.show`, so it is byte for byte what the CLI prints.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from engine.config.words import match_keyword
from engine.control import ClearFilter, Control
from engine.show import show_crypto_session, show_isakmp_peers
from engine.store import Store
from engine.syslog import LogEntry

SCREEN_NAMES = ("sessions", "flows", "peers", "syslog", "accounting", "config")
APP_COMMANDS = ("quit", "help", "pause")

SUGGESTIONS = (
    *SCREEN_NAMES,
    *APP_COMMANDS,
    "show crypto session",
    "show crypto session detail",
    "show crypto session detail remote ",
    "show crypto session remote ",
    "show crypto isakmp peer",
    "show running-config",
    "show logging",
    "clear crypto session remote ",
    "clear crypto session local ",
    "clear crypto session fvrf ",
    "clear crypto session ivrf ",
)

USAGE = (
    "a screen (" + ", ".join(SCREEN_NAMES) + "), quit, help, pause, "
    "show crypto session [detail] [remote IP], show crypto isakmp peer, "
    "show running-config, show logging, clear crypto session [FILTERS]"
)


class CommandError(ValueError):
    """The line is not a command; the message says why."""


@dataclass(frozen=True, slots=True)
class GoTo:
    screen: str


@dataclass(frozen=True, slots=True)
class AppCommand:
    name: str


@dataclass(frozen=True, slots=True)
class Show:
    what: str  # "session", "isakmp", "running-config", "logging"
    detail: bool = False
    remote: str | None = None

    @property
    def title(self) -> str:
        if self.what == "session":
            words = ["show crypto session"]
            if self.detail:
                words.append("detail")
            if self.remote:
                words.append(f"remote {self.remote}")
            return " ".join(words)
        return {
            "isakmp": "show crypto isakmp peer",
            "running-config": "show running-config",
            "logging": "show logging",
        }[self.what]


@dataclass(frozen=True, slots=True)
class Clear:
    filter: ClearFilter


Command = GoTo | AppCommand | Show | Clear


def _expect(words: list[str], *keywords: str) -> None:
    for index, keyword in enumerate(keywords):
        if index >= len(words) or match_keyword(words[index], (keyword,)) is None:
            raise CommandError(f"expected '{' '.join(keywords)}'")


def parse(line: str) -> Command:
    words = line.strip().removeprefix(":").split()
    if not words:
        raise CommandError(f"type one of: {USAGE}")
    if len(words) == 1:
        name = match_keyword(words[0], SCREEN_NAMES + APP_COMMANDS)
        if name in SCREEN_NAMES:
            return GoTo(name)
        if name is not None:
            return AppCommand(name)
    verb = match_keyword(words[0], ("show", "clear"))
    if verb == "show":
        return _show(words[1:])
    if verb == "clear":
        _expect(words[1:], "crypto", "session")
        try:
            return Clear(ClearFilter.parse(words[3:]))
        except ValueError as err:
            raise CommandError(str(err)) from None
    raise CommandError(f"unknown command '{line.strip()}'; type one of: {USAGE}")


def _show(words: list[str]) -> Show:
    if not words:
        raise CommandError("show what? crypto session, crypto isakmp peer, running-config")
    what = match_keyword(words[0], ("crypto", "running-config", "logging"))
    if what in ("running-config", "logging") and len(words) == 1:
        return Show(what)
    _expect(words, "crypto")
    sub = match_keyword(words[1], ("session", "isakmp")) if len(words) > 1 else None
    if sub == "isakmp":
        _expect(words[1:], "isakmp", "peer")
        if len(words) > 3:
            raise CommandError(f"unexpected '{' '.join(words[3:])}'")
        return Show("isakmp")
    if sub != "session":
        raise CommandError("show crypto session | show crypto isakmp peer")
    rest = words[2:]
    detail, remote = False, None
    while rest:
        key = match_keyword(rest[0], ("detail", "remote"))
        if key == "detail":
            detail, rest = True, rest[1:]
        elif key == "remote" and len(rest) > 1:
            try:
                remote = str(ipaddress.ip_address(rest[1]))
            except ValueError:
                raise CommandError(f"bad remote address '{rest[1]}'") from None
            rest = rest[2:]
        else:
            raise CommandError(f"unexpected '{' '.join(rest)}'")
    return Show("session", detail, remote)


def render(show: Show, control: Control, store: Store, now: float) -> str:
    """The command's output, from the engine's own renderers."""
    if show.what == "session":
        return show_crypto_session(control.sessions(show.remote), detail=show.detail, now=now)
    if show.what == "isakmp":
        return show_isakmp_peers(control.isakmp_peers())
    if show.what == "running-config":
        return control.running_config()
    lines = [entry.display() for entry in store.syslog if isinstance(entry, LogEntry)]
    return "\n".join(lines) + ("\n" if lines else "")
