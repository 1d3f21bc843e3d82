"""`show running-config` for `ip http ...` and `xsm ...`, in IOS's order. Like IOS,
settings at their default are not shown, except a server turned off by the file
(`no ip http server`), which is written back as such."""

from __future__ import annotations

from engine.config.model import (
    HTTP_MAX_CONNECTIONS,
    HTTP_PORT,
    HTTP_TIMEOUT_POLICY,
    HTTPS_PORT,
    XSM_PRIVILEGE,
    Config,
)


def http_lines(config: Config) -> list[str]:
    http = config.ip_http
    lines = []
    if http.server:
        lines.append("ip http server")
    elif http.was_set("server"):
        lines.append("no ip http server")
    if http.port != HTTP_PORT:
        lines.append(f"ip http port {http.port}")
    if http.access_class is not None:
        lines.append(f"ip http access-class {http.access_class}")
    if http.authentication_local:
        lines.append("ip http authentication local")
    if http.secure_server:
        lines.append("ip http secure-server")
    elif http.was_set("secure_server"):
        lines.append("no ip http secure-server")
    if http.secure_port != HTTPS_PORT:
        lines.append(f"ip http secure-port {http.secure_port}")
    if http.trustpoint is not None:
        lines.append(f"ip http secure-trustpoint {http.trustpoint}")
    if http.max_connections != HTTP_MAX_CONNECTIONS:
        lines.append(f"ip http max-connections {http.max_connections}")
    if http.timeout_policy != HTTP_TIMEOUT_POLICY:
        idle, life, requests = http.timeout_policy
        lines.append(f"ip http timeout-policy idle {idle} life {life} requests {requests}")
    return lines


def xsm_lines(config: Config) -> list[str]:
    xsm = config.xsm
    lines = []
    if xsm.enabled and xsm.vdm != xsm.edm:
        lines.append("xsm vdm" if xsm.vdm else "xsm edm")
    elif xsm.enabled:
        lines.append("xsm")
        if not xsm.vdm:
            lines += ["no xsm vdm", "no xsm edm"]
    if xsm.monitor_level != XSM_PRIVILEGE:
        lines.append(f"xsm privilege monitor level {xsm.monitor_level}")
    if xsm.configuration_level != XSM_PRIVILEGE:
        lines.append(f"xsm privilege configuration level {xsm.configuration_level}")
    if xsm.history_vdm:
        lines.append("xsm history vdm")
    if xsm.history_edm:
        lines.append("xsm history edm")
    return lines
