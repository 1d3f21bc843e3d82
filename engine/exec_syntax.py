"""The IOS exec commands `show ...` and `clear crypto session ...`: one parser and one
renderer for the command line, the control socket and the console's `:` prompt, so the
three can never disagree on what a line means or prints.

Keywords take IOS abbreviations (`sh cry sess det`). Parsing is apart from running, so a
typo is reported before anything touches the gateway.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from engine.aaa.pools import render_show_ip_local_pool
from engine.config.words import match_keyword
from engine.control import ClearFilter, Control
from engine.show import show_crypto_session, show_isakmp_peers
from engine.show_isakmp import show_crypto_isakmp_sa
from engine.statistics import show_engine_drops, show_ikev2_stats
from engine.store import Store
from engine.syslog import LogEntry
from engine.xsm.show import show_xsm_status, show_xsm_xrd_list

SHOW_FORMS = (
    "show crypto session [detail] [remote IP]",
    "show crypto isakmp peer",
    "show crypto isakmp sa [detail]",
    "show crypto ikev2 stats",
    "show crypto engine drops",
    "show running-config",
    "show logging",
    "show ip local pool [NAME]",
    "show xsm status",
    "show xsm xrd-list",
)
XSM_CLEAR_USAGE = "clear xsm [session N]"


class ExecSyntaxError(ValueError):
    """The words are not an exec command; the message says why."""


@dataclass(frozen=True, slots=True)
class Show:
    #: "session", "isakmp", "ikev2-stats", "engine-drops", "running-config", "logging",
    #: "ip-local-pool", "xsm-status", "xsm-xrd-list"
    what: str
    detail: bool = False
    remote: str | None = None
    #: `show ip local pool NAME`
    pool: str | None = None

    @property
    def title(self) -> str:
        if self.what == "isakmp-sa":
            return "show crypto isakmp sa" + (" detail" if self.detail else "")
        if self.what == "session":
            words = ["show crypto session"]
            if self.detail:
                words.append("detail")
            if self.remote:
                words.append(f"remote {self.remote}")
            return " ".join(words)
        if self.what == "ip-local-pool":
            return "show ip local pool" + (f" {self.pool}" if self.pool else "")
        return {
            "isakmp": "show crypto isakmp peer",
            "ikev2-stats": "show crypto ikev2 stats",
            "engine-drops": "show crypto engine drops",
            "running-config": "show running-config",
            "logging": "show logging",
            "xsm-status": "show xsm status",
            "xsm-xrd-list": "show xsm xrd-list",
        }[self.what]

    def request(self) -> dict[str, Any]:
        """The control socket request that answers it."""
        if self.what == "session":
            return {"cmd": "show-sessions", "detail": self.detail, "remote": self.remote}
        if self.what == "running-config":
            return {"cmd": "running-config"}
        if self.what == "isakmp":
            return {"cmd": "show-isakmp-peers"}
        if self.what == "isakmp-sa":
            return {"cmd": "show-isakmp-sa", "detail": self.detail}
        if self.what == "ip-local-pool":
            return {"cmd": "show-ip-local-pool", "pool": self.pool}
        return {"cmd": f"show-{self.what}"}

    @property
    def records_key(self) -> str | None:
        """Where the reply keeps the records that `--json` prints."""
        return {
            "session": "sessions",
            "isakmp": "peers",
            "isakmp-sa": "sas",
            "ikev2-stats": "stats",
            "engine-drops": "stats",
            "logging": "entries",
            "ip-local-pool": "pools",
            "xsm-status": "xsm",
            "xsm-xrd-list": "xrds",
        }.get(self.what)


@dataclass(frozen=True, slots=True)
class Clear:
    filter: ClearFilter


@dataclass(frozen=True, slots=True)
class ClearXsm:
    """`clear xsm [session N]`: disconnect one XSM client, or all of them (None)."""

    session: int | None = None

    def request(self, by: str) -> dict[str, Any]:
        return {"cmd": "clear-xsm", "session": self.session, "by": by}


def _expect(words: list[str], *keywords: str) -> None:
    for index, keyword in enumerate(keywords):
        if index >= len(words) or match_keyword(words[index], (keyword,)) is None:
            raise ExecSyntaxError(f"expected '{' '.join(keywords)}'")


def _nothing_after(words: list[str], count: int) -> None:
    if len(words) > count:
        raise ExecSyntaxError(f"unexpected '{' '.join(words[count:])}'")


def parse_exec(words: list[str]) -> Show | Clear | ClearXsm:
    """`show ...`, `clear crypto session ...` or `clear xsm ...`, as words."""
    verb = match_keyword(words[0], ("show", "clear")) if words else None
    if verb == "show":
        return parse_show(words[1:])
    if verb == "clear":
        return parse_clear(words[1:])
    raise ExecSyntaxError("expected 'show' or 'clear'")


def parse_clear(words: list[str]) -> Clear | ClearXsm:
    """The words after `clear`: `crypto session [FILTERS]` or `xsm [session N]`."""
    if words and match_keyword(words[0], ("xsm", "crypto")) == "xsm":
        return parse_clear_xsm(words[1:])
    _expect(words, "crypto", "session")
    try:
        return Clear(ClearFilter.parse(words[2:]))
    except ValueError as err:
        raise ExecSyntaxError(str(err)) from None


def parse_clear_xsm(words: list[str]) -> ClearXsm:
    """The words after `clear xsm`."""
    if not words:
        return ClearXsm()
    _expect(words, "session")
    if len(words) < 2:
        raise ExecSyntaxError("clear xsm session needs the session number (show xsm status)")
    _nothing_after(words, 2)
    if not words[1].isdigit() or not 0 < int(words[1]) < 2**31:
        raise ExecSyntaxError(f"bad XSM session number '{words[1]}'")
    return ClearXsm(int(words[1]))


def parse_show(words: list[str]) -> Show:
    """The words after `show`."""
    if not words:
        raise ExecSyntaxError("show what? " + " | ".join(f[5:] for f in SHOW_FORMS))
    what = match_keyword(words[0], ("crypto", "running-config", "logging", "ip", "xsm"))
    if what == "xsm":
        sub = match_keyword(words[1], ("status", "xrd-list")) if len(words) > 1 else None
        if sub is None:
            raise ExecSyntaxError("show xsm status | xrd-list")
        _nothing_after(words, 2)
        return Show(f"xsm-{sub}")
    if what in ("running-config", "logging"):
        _nothing_after(words, 1)
        return Show(what)
    if what == "ip":
        _expect(words, "ip", "local", "pool")
        _nothing_after(words, 4)
        return Show("ip-local-pool", pool=words[3] if len(words) > 3 else None)
    _expect(words, "crypto")
    subjects = ("session", "isakmp", "ikev2", "engine")
    sub = match_keyword(words[1], subjects) if len(words) > 1 else None
    if sub == "isakmp":
        what = match_keyword(words[2], ("peer", "sa")) if len(words) > 2 else None
        if what == "sa":
            detail = len(words) > 3 and match_keyword(words[3], ("detail",)) == "detail"
            _nothing_after(words, 4 if detail else 3)
            return Show("isakmp-sa", detail)
        _expect(words[1:], "isakmp", "peer")
        _nothing_after(words, 3)
        return Show("isakmp")
    if sub == "ikev2":
        _expect(words[1:], "ikev2", "stats")
        _nothing_after(words, 3)
        return Show("ikev2-stats")
    if sub == "engine":
        _expect(words[1:], "engine", "drops")
        _nothing_after(words, 3)
        return Show("engine-drops")
    if sub != "session":
        raise ExecSyntaxError("show crypto session | isakmp peer | ikev2 stats | engine drops")
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
                raise ExecSyntaxError(f"bad remote address '{rest[1]}'") from None
            rest = rest[2:]
        else:
            raise ExecSyntaxError(f"unexpected '{' '.join(rest)}'")
    return Show("session", detail, remote)


def render(show: Show, control: Control, store: Store, now: float) -> str:
    """The command's output, as the CLI prints it and the console shows it."""
    if show.what == "session":
        return show_crypto_session(control.sessions(show.remote), detail=show.detail, now=now)
    if show.what == "isakmp":
        return show_isakmp_peers(control.isakmp_peers())
    if show.what == "isakmp-sa":
        return show_crypto_isakmp_sa(control.isakmp_sas(), detail=show.detail)
    if show.what in ("ikev2-stats", "engine-drops"):
        stats = control.statistics()
        if stats is None:
            return "No statistics yet\n"
        return (show_ikev2_stats if show.what == "ikev2-stats" else show_engine_drops)(stats)
    if show.what == "running-config":
        return control.running_config()
    if show.what == "ip-local-pool":
        pools = control.address_pools()
        if pools is None:
            return "No pools configured\n"
        return render_show_ip_local_pool(pools, show.pool)
    if show.what == "xsm-status":
        return show_xsm_status(control.xsm_status(), control.xsm_clients())
    if show.what == "xsm-xrd-list":
        monitor, configuration = control.xsm_levels()
        return show_xsm_xrd_list(control.xsm_xrds(), monitor, configuration)
    lines = [entry.display() for entry in store.syslog if isinstance(entry, LogEntry)]
    return "\n".join(lines) + ("\n" if lines else "")
