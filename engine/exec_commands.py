"""`show ...` and `clear ...` from the shell, as IOS exec commands, over the control socket.

Keywords take IOS abbreviations (`sh cry sess det`). Usage errors exit 2; a missing,
slow or confused daemon exits 1 with a one-line message (`request()` checks each reply
has the keys used here, so no reply can end in a traceback).
"""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path
from typing import Any

from engine.config.words import match_keyword
from engine.control import CLEAR_USAGE, ClearFilter
from engine.control_socket import ControlError, default_path, request

SHOW_USAGE = (
    "usage: ipsec-console show crypto session [detail] [remote IP] [--json] "
    "[--control PATH]\n"
    "       ipsec-console show crypto isakmp peer [--json] [--control PATH]\n"
    "       ipsec-console show running-config [--control PATH]"
)
REQUEST_TIMEOUT = 10.0  # seconds for the daemon's whole reply


class UsageError(Exception):
    pass


def _options(argv: list[str]) -> tuple[list[str], bool, Path]:
    words, as_json, control = [], False, default_path()
    i = 0
    while i < len(argv):
        if argv[i] == "--json":
            as_json = True
        elif argv[i] == "--control":
            if i + 1 >= len(argv):
                raise UsageError("--control needs a PATH")
            control = Path(argv[i + 1])
            i += 1
        elif argv[i].startswith("--control="):
            control = Path(argv[i].split("=", 1)[1])
        elif argv[i].startswith("-"):
            raise UsageError(f"unknown option {argv[i]}")
        else:
            words.append(argv[i])
        i += 1
    return words, as_json, control


def _keywords(words: list[str], *expected: str) -> None:
    for index, keyword in enumerate(expected):
        if index >= len(words) or match_keyword(words[index], (keyword,)) is None:
            raise UsageError(f"expected '{' '.join(expected)}'")


def show(argv: list[str], timeout: float = REQUEST_TIMEOUT) -> int:
    try:
        words, as_json, control = _options(argv)
        if not words:
            raise UsageError("show what?")
        what = match_keyword(words[0], ("crypto", "running-config"))
        if what == "running-config" and len(words) == 1:
            reply = request(control, {"cmd": "running-config"}, timeout)
            print(reply["text"], end="")
            return 0
        _keywords(words, "crypto")
        sub = match_keyword(words[1], ("session", "isakmp")) if len(words) > 1 else None
        if sub == "isakmp":
            _keywords(words[1:], "isakmp", "peer")
            if len(words) > 3:
                raise UsageError(f"unexpected '{' '.join(words[3:])}'")
            reply = request(control, {"cmd": "show-isakmp-peers"}, timeout)
            _print(reply, "peers", as_json)
            return 0
        if sub != "session":
            raise UsageError("show crypto session | show crypto isakmp peer")
        rest = words[2:]
        detail = False
        remote = None
        while rest:
            key = match_keyword(rest[0], ("detail", "remote"))
            if key == "detail":
                detail, rest = True, rest[1:]
            elif key == "remote" and len(rest) > 1:
                remote, rest = rest[1], rest[2:]
                try:
                    ipaddress.ip_address(remote)
                except ValueError:
                    raise UsageError(f"bad remote address '{remote}'") from None
            else:
                raise UsageError(f"unexpected '{' '.join(rest)}'")
        payload = {"cmd": "show-sessions", "detail": detail, "remote": remote}
        reply = request(control, payload, timeout)
        _print(reply, "sessions", as_json)
        return 0
    except UsageError as err:
        print(f"ipsec-console show: {err}\n{SHOW_USAGE}", file=sys.stderr)
        return 2
    except ControlError as err:
        print(f"ipsec-console: {err}", file=sys.stderr)
        return 1


def clear(argv: list[str], timeout: float = REQUEST_TIMEOUT) -> int:
    try:
        words, as_json, control = _options(argv)
        _keywords(words, "crypto", "session")
        flt_words = words[2:]
        ClearFilter.parse(flt_words)  # usage errors before any contact with the daemon
        payload = {"cmd": "clear", "words": flt_words, "by": "command line"}
        reply = request(control, payload, timeout)
    except (UsageError, ValueError) as err:
        print(
            f"ipsec-console clear: {err}\nusage: ipsec-console {CLEAR_USAGE} [--control PATH]",
            file=sys.stderr,
        )
        return 2
    except ControlError as err:
        print(f"ipsec-console: {err}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps({"cleared": reply["cleared"]}, indent=2))
    else:
        count = len(reply["cleared"])
        print(f"cleared {count} crypto session{'s' * (count != 1)} ({reply['filter']})")
        for session_id in reply["cleared"]:
            print(f"  {session_id}")
    return 0


def _print(reply: dict[str, Any], key: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps(reply[key], indent=2))
    else:
        print(reply["text"], end="" if reply["text"].endswith("\n") else "\n")
