"""The checks of `ip http ...` and `xsm ...` that IOS refuses a configuration for, and
the trustpoint's files (engine/config/trustpoint.py)."""

from __future__ import annotations

from pathlib import Path

from engine.config.diagnostics import Severity
from engine.config.model import Config
from engine.config.trustpoint import TrustpointError, trustpoint_files

ANY_V4_PREFIX = 0


def config_dir(config: Config) -> Path:
    """The directory trustpoint names are relative to: the configuration file's."""
    return Path(config.file).parent if config.file else Path()


def validate_xsm(config: Config, base_dir: Path | None = None) -> None:
    http, xsm = config.ip_http, config.xsm
    if http.server and http.secure_server and http.port == http.secure_port:
        source = max(http.source_of("port"), http.source_of("secure_port"), key=lambda s: s.line)
        config.report(
            source,
            f"ip http port and ip http secure-port are both {http.port}: "
            "the HTTP and HTTPS servers need a port each",
        )
    if http.trustpoint is not None:
        try:
            trustpoint_files(http.trustpoint, base_dir or config_dir(config))
        except TrustpointError as err:
            config.report(http.source_of("trustpoint"), f"ip http secure-trustpoint: {err}")
    if http.access_class is not None:
        _check_access_class(config, http.access_class)
    if xsm.configuration_level < xsm.monitor_level:
        sources = [xsm.source_of(n) for n in ("monitor_level", "configuration_level")]
        config.report(
            max(sources, key=lambda s: s.line),
            f"xsm privilege configuration level {xsm.configuration_level} is below the "
            f"monitor level {xsm.monitor_level}: it must be at least as high",
        )
    if xsm.enabled and not (http.server or http.secure_server):
        config.report(
            xsm.source_of("enabled"),
            "xsm is on, but neither ip http server nor ip http secure-server: "
            "nothing listens for its clients",
            Severity.WARNING,
        )
    if xsm.enabled and not (xsm.vdm or xsm.edm):
        config.report(
            max((xsm.source_of(n) for n in ("vdm", "edm")), key=lambda s: s.line),
            "xsm is on with neither vdm nor edm: it serves no data sets",
            Severity.WARNING,
        )


def _check_access_class(config: Config, name: str) -> None:
    source = config.ip_http.source_of("access_class")
    acl = config.access_lists.get(name)
    if acl is None:
        config.report(source, f"ip http access-class: access list {name} does not exist")
        return
    if acl.standard:
        return
    for entry in acl.entries:
        ignored = []
        if entry.protocol != "ip":
            ignored.append(f"protocol {entry.protocol}")
        if entry.destination_net.prefixlen != ANY_V4_PREFIX:
            ignored.append(f"destination {entry.destination_net}")
        if ignored:
            config.report(
                entry.source,
                f"access list {name} (ip http access-class): {' and '.join(ignored)} "
                "ignored for HTTP clients: only the source is matched",
                Severity.WARNING,
            )
