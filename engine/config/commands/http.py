"""`ip http ...`: the HTTP and HTTPS listeners the XSM service answers on.

What the service does is read into `Config.ip_http`, each setting with the line that
set it; what it cannot do is a warning on the line with the reason, never silence.
`no ip http X` puts X back to IOS's default, as on a router.
"""

from __future__ import annotations

from engine.config.commands.base import CommandTree
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import (
    HTTP_MAX_CONNECTIONS,
    HTTP_PORT,
    HTTP_TIMEOUT_POLICY,
    HTTPS_PORT,
    Config,
)
from engine.config.words import Words
from engine.redaction import redact

#: IOS's ranges
MAX_CONNECTIONS = (1, 16)
IDLE_SECONDS = (1, 600)
LIFE_SECONDS = (1, 86400)
REQUESTS = (1, 86400)


def _port(words: Words) -> int:
    value = words.number("port", 1, 65535)
    words.end()
    return value


def server(config: Config, words: Words, source: Source, text: str) -> None:
    words.end()
    config.ip_http.server = True
    config.ip_http.set_at("server", source)


def port(config: Config, words: Words, source: Source, text: str) -> None:
    config.ip_http.port = _port(words)
    config.ip_http.set_at("port", source)


def secure_server(config: Config, words: Words, source: Source, text: str) -> None:
    words.end()
    config.ip_http.secure_server = True
    config.ip_http.set_at("secure_server", source)


def secure_port(config: Config, words: Words, source: Source, text: str) -> None:
    config.ip_http.secure_port = _port(words)
    config.ip_http.set_at("secure_port", source)


def secure_trustpoint(config: Config, words: Words, source: Source, text: str) -> None:
    name = words.word("trustpoint name")
    words.end()
    config.ip_http.trustpoint = name
    config.ip_http.set_at("trustpoint", source)


def access_class(config: Config, words: Words, source: Source, text: str) -> None:
    """`ip http access-class ACL`, or `ip http access-class ipv4 ACL` as IOS XE writes it."""
    family = words.optional_keyword("ipv4", "ipv6")
    if family == "ipv6":
        words.skip()
        raise LineError(
            f"ignored: not supported: {redact(text)} (the service listens on IPv4 only)",
            Severity.WARNING,
        )
    name = words.word("access list name")
    words.end()
    config.ip_http.access_class = name
    config.ip_http.set_at("access_class", source)


def authentication(config: Config, words: Words, source: Source, text: str) -> None:
    method = words.keyword("local", "aaa", "enable")
    if method != "local":
        words.skip()
        raise LineError(
            f"ip http authentication {method}: only the local users (`username`) are checked",
            Severity.WARNING,
        )
    words.end()
    config.ip_http.authentication_local = True
    config.ip_http.set_at("authentication_local", source)


def max_connections(config: Config, words: Words, source: Source, text: str) -> None:
    config.ip_http.max_connections = words.number("max-connections", *MAX_CONNECTIONS)
    words.end()
    config.ip_http.set_at("max_connections", source)


def timeout_policy(config: Config, words: Words, source: Source, text: str) -> None:
    """`ip http timeout-policy idle S life S requests N`: all three, in IOS's order."""
    words.keyword("idle")
    idle = words.number("idle seconds", *IDLE_SECONDS)
    words.keyword("life")
    life = words.number("life seconds", *LIFE_SECONDS)
    words.keyword("requests")
    requests = words.number("requests", *REQUESTS)
    words.end()
    config.ip_http.timeout_policy = (idle, life, requests)
    config.ip_http.set_at("timeout_policy", source)


def _unsupported(reason: str):
    def command(config: Config, words: Words, source: Source, text: str) -> None:
        words.skip()
        raise LineError(f"ignored: not supported: {redact(text)} ({reason})", Severity.WARNING)

    return command


CIPHERSUITE = _unsupported("TLS 1.2 and 1.3 with the library's default cipher suites are used")
CLIENT = _unsupported("the gateway has no HTTP client")
PATH = _unsupported("the service serves its own data sets, not files")
CLIENT_AUTH = _unsupported("clients authenticate with a user name and password")

HTTP_COMMANDS: CommandTree = {
    "server": server,
    "port": port,
    "secure-server": secure_server,
    "secure-port": secure_port,
    "secure-trustpoint": secure_trustpoint,
    "access-class": access_class,
    "authentication": authentication,
    "max-connections": max_connections,
    "timeout-policy": timeout_policy,
    "secure-ciphersuite": CIPHERSUITE,
    "secure-client-auth": CLIENT_AUTH,
    "client": CLIENT,
    "path": PATH,
}


# --- `no ip http ...`: back to IOS's default ----------------------------------------


def _reset(attribute: str, default: object):
    def command(config: Config, words: Words, source: Source, text: str) -> None:
        words.skip()  # `no ip http port 8080`: IOS ignores the value
        setattr(config.ip_http, attribute, default)
        config.ip_http.set_at(attribute, source)

    return command


NO_HTTP_COMMANDS: CommandTree = {
    "server": _reset("server", False),
    "port": _reset("port", HTTP_PORT),
    "secure-server": _reset("secure_server", False),
    "secure-port": _reset("secure_port", HTTPS_PORT),
    "secure-trustpoint": _reset("trustpoint", None),
    "access-class": _reset("access_class", None),
    "authentication": _reset("authentication_local", False),
    "max-connections": _reset("max_connections", HTTP_MAX_CONNECTIONS),
    "timeout-policy": _reset("timeout_policy", HTTP_TIMEOUT_POLICY),
}
