"""`ip http ...` and `xsm ...`: parsed with their lines, checked as IOS checks them,
written back by `show running-config`, compiled into what the XSM service runs."""

from __future__ import annotations

import ipaddress
import textwrap

import pytest
from config_snippets import normalize

from engine.config.compile import compile_config
from engine.config.compile_xsm import access_class, xsm_settings
from engine.config.diagnostics import Severity, Source
from engine.config.diff import diff
from engine.config.parser import parse_text
from engine.config.render import render
from engine.config.validate import validate
from engine.xsm.settings import ClientRule, XsmSettings

FILE = "x.conf"


def load(text: str):
    return validate(parse_text(textwrap.dedent(text), FILE))


def src(line: int) -> Source:
    return Source(FILE, line)


def messages(config, severity: Severity | None = None) -> list[tuple[int, str]]:
    return [
        (d.source.line, d.message)
        for d in config.diagnostics
        if severity is None or d.severity is severity
    ]


# --- ip http: each command, with its line ----------------------------------------------


@pytest.mark.parametrize(
    ("line", "attribute", "value"),
    [
        ("ip http server", "server", True),
        ("ip http port 8080", "port", 8080),
        ("ip http secure-server", "secure_server", True),
        ("ip http secure-port 8443", "secure_port", 8443),
        ("ip http access-class 10", "access_class", "10"),
        ("ip http access-class ipv4 10", "access_class", "10"),
        ("ip http authentication local", "authentication_local", True),
        ("ip http max-connections 12", "max_connections", 12),
        (
            "ip http timeout-policy idle 60 life 86400 requests 10000",
            "timeout_policy",
            (60, 86400, 10000),
        ),
        ("ip ht secure-p 8443", "secure_port", 8443),  # IOS abbreviations
    ],
)
def test_each_ip_http_command_is_read_with_its_line(
    line: str, attribute: str, value: object
) -> None:
    config = load(f"hostname gw\naccess-list 10 permit any\n{line}\n")
    assert [m for m in messages(config) if m[0] == 3] == []
    assert getattr(config.ip_http, attribute) == value
    assert config.ip_http.source_of(attribute) == src(3)


@pytest.mark.parametrize(
    ("line", "no_line", "attribute", "default"),
    [
        ("ip http server", "no ip http server", "server", False),
        ("ip http port 8080", "no ip http port", "port", 80),
        ("ip http secure-server", "no ip http secure-server", "secure_server", False),
        ("ip http secure-port 8443", "no ip http secure-port 8443", "secure_port", 443),
        ("ip http access-class 10", "no ip http access-class", "access_class", None),
        ("ip http max-connections 12", "no ip http max-connections", "max_connections", 5),
        (
            "ip http timeout-policy idle 60 life 60 requests 60",
            "no ip http timeout-policy",
            "timeout_policy",
            (180, 180, 1),
        ),
    ],
)
def test_no_puts_the_ios_default_back(
    line: str, no_line: str, attribute: str, default: object
) -> None:
    config = load(f"access-list 10 permit any\n{line}\n{no_line}\n")
    assert config.diagnostics == []
    assert getattr(config.ip_http, attribute) == default
    assert config.ip_http.source_of(attribute) == src(3)


def test_secure_trustpoint_name_is_kept_and_no_removes_it(tmp_path) -> None:
    config = parse_text("ip http secure-trustpoint TP1\n", FILE)
    assert config.ip_http.trustpoint == "TP1" and config.diagnostics == []
    config = parse_text("ip http secure-trustpoint TP1\nno ip http secure-trustpoint\n", FILE)
    assert config.ip_http.trustpoint is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("ip http port 0", "port 0 is outside 1-65535"),
        ("ip http port 65536", "port 65536 is outside 1-65535"),
        ("ip http secure-port 0", "port 0 is outside 1-65535"),
        ("ip http port web", "port must be a number, not 'web'"),
        ("ip http max-connections 0", "max-connections 0 is outside 1-16"),
        ("ip http timeout-policy idle 0 life 1 requests 1", "idle seconds 0 is outside 1-600"),
        ("ip http timeout-policy idle 60 requests 1", "'requests' is not one of: life"),
        ("ip http server now", "unexpected 'now'"),
    ],
)
def test_bad_values_are_errors_naming_the_line(line: str, reason: str) -> None:
    config = load(f"hostname gw\n{line}\n")
    assert messages(config, Severity.ERROR) == [(2, reason)]


def test_the_same_port_for_both_servers_is_an_error_on_the_later_port_line() -> None:
    config = load("""\
        ip http server
        ip http secure-server
        ip http port 8443
        ip http secure-port 8443
        """)
    assert messages(config, Severity.ERROR) == [
        (
            4,
            "ip http port and ip http secure-port are both 8443: "
            "the HTTP and HTTPS servers need a port each",
        )
    ]


def test_the_same_port_is_no_conflict_while_one_server_is_off() -> None:
    config = load("ip http server\nip http port 443\n")
    assert config.errors == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("ip http secure-ciphersuite aes-128-cbc-sha", "TLS 1.2 and 1.3"),
        ("ip http client source-interface GigabitEthernet1", "no HTTP client"),
        ("ip http path flash:", "not files"),
        ("ip http access-class ipv6 V6-ACL", "IPv4 only"),
        ("xsm dvdm", "no switch ports on this gateway"),
    ],
)
def test_unsupported_lines_are_warnings_with_their_reason(line: str, reason: str) -> None:
    config = load(f"hostname gw\n{line}\n")
    ((number, message),) = messages(config)
    assert number == 2 and config.errors == []
    assert message.startswith(f"ignored: not supported: {line} (") and reason in message


@pytest.mark.parametrize(
    "line",
    [
        "ip http authentication aaa",
        "ip http authentication aaa login-authentication VTY",
        "ip http authentication enable",
    ],
)
def test_other_authentication_methods_warn_that_only_local_users_are_checked(line: str) -> None:
    config = load(f"hostname gw\n{line}\n")
    ((number, message),) = messages(config, Severity.WARNING)
    assert number == 2 and "only the local users" in message
    assert config.ip_http.authentication_local is False


# --- xsm ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "enabled", "vdm", "edm"),
    [
        ("xsm", True, True, True),
        ("xsm vdm", True, True, False),
        ("xsm edm", True, False, True),
        ("xsm vdm\nxsm edm", True, True, True),
        ("xsm\nxsm vdm", True, True, True),
        ("xsm\nno xsm edm", True, True, False),
        ("xsm\nno xsm", False, False, False),
        ("xsm vdm\nno xsm\nxsm edm", True, False, True),
        ("", False, False, False),
    ],
)
def test_xsm_and_its_adapters(lines: str, enabled: bool, vdm: bool, edm: bool) -> None:
    config = parse_text(lines + "\n", FILE)
    assert config.diagnostics == []
    xsm = config.xsm
    assert (xsm.enabled, xsm.vdm, xsm.edm) == (enabled, vdm, edm)


def test_xsm_history_and_privileges_with_their_lines() -> None:
    config = load("""\
        ip http server
        xsm
        xsm history vdm
        xsm history edm
        xsm privilege monitor level 5
        xsm privilege configuration level 10
        """)
    assert config.diagnostics == []
    xsm = config.xsm
    assert xsm.history_vdm and xsm.history_edm
    assert (xsm.monitor_level, xsm.configuration_level) == (5, 10)
    assert xsm.source_of("enabled") == src(2)
    assert xsm.source_of("monitor_level") == src(5)
    assert xsm.source_of("configuration_level") == src(6)
    config = load("""\
        xsm history vdm
        no xsm history vdm
        xsm privilege monitor level 5
        no xsm privilege monitor level
        """)
    assert not config.xsm.history_vdm and config.xsm.monitor_level == 15


@pytest.mark.parametrize("level", ["0", "16", "high"])
def test_privilege_levels_are_1_to_15(level: str) -> None:
    config = load(f"hostname gw\nxsm privilege monitor level {level}\n")
    ((number, message),) = messages(config, Severity.ERROR)
    assert number == 2 and "privilege level" in message


def test_configuration_below_monitor_level_is_an_error_naming_the_line() -> None:
    config = load("""\
        xsm privilege configuration level 5
        hostname gw
        xsm privilege monitor level 10
        """)
    assert messages(config, Severity.ERROR) == [
        (
            3,
            "xsm privilege configuration level 5 is below the monitor level 10: "
            "it must be at least as high",
        )
    ]
    assert load("xsm privilege monitor level 7\nxsm privilege configuration level 7\n").errors == []


def test_xsm_without_a_listener_or_adapter_is_said() -> None:
    config = load("xsm\n")
    assert messages(config) == [
        (
            1,
            "xsm is on, but neither ip http server nor ip http secure-server: "
            "nothing listens for its clients",
        )
    ]
    config = load("ip http server\nxsm\nno xsm vdm\nno xsm edm\n")
    assert messages(config) == [(4, "xsm is on with neither vdm nor edm: it serves no data sets")]


# --- ip http access-class --------------------------------------------------------------


def test_access_class_needs_its_acl() -> None:
    config = load("hostname gw\nip http access-class MGMT\n")
    assert messages(config, Severity.ERROR) == [
        (2, "ip http access-class: access list MGMT does not exist")
    ]


def test_access_class_from_a_standard_list_in_order_with_the_implicit_deny() -> None:
    config = load("""\
        ip access-list standard MGMT
         deny host 192.0.2.66
         permit 192.0.2.0 0.0.0.255
         permit host 198.51.100.9
        ip http server
        ip http access-class MGMT
        """)
    assert config.diagnostics == []
    rules = xsm_settings(config, None).access_class
    assert rules is not None and rules.name == "MGMT"
    net = ipaddress.ip_network
    assert rules.rules == (
        ClientRule(False, net("192.0.2.66/32")),
        ClientRule(True, net("192.0.2.0/24")),
        ClientRule(True, net("198.51.100.9/32")),
    )
    address = ipaddress.ip_address
    assert not rules.permits(address("192.0.2.66"))  # the deny comes first
    assert rules.permits(address("192.0.2.67"))
    assert rules.permits(address("198.51.100.9"))
    assert not rules.permits(address("203.0.113.1"))  # no match: denied


def test_access_class_from_a_numbered_extended_list_takes_the_sources() -> None:
    config = load("""\
        access-list 110 permit ip 10.1.0.0 0.0.255.255 any
        access-list 110 deny ip any any
        access-list 110 permit tcp host 10.9.9.9 host 192.0.2.1
        ip http access-class 110
        """)
    assert messages(config) == [
        (
            3,
            "access list 110 (ip http access-class): protocol tcp and destination "
            "192.0.2.1/32 ignored for HTTP clients: only the source is matched",
        )
    ]
    rules = access_class(config.access_lists["110"])
    assert [r.permit for r in rules.rules] == [True, False, True]
    assert rules.permits(ipaddress.ip_address("10.1.2.3"))
    assert not rules.permits(ipaddress.ip_address("10.9.9.9"))  # `deny any` first


# --- compile -----------------------------------------------------------------------------

FULL = """\
hostname gw
username admin privilege 15 secret 0 Adm1n-Passw0rd
username viewer privilege 5 secret 0 V1ewer-Passw0rd
access-list 10 permit 192.0.2.0 0.0.0.255
ip http server
ip http port 8080
ip http access-class 10
ip http authentication local
ip http secure-server
ip http secure-port 8443
ip http max-connections 10
ip http timeout-policy idle 60 life 86400 requests 10000
xsm
xsm privilege monitor level 5
xsm privilege configuration level 15
xsm history vdm
"""


def test_compile_fills_every_setting() -> None:
    config = load(FULL)
    assert config.diagnostics == []
    settings = compile_config(config).xsm
    assert settings == XsmSettings(
        http_server=True,
        http_port=8080,
        secure_server=True,
        secure_port=8443,
        tls=None,
        access_class=access_class(config.access_lists["10"]),
        enabled=True,
        vdm=True,
        edm=True,
        history_vdm=True,
        history_edm=False,
        monitor_level=5,
        configuration_level=15,
        max_connections=10,
        idle_timeout=60,
        life_timeout=86400,
        max_requests=10000,
        users=settings.users,
    )
    assert settings.serving
    assert [(u.name, u.privilege) for u in settings.users] == [("admin", 15), ("viewer", 5)]
    assert settings.user("viewer") is config.local_users["viewer"]


def test_defaults_compile_to_a_service_that_does_not_serve() -> None:
    settings = compile_config(load("hostname gw\n")).xsm
    assert settings == XsmSettings()
    assert not settings.serving


def test_an_adapter_alone_compiles_alone() -> None:
    settings = compile_config(load("ip http server\nxsm edm\n")).xsm
    assert (settings.enabled, settings.vdm, settings.edm) == (True, False, True)


def test_no_secret_in_settings_repr_or_render() -> None:
    config = load(FULL)
    shown = repr(compile_config(config).xsm) + render(config)
    assert "Adm1n-Passw0rd" not in shown and "V1ewer-Passw0rd" not in shown


# --- show running-config ------------------------------------------------------------


def test_render_writes_the_lines_in_ios_order() -> None:
    text = render(load(FULL))
    lines = [line for line in text.splitlines() if line.startswith(("ip http", "xsm"))]
    assert lines == [
        "ip http server",
        "ip http port 8080",
        "ip http access-class 10",
        "ip http authentication local",
        "ip http secure-server",
        "ip http secure-port 8443",
        "ip http max-connections 10",
        "ip http timeout-policy idle 60 life 86400 requests 10000",
        "xsm",
        "xsm privilege monitor level 5",
        "xsm history vdm",
    ]
    assert "username viewer privilege 5 secret 0 *****" in text


@pytest.mark.parametrize(
    "snippet",
    [
        FULL,
        "no ip http server\nno ip http secure-server\n",
        "ip http secure-server\nip http secure-trustpoint TP\n",
        "ip http server\nxsm vdm\nxsm history edm\n",
        "ip http server\nxsm edm\n",
        "ip http server\nxsm\nno xsm vdm\nno xsm edm\n",
        "xsm privilege monitor level 3\nxsm privilege configuration level 9\n",
    ],
)
def test_render_round_trips(snippet: str) -> None:
    original = parse_text(snippet, FILE)
    rendered = render(original)
    again = parse_text(rendered, FILE)
    assert [d for d in again.diagnostics if "ip http" in d.message or "xsm" in d.message] == []
    assert normalize(again.ip_http) == normalize(original.ip_http)
    assert normalize(again.xsm) == normalize(original.xsm)
    assert render(again) == rendered


def test_render_keeps_no_ip_http_server_as_written_and_nothing_by_default() -> None:
    text = render(parse_text("no ip http server\nno ip http secure-server\n", FILE))
    assert "no ip http server\n" in text and "no ip http secure-server\n" in text
    assert "ip http" not in render(parse_text("hostname gw\n", FILE))
    assert "xsm" not in render(parse_text("hostname gw\n", FILE))


# --- diff -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        (("ip http port 8080", "ip http port 8081"), "http_port"),
        (("ip http secure-server\n", ""), "secure_server"),
        (("xsm privilege monitor level 5", "xsm privilege monitor level 6"), "monitor_level"),
        (("xsm history vdm\n", ""), "history_vdm"),
        (("ip http max-connections 10", "ip http max-connections 11"), "max_connections"),
        (("idle 60", "idle 61"), "idle_timeout"),
        (("access-list 10 permit 192.0.2.0", "access-list 10 permit 192.0.3.0"), "access_class"),
        (("privilege 5 secret 0 V1ewer", "privilege 6 secret 0 V1ewer"), "users"),
        (("V1ewer-Passw0rd", "V1ewer-Passw0rd2"), "users"),
        (("xsm\n", "xsm vdm\n"), "edm"),
    ],
)
def test_a_change_of_any_line_is_a_change(edit: tuple[str, str], changed: str) -> None:
    old = compile_config(load(FULL))
    assert FULL.count(edit[0]) == 1
    new = compile_config(load(FULL.replace(*edit)))
    summary = diff(old, new).summary()
    (line,) = [s for s in summary if s.startswith("xsm settings changed: ")]
    assert changed in line.removeprefix("xsm settings changed: ").split(", ")
    assert "V1ewer" not in line


def test_the_same_file_again_is_no_change() -> None:
    assert diff(compile_config(load(FULL)), compile_config(load(FULL))).empty
