"""`xsm ...`: the XML Subscription Manager and its adapters, as IOS configures them.

`xsm` turns on the server with both adapters (VDM: the VPN data sets, EDM: the
device's); `xsm vdm` or `xsm edm` alone turns it on with that adapter only; `no xsm`
turns everything off. The history and privilege settings stand on their own.
"""

from __future__ import annotations

from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import XSM_PRIVILEGE, Config
from engine.config.words import Words
from engine.redaction import redact

ADAPTERS = ("vdm", "edm", "dvdm")


def xsm(config: Config, words: Words, source: Source, text: str) -> None:
    """`xsm` or `xsm vdm|edm`."""
    settings = config.xsm
    adapter = words.keyword(*ADAPTERS) if words else None
    words.end()
    if adapter == "dvdm":
        raise LineError(
            f"ignored: not supported: {redact(text)} (no switch ports on this gateway)",
            Severity.WARNING,
        )
    if adapter is None:
        settings.vdm = settings.edm = True
    elif not settings.enabled:
        settings.vdm, settings.edm = adapter == "vdm", adapter == "edm"
    else:
        setattr(settings, adapter, True)
    settings.enabled = True
    for name in ("enabled", *(("vdm", "edm") if adapter is None else (adapter,))):
        settings.set_at(name, source)


def no_xsm(config: Config, words: Words, source: Source, text: str) -> None:
    """`no xsm` (all off) or `no xsm vdm|edm` (that adapter off)."""
    settings = config.xsm
    adapter = words.keyword(*ADAPTERS) if words else None
    words.end()
    if adapter == "dvdm":
        return  # never on
    if adapter is None:
        settings.enabled = settings.vdm = settings.edm = False
        names: tuple[str, ...] = ("enabled", "vdm", "edm")
    else:
        setattr(settings, adapter, False)
        names = (adapter,)
    for name in names:
        settings.set_at(name, source)


def _history(on: bool):
    def command(config: Config, words: Words, source: Source, text: str) -> None:
        """`[no] xsm history vdm|edm`: keep the statistics history of that adapter."""
        adapter = words.keyword("vdm", "edm")
        words.end()
        setattr(config.xsm, f"history_{adapter}", on)
        config.xsm.set_at(f"history_{adapter}", source)

    return command


def _privilege(on: bool):
    def command(config: Config, words: Words, source: Source, text: str) -> None:
        """`xsm privilege monitor|configuration level N` (1-15); `no ...`: back to 15."""
        kind = words.keyword("monitor", "configuration")
        if on or words:
            words.keyword("level")
        if on:
            level = words.number("privilege level", 1, 15)
        else:
            level = XSM_PRIVILEGE
            words.skip()
        words.end()
        setattr(config.xsm, f"{kind}_level", level)
        config.xsm.set_at(f"{kind}_level", source)

    return command


_SETTINGS = {
    "history": (_history(True), _history(False)),
    "privilege": (_privilege(True), _privilege(False)),
}


def xsm_command(config: Config, words: Words, source: Source, text: str) -> None:
    """`xsm [vdm|edm|dvdm]`, `xsm history ...`, `xsm privilege ...`."""
    setting = words.optional_keyword(*_SETTINGS)
    if setting is None:
        xsm(config, words, source, text)
    else:
        _SETTINGS[setting][0](config, words, source, text)


def no_xsm_command(config: Config, words: Words, source: Source, text: str) -> None:
    """`no xsm [vdm|edm|dvdm]`, `no xsm history ...`, `no xsm privilege ...`."""
    setting = words.optional_keyword(*_SETTINGS)
    if setting is None:
        no_xsm(config, words, source, text)
    else:
        _SETTINGS[setting][1](config, words, source, text)
