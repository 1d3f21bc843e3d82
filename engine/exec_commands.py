"""`show ...` and `clear ...` from the shell, as IOS exec commands, over the control socket.

Keywords take IOS abbreviations (`sh cry sess det`). Usage errors exit 2; a missing,
slow or confused daemon exits 1 with a one-line message (`request()` checks each reply
has the keys used here, so no reply can end in a traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engine.control import CLEAR_USAGE
from engine.control_socket import ControlError, default_path, request
from engine.exec_syntax import (
    SHOW_FORMS,
    XSM_CLEAR_USAGE,
    ClearXsm,
    ExecSyntaxError,
    parse_clear,
    parse_show,
)

SHOW_USAGE = "usage: " + "\n       ".join(
    f"ipsec-console {form} [--json] [--control PATH]" for form in SHOW_FORMS
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


def show(argv: list[str], timeout: float = REQUEST_TIMEOUT) -> int:
    try:
        words, as_json, control = _options(argv)
        command = parse_show(words)
        reply = request(control, command.request(), timeout)
    except (UsageError, ExecSyntaxError) as err:
        print(f"ipsec-console show: {err}\n{SHOW_USAGE}", file=sys.stderr)
        return 2
    except ControlError as err:
        print(f"ipsec-console: {err}", file=sys.stderr)
        return 1
    key = command.records_key
    if as_json and key is not None:
        print(json.dumps(reply[key], indent=2))
    else:
        print(reply["text"], end="" if reply["text"].endswith("\n") else "\n")
    return 0


def clear(argv: list[str], timeout: float = REQUEST_TIMEOUT) -> int:
    try:
        words, as_json, control = _options(argv)
        command = parse_clear(words)  # usage errors before any contact with the daemon
        if isinstance(command, ClearXsm):
            return _clear_xsm(command, as_json, control, timeout)
        payload = {"cmd": "clear", "words": words[2:], "by": "command line"}
        reply = request(control, payload, timeout)
    except (UsageError, ExecSyntaxError) as err:
        print(
            f"ipsec-console clear: {err}\nusage: ipsec-console {CLEAR_USAGE} [--control PATH]"
            f"\n       ipsec-console {XSM_CLEAR_USAGE} [--control PATH]",
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


def _clear_xsm(command: ClearXsm, as_json: bool, control: Path, timeout: float) -> int:
    reply = request(control, command.request("command line"), timeout)
    cleared = reply["cleared"]
    if as_json:
        print(json.dumps({"cleared": cleared}, indent=2))
    else:
        count = len(cleared)
        print(f"cleared {count} XSM session{'s' * (count != 1)}")
        for session in cleared:
            print(f"  {session}")
    return 0
