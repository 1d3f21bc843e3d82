"""Model -> XsmSettings: what `ip http ...`, `xsm ...` and `username ...` ask of the XSM
service. The trustpoint is resolved as engine/config/trustpoint.py says; the access
class becomes its permit/deny rules by source network, in order."""

from __future__ import annotations

from pathlib import Path

from engine.config.diagnostics import ConfigError, Diagnostic, Severity
from engine.config.model import AccessList, Config
from engine.config.trustpoint import TrustpointError, trustpoint_files
from engine.config.validate_xsm import config_dir
from engine.xsm.settings import AccessClass, ClientRule, TlsFiles, XsmSettings


def xsm_settings(config: Config, base_dir: Path | None) -> XsmSettings:
    """The settings of a validated configuration; `base_dir` is where trustpoint files
    are looked up (None: the configuration file's directory). Raises ConfigError if
    the trustpoint's files went bad since validation."""
    http, xsm = config.ip_http, config.xsm
    idle, life, requests = http.timeout_policy
    return XsmSettings(
        http_server=http.server,
        http_port=http.port,
        secure_server=http.secure_server,
        secure_port=http.secure_port,
        tls=_tls(config, base_dir),
        access_class=(
            access_class(config.access_lists[http.access_class])
            if http.access_class is not None
            else None
        ),
        enabled=xsm.enabled,
        vdm=xsm.enabled and xsm.vdm,
        edm=xsm.enabled and xsm.edm,
        history_vdm=xsm.history_vdm,
        history_edm=xsm.history_edm,
        monitor_level=xsm.monitor_level,
        configuration_level=xsm.configuration_level,
        max_connections=http.max_connections,
        idle_timeout=idle,
        life_timeout=life,
        max_requests=requests,
        users=tuple(config.local_users.values()),
    )


def access_class(acl: AccessList) -> AccessClass:
    """An ACL as HTTP client rules: each entry's source, first match wins (the
    implicit deny is AccessClass's); an extended entry's destination and protocol are
    not matched (validation warns)."""
    return AccessClass(
        acl.name, tuple(ClientRule(e.action == "permit", e.source_net) for e in acl.entries)
    )


def _tls(config: Config, base_dir: Path | None) -> TlsFiles | None:
    name = config.ip_http.trustpoint
    if name is None:
        return None
    try:
        return trustpoint_files(name, base_dir or config_dir(config))
    except TrustpointError as err:
        source = config.ip_http.source_of("trustpoint")
        message = f"ip http secure-trustpoint: {err}"
        raise ConfigError([Diagnostic(source, Severity.ERROR, message)]) from None
