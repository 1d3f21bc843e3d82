"""The XSM service's listening sockets: which the settings ask for, and how they bind."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any, Literal

from engine.xsm.settings import TlsFiles, XsmSettings


@dataclass(frozen=True, slots=True)
class ListenerSpec:
    kind: Literal["http", "https"]
    port: int
    tls: TlsFiles | None = None


def wanted_listeners(settings: XsmSettings) -> tuple[ListenerSpec, ...]:
    if not settings.serving:
        return ()
    specs = []
    if settings.http_server:
        specs.append(ListenerSpec("http", settings.http_port))
    if settings.secure_server:
        specs.append(ListenerSpec("https", settings.secure_port, settings.tls))
    return tuple(specs)


def bind_listener(host: str | None, port: int) -> socket.socket:
    """A listening socket: `host`, or every address (IPv6 and IPv4 where possible)."""
    if host is None:
        try:
            sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            address: tuple[Any, ...] = ("::", port)
        except OSError:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            address = ("0.0.0.0", port)
    else:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
