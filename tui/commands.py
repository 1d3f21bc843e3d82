"""The `:` prompt's language: a screen name, an app command, or an IOS exec command
exactly as the CLI takes it (the engine's one parser and renderer, `engine.exec_syntax`).

Keywords take IOS abbreviations (`sh cry sess det`, `:fl`).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config.words import match_keyword
from engine.exec_syntax import (
    SHOW_FORMS,
    XSM_CLEAR_USAGE,
    Clear,
    ClearXsm,
    ExecSyntaxError,
    Show,
    parse_exec,
    render,
)

SCREEN_NAMES = (
    "sessions",
    "flows",
    "peers",
    "drops",
    "syslog",
    "accounting",
    "config",
    "xsm",
    "dashboard",
)
APP_COMMANDS = ("quit", "help", "pause")

SUGGESTIONS = (
    *SCREEN_NAMES,
    *APP_COMMANDS,
    "show crypto session",
    "show crypto session detail",
    "show crypto session detail remote ",
    "show crypto session remote ",
    "show crypto isakmp peer",
    "show crypto ikev2 stats",
    "show crypto engine drops",
    "show running-config",
    "show logging",
    "show ip local pool",
    "show xsm status",
    "show xsm xrd-list",
    "clear xsm session ",
    "show ip local pool ",
    "clear crypto session remote ",
    "clear crypto session local ",
    "clear crypto session fvrf ",
    "clear crypto session ivrf ",
)

USAGE = (
    "a screen ("
    + ", ".join(SCREEN_NAMES)
    + "), quit, help, pause, "
    + ", ".join(SHOW_FORMS)
    + ", clear crypto session [FILTERS], "
    + XSM_CLEAR_USAGE
)

CommandError = ExecSyntaxError

__all__ = [
    "AppCommand",
    "Clear",
    "ClearXsm",
    "Command",
    "CommandError",
    "GoTo",
    "Show",
    "parse",
    "render",
]


@dataclass(frozen=True, slots=True)
class GoTo:
    screen: str


@dataclass(frozen=True, slots=True)
class AppCommand:
    name: str


Command = GoTo | AppCommand | Show | Clear | ClearXsm


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
    if match_keyword(words[0], ("show", "clear")) is None:
        raise CommandError(f"unknown command '{line.strip()}'; type one of: {USAGE}")
    return parse_exec(words)
