"""hostname, interfaces, VRFs, aaa, radius-server, ip local pool, logging."""

from __future__ import annotations

import ipaddress

import pytest
from config_snippets import Snippets

from engine.config.diagnostics import Severity
from engine.config.validate import validate

FILE = "sys.conf"
SNIPPETS = Snippets(FILE)
parse, src, at = SNIPPETS.parse, SNIPPETS.src, SNIPPETS.at


def addr(text: str):
    return ipaddress.ip_address(text)


def test_hostname() -> None:
    config = parse("hostname edge-7\n")
    assert config.hostname == "edge-7"
    assert config.diagnostics == []


def test_hostname_problems() -> None:
    config = parse("hostname\nhostname a b\n")
    assert at(config, 1, Severity.ERROR) == ["missing host name"]
    assert at(config, 2, Severity.ERROR) == ["unexpected 'b'"]


# --- interface and VRFs ---------------------------------------------------------------


def test_interfaces() -> None:
    config = parse("""\
        interface GigabitEthernet0/1
         description WAN uplink to ISP
         vrf forwarding INET
         ip address 192.0.2.1 255.255.255.0
         crypto map VPN
        interface GigabitEthernet 0/2
         ip vrf forwarding CORP
         ip address 10.0.0.1 255.255.255.252 secondary
        """)
    wan = config.interfaces["GigabitEthernet0/1"]
    assert wan.source == src(1)
    assert wan.description == "WAN uplink to ISP"
    assert wan.vrf == "INET"
    assert wan.address == ipaddress.IPv4Interface("192.0.2.1/24")
    assert wan.crypto_map == ("VPN", src(5))
    lan = config.interfaces["GigabitEthernet0/2"]
    assert lan.source == src(6)
    assert lan.vrf == "CORP"
    assert lan.address == ipaddress.IPv4Interface("10.0.0.1/30")
    assert lan.crypto_map is None
    assert config.diagnostics == []


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (" ip address 192.0.2.1 255.255.0.255", "mask '255.255.0.255' is not a contiguous"),
        (" ip address 192.0.2.300 255.255.255.0", "bad interface address '192.0.2.300'"),
        (" ip address 192.0.2.1", "missing mask"),
        (" ip address 2001:db8::1 255.255.255.0", "2001:db8::1"),
        (" description " + "d" * 81, "description is 81 characters; at most 80"),
        (" description", "description is empty"),
        (" vrf forwarding", "missing VRF name"),
        (" crypto map", "missing crypto map name"),
    ],
)
def test_interface_bad_arguments_are_errors_on_their_line(line: str, needle: str) -> None:
    config = parse(f"interface eth0\n{line}\n")
    errors = at(config, 2, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors


def test_interface_without_name() -> None:
    config = parse("interface\n")
    assert at(config, 1, Severity.ERROR) == ["missing interface name"]


def test_vrfs() -> None:
    config = parse("""\
        ip vrf CORP
         rd 65000:1
         route-target export 65000:1
         route-target import 65000:1
        vrf definition INET
         description Internet
         address-family ipv4
         exit-address-family
        """)
    assert config.vrfs == {"CORP": src(1), "INET": src(5)}
    assert config.diagnostics == []


# --- aaa ------------------------------------------------------------------------------


def test_aaa() -> None:
    config = parse("""\
        aaa new-model
        aaa accounting network ACCT start-stop group radius
        aaa accounting network ACCT2 stop-only broadcast group RAD-GRP
        aaa accounting update periodic 15
        aaa session-id common
        aaa group server radius RAD-GRP
         server 192.0.2.20 auth-port 1812 acct-port 1813
         server 192.0.2.21
        """)
    assert config.aaa_new_model
    acct = config.accounting_lists["ACCT"]
    assert (acct.name, acct.mode, acct.broadcast, acct.group) == (
        "ACCT",
        "start-stop",
        False,
        ("radius", src(2)),
    )
    assert acct.source == src(2)
    acct2 = config.accounting_lists["ACCT2"]
    assert (acct2.mode, acct2.broadcast, acct2.group) == ("stop-only", True, ("RAD-GRP", src(3)))
    assert config.accounting_update_minutes == 15
    assert not config.accounting_update_newinfo
    assert config.aaa_session_id_common
    group = config.radius_groups["RAD-GRP"]
    assert group.source == src(6)
    servers = [(s.address, s.auth_port, s.acct_port, s.source.line) for s in group.servers]
    assert servers == [
        (addr("192.0.2.20"), 1812, 1813, 7),
        (addr("192.0.2.21"), 1645, 1646, 8),
    ]
    assert config.diagnostics == []


@pytest.mark.parametrize(
    ("line", "minutes", "newinfo"),
    [
        ("aaa accounting update newinfo", None, True),
        ("aaa accounting update newinfo periodic 5", 5, True),
        ("aaa accounting update periodic 1 jitter maximum 0", 1, False),
        ("aaa accounting update per 30", 30, False),
    ],
)
def test_accounting_update(line: str, minutes: int | None, newinfo: bool) -> None:
    config = parse(line + "\n")
    assert config.diagnostics == []
    assert (config.accounting_update_minutes, config.accounting_update_newinfo) == (
        minutes,
        newinfo,
    )


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("aaa accounting network ACCT start-stop", "missing group"),
        ("aaa accounting network ACCT sometimes group radius", "'sometimes' is not one of"),
        ("aaa accounting update periodic 0", "update interval 0 is outside"),
        ("aaa session-id random", "'random' is not one of"),
        ("aaa new-model now", "unexpected 'now'"),
    ],
)
def test_aaa_bad_arguments(line: str, needle: str) -> None:
    config = parse(line + "\n")
    errors = at(config, 1, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors


def test_named_radius_server_in_group_is_a_warning() -> None:
    config = parse("aaa group server radius G\n server name RAD1\n")
    assert config.errors == []
    assert "server name NAME" in at(config, 2, Severity.WARNING)[0]


# --- radius-server --------------------------------------------------------------------


def test_radius_server() -> None:
    config = parse("""\
        radius-server host 192.0.2.20 auth-port 1812 acct-port 1813 key RadKeyA
        radius-server host 192.0.2.21
        radius-server host 2001:db8::20 acct-port 1813 timeout 3 retransmit 2
        radius-server key RadKeyB
        radius-server retransmit 4
        radius-server timeout 7
        radius-server deadtime 3
        radius-server vsa send accounting
        """)
    first, second, third = config.radius_servers
    assert (first.address, first.auth_port, first.acct_port) == (addr("192.0.2.20"), 1812, 1813)
    assert first.key.reveal() == b"RadKeyA"
    assert first.source == src(1)
    assert (second.auth_port, second.acct_port, second.key) == (1645, 1646, None)
    assert second.source == src(2)
    assert third.address == addr("2001:db8::20") and third.acct_port == 1813
    assert config.radius.key.reveal() == b"RadKeyB"
    assert (config.radius.retransmit, config.radius.timeout, config.radius.deadtime) == (4, 7, 3)
    assert config.radius.vsa_send_accounting
    assert config.diagnostics == []


def test_radius_server_defaults() -> None:
    config = parse("")
    assert (config.radius.retransmit, config.radius.timeout, config.radius.deadtime) == (3, 5, 0)
    assert not config.radius.vsa_send_accounting


def test_radius_vsa_send_authentication_only() -> None:
    config = parse("radius-server vsa send authentication\n")
    assert not config.radius.vsa_send_accounting
    assert config.diagnostics == []


@pytest.mark.parametrize(
    ("line", "severity", "needle"),
    [
        ("radius-server authorization permit missing Service-Type", Severity.WARNING, "ignored"),
        ("radius-server host 192.0.2.300", Severity.ERROR, "bad server address"),
        ("radius-server host 192.0.2.1 auth-port 70000", Severity.ERROR, "auth port 70000"),
        ("radius-server host 192.0.2.1 acct-prot 1", Severity.ERROR, "'acct-prot' is not one of"),
        # where `key K` may stand, a word that is no option may be a key missing `key`
        ("radius-server host 192.0.2.1 colour blue", Severity.ERROR, "'*****' is not one of"),
        ("radius-server retransmit 101", Severity.ERROR, "retransmit count 101 is outside"),
        ("radius-server timeout 0", Severity.ERROR, "timeout seconds 0 is outside"),
        ("radius-server deadtime 1441", Severity.ERROR, "deadtime minutes 1441 is outside"),
        ("radius-server key", Severity.ERROR, "missing key"),
    ],
)
def test_radius_server_problems(line: str, severity: Severity, needle: str) -> None:
    config = parse(line + "\n")
    found = at(config, 1)
    assert len(found) == 1 and needle in found[0], found
    assert at(config, 1, severity) == found


# --- ip local pool, logging -----------------------------------------------------------


def test_local_pool() -> None:
    config = parse("ip local pool POOL-A 10.8.0.10 10.8.0.200\n")
    pool = config.local_pools["POOL-A"]
    assert pool.source == src(1)
    ((first, last, source),) = [(r.first, r.last, r.source) for r in pool.ranges]
    assert (first, last, source) == (addr("10.8.0.10"), addr("10.8.0.200"), src(1))
    assert pool.size == 191


def test_local_pool_lines_of_one_name_add_ranges() -> None:
    """As on IOS: a second line with the same name extends the pool; a single address
    is a range of one."""
    config = parse("""\
        ip local pool RA 10.8.0.10 10.8.0.19
        ip local pool OTHER 10.9.0.1 10.9.0.2
        ip local pool RA 10.8.1.1
        """)
    ranges = [(str(r.first), str(r.last), r.source.line) for r in config.local_pools["RA"].ranges]
    assert ranges == [("10.8.0.10", "10.8.0.19", 1), ("10.8.1.1", "10.8.1.1", 3)]
    assert config.local_pools["RA"].size == 11
    assert config.diagnostics == []


def test_overlapping_pools_are_an_error_naming_both_lines() -> None:
    config = validate(
        parse("""\
            ip local pool A 10.8.0.10 10.8.0.19
            ip local pool B 10.8.1.0 10.8.1.9
            ip local pool C 10.8.0.19 10.8.0.30
            ip local pool B 10.8.1.5
            """)
    )
    assert [(d.source.line, d.message) for d in config.errors] == [
        (3, "ip local pool C 10.8.0.19 10.8.0.30 overlaps pool A 10.8.0.10 10.8.0.19 (line 1)"),
        (4, "ip local pool B 10.8.1.5 10.8.1.5 overlaps pool B 10.8.1.0 10.8.1.9 (line 2)"),
    ]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("ip local pool P 10.8.0.200 10.8.0.10", "the first address 10.8.0.200 is after the last"),
        ("ip local pool P 2001:db8::1 2001:db8::9", "is not an IPv4 range"),
        ("ip local pool P", "missing first address"),
        ("ip local pool P 10.8.0.x 10.8.0.9", "bad first address '10.8.0.x'"),
    ],
)
def test_local_pool_problems(line: str, needle: str) -> None:
    config = parse(line + "\n")
    errors = at(config, 1, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors
    assert config.local_pools == {}


def test_logging() -> None:
    config = parse("""\
        logging host 192.0.2.50 transport udp port 5514
        logging host 192.0.2.51
        logging host ipv6 2001:db8::50
        logging buffered 64000
        logging trap warnings
        """)
    hosts = [(h.address, h.port, h.source.line) for h in config.logging_hosts]
    assert hosts == [
        (addr("192.0.2.50"), 5514, 1),
        (addr("192.0.2.51"), 514, 2),
        (addr("2001:db8::50"), 514, 3),
    ]
    assert config.logging_buffered == 64000
    assert config.logging_trap == 4
    assert config.diagnostics == []


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("logging trap emergencies", 0),
        ("logging trap 3", 3),
        ("logging trap info", 6),
        ("logging trap DEBUGGING", 7),
        ("logging trap notifications", 5),
    ],
)
def test_logging_trap_levels(line: str, level: int) -> None:
    config = parse(line + "\n")
    assert config.logging_trap == level
    assert config.diagnostics == []


def test_logging_buffered_with_level() -> None:
    config = parse("logging buffered 51200 informational\nlogging buffered debugging\n")
    assert config.logging_buffered == 51200
    assert config.diagnostics == []


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("logging trap 8", "unknown logging level '8'"),
        ("logging trap loud", "unknown logging level 'loud'"),
        ("logging buffered 100", "buffer size 100 is outside"),
        ("logging host 192.0.2.50 transport tcp", "'tcp' is not one of: udp"),
        ("logging host 192.0.2.50 transport udp port 0", "port 0 is outside 1-65535"),
        ("logging host nowhere", "bad logging host 'nowhere'"),
    ],
)
def test_logging_problems(line: str, needle: str) -> None:
    config = parse(line + "\n")
    errors = at(config, 1, Severity.ERROR)
    assert len(errors) == 1 and needle in errors[0], errors
