"""IOS log lines, syslog framing and UDP forwarding against a listener on loopback."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine import syslog
from engine.syslog import (
    LogEntry,
    Severity,
    SyslogForwarder,
    format_rfc3164,
    format_rfc5424,
    parse_trap_level,
    session_down,
    session_up,
)

AT = datetime(2024, 11, 27, 3, 41, 12, 345000, tzinfo=UTC).timestamp()
SPEC_TAIL = (
    "Peer 10.6.6.1:500 fvrf=name10 ivrf=name20 Description: SJC24-2-VPN-Gateway Id: 10.5.5.2"
)


def spec_session(up: bool = True) -> LogEntry:
    build = session_up if up else session_down
    return build(
        "10.6.6.1",
        500,
        fvrf="name10",
        ivrf="name20",
        description="SJC24-2-VPN-Gateway",
        phase1_id="10.5.5.2",
        at=AT,
    )


# --- IOS lines --------------------------------------------------------------------------


def test_session_up_and_down_match_the_spec_exactly() -> None:
    up, down = spec_session(True), spec_session(False)
    assert up.ios_line() == f"%CRYPTO-5-SESSION_STATUS: Crypto session is UP. {SPEC_TAIL}"
    assert down.ios_line() == f"%CRYPTO-5-SESSION_STATUS: Crypto session is DOWN. {SPEC_TAIL}"
    assert (up.facility, up.severity, up.mnemonic, up.peer) == (
        "CRYPTO",
        5,
        "SESSION_STATUS",
        "10.6.6.1",
    )
    assert up.timestamp == AT


def test_session_fields_appear_only_when_set() -> None:
    bare = session_up("10.2.2.9", 500, phase1_id="ezvpn", at=AT)
    assert bare.text == "Crypto session is UP. Peer 10.2.2.9:500 Id: ezvpn"
    described = session_up(
        "10.2.2.9", 500, description="connection from site A", phase1_id="ezvpn", at=AT
    )
    assert described.text == (
        "Crypto session is UP. Peer 10.2.2.9:500 Description: connection from site A Id: ezvpn"
    )
    fvrf_only = session_down("10.2.2.9", 4500, fvrf="inet", phase1_id="gw.example", at=AT)
    assert fvrf_only.text == "Crypto session is DOWN. Peer 10.2.2.9:4500 fvrf=inet Id: gw.example"
    ivrf_only = session_down("10.2.2.9", 500, ivrf="corp", at=AT)
    assert ivrf_only.text == "Crypto session is DOWN. Peer 10.2.2.9:500 ivrf=corp"


def test_display_uses_ios_datetime_msec_timestamps() -> None:
    assert spec_session().display() == (
        f"Nov 27 03:41:12.345: %CRYPTO-5-SESSION_STATUS: Crypto session is UP. {SPEC_TAIL}"
    )
    early = datetime(2024, 3, 1, 0, 0, 9, 7000, tzinfo=UTC).timestamp()
    line = syslog.entry("SYS", 5, "CONFIG_I", "Configured from a.cfg by console", at=early)
    assert (
        line.display() == "Mar  1 00:00:09.007: %SYS-5-CONFIG_I: Configured from a.cfg by console"
    )
    cet = timezone(timedelta(hours=1))
    assert line.display(cet).startswith("Mar  1 01:00:09.007: ")


def test_other_builders() -> None:
    cases = [
        (
            syslog.auth_failed("192.0.2.7", 4500, "branch7", "PSK mismatch", at=AT),
            "%CRYPTO-4-IKEV2_AUTH_FAILED: IKEv2 authentication failed. Peer 192.0.2.7:4500 "
            "Id: branch7 Reason: PSK mismatch",
            "192.0.2.7",
        ),
        (
            syslog.negotiation_failed("192.0.2.8", 500, "no proposal", "NO_PROPOSAL_CHOSEN", at=AT),
            "%CRYPTO-4-IKEV2_NEG_FAILED: IKEv2 negotiation failed. Peer 192.0.2.8:500 "
            "Reason: no proposal Notify: NO_PROPOSAL_CHOSEN",
            "192.0.2.8",
        ),
        (
            syslog.negotiation_failed("192.0.2.8", 500, "retransmissions exhausted", at=AT),
            "%CRYPTO-4-IKEV2_NEG_FAILED: IKEv2 negotiation failed. Peer 192.0.2.8:500 "
            "Reason: retransmissions exhausted",
            "192.0.2.8",
        ),
        (
            syslog.session_cleared("10.6.6.1", 500, at=AT),
            "%CRYPTO-5-SESSION_CLEARED: Crypto session cleared by console. Peer 10.6.6.1:500",
            "10.6.6.1",
        ),
        (
            syslog.session_cleared(at=AT),
            "%CRYPTO-5-SESSION_CLEARED: All crypto sessions cleared by console",
            None,
        ),
        (
            syslog.config_loaded("/etc/ipsec-console/gw.cfg", at=AT),
            "%SYS-5-CONFIG_I: Configured from /etc/ipsec-console/gw.cfg by console",
            None,
        ),
        (
            syslog.config_rejected("gw.cfg", "line 12: unknown transform set", at=AT),
            "%PARSER-4-BADCFG: Configuration from gw.cfg rejected, running configuration kept: "
            "line 12: unknown transform set",
            None,
        ),
        (
            syslog.entry("CRYPTO", Severity.DEBUGGING, "TRACE", "x", "10.0.0.2", at=AT),
            "%CRYPTO-7-TRACE: x",
            "10.0.0.2",
        ),
    ]
    for log, line, peer in cases:
        assert log.ios_line() == line
        assert log.peer == peer
        assert log.timestamp == AT


def test_entry_defaults_to_now_and_checks_severity() -> None:
    assert abs(syslog.entry("SYS", 5, "X", "y").timestamp - datetime.now(UTC).timestamp()) < 5
    with pytest.raises(ValueError, match="severity must be 0-7"):
        LogEntry(AT, "SYS", 8, "X", "y")


# --- logging trap levels ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("emergencies", 0),
        ("alerts", 1),
        ("critical", 2),
        ("errors", 3),
        ("warnings", 4),
        ("notifications", 5),
        ("informational", 6),
        ("debugging", 7),
        ("0", 0),
        ("7", 7),
        (" Informational ", 6),
        ("inf", 6),
        ("debug", 7),
        ("em", 0),
        ("er", 3),
    ],
)
def test_parse_trap_level(text: str, level: int) -> None:
    assert parse_trap_level(text) == level


def test_parse_trap_level_rejects_bad_input_clearly() -> None:
    for bad in ("8", "-1", "", "loud", "informationalx"):
        with pytest.raises(ValueError, match=r"invalid logging trap level .*emergencies"):
            parse_trap_level(bad)
    with pytest.raises(ValueError, match=r"ambiguous .* emergencies, errors"):
        parse_trap_level("e")
    assert syslog.SEVERITY_NAMES[Severity.NOTIFICATIONS] == "notifications"


# --- wire formats -----------------------------------------------------------------------


def test_rfc5424_framing() -> None:
    data = format_rfc5424(spec_session(), "vpn-gw1", procid="4242")
    assert data == (
        b"<189>1 2024-11-27T03:41:12.345Z vpn-gw1 ipsec-console 4242 SESSION_STATUS - "
        b"%CRYPTO-5-SESSION_STATUS: Crypto session is UP. " + SPEC_TAIL.encode()
    )
    default_pid = format_rfc5424(spec_session(), "vpn-gw1").split(b" ")[4]
    assert default_pid == str(os.getpid()).encode()


def test_rfc5424_header_fields_are_sanitised() -> None:
    log = syslog.entry("SYS", 0, "CONFIG_I", "Zürich", at=AT)
    data = format_rfc5424(log, "my router", facility=0, app_name="", procid="")
    assert (
        data
        == "<0>1 2024-11-27T03:41:12.345Z my_router - - CONFIG_I - %SYS-0-CONFIG_I: Zürich".encode()
    )
    # UTF-8 text goes without a BOM, so receivers can still match on "^%SYS"
    assert b"\xef\xbb\xbf" not in data


def test_rfc3164_framing() -> None:
    data = format_rfc3164(spec_session(False), "vpn-gw1", procid="4242")
    assert data == (
        b"<189>Nov 27 03:41:12 vpn-gw1 ipsec-console[4242]: "
        b"%CRYPTO-5-SESSION_STATUS: Crypto session is DOWN. " + SPEC_TAIL.encode()
    )
    early = datetime(2024, 3, 1, 23, 59, 59, tzinfo=UTC).timestamp()
    log = syslog.entry("CRYPTO", Severity.WARNINGS, "X", "y", at=early)
    assert (
        format_rfc3164(log, "gw", procid="")
        == b"<188>Mar  1 23:59:59 gw ipsec-console: %CRYPTO-4-X: y"
    )
    cet = timezone(timedelta(hours=1))
    assert format_rfc3164(log, "gw", procid="", tz=cet).startswith(b"<188>Mar  2 00:59:59 gw ")


def test_pri_is_local7_times_eight_plus_severity() -> None:
    for severity in Severity:
        log = syslog.entry("SYS", severity, "X", "y", at=AT)
        assert format_rfc5424(log, "h").startswith(f"<{23 * 8 + severity}>1 ".encode())
        assert format_rfc3164(log, "h").startswith(f"<{23 * 8 + severity}>Nov ".encode())


# --- forwarding -------------------------------------------------------------------------


class Listener(asyncio.DatagramProtocol):
    """A syslog server stand-in: collects datagrams into a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.port = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(data)

    async def next(self, timeout: float = 2.0) -> bytes:
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def nothing(self, wait: float = 0.2) -> None:
        await asyncio.sleep(wait)
        assert self.queue.empty(), self.queue.get_nowait()


async def open_listener() -> tuple[Listener, asyncio.DatagramTransport]:
    loop = asyncio.get_running_loop()
    transport, listener = await loop.create_datagram_endpoint(Listener, local_addr=("127.0.0.1", 0))
    listener.port = transport.get_extra_info("sockname")[1]
    return listener, transport


@pytest.fixture
async def listeners() -> AsyncIterator[tuple[Listener, Listener]]:
    first, t1 = await open_listener()
    second, t2 = await open_listener()
    yield first, second
    t1.close()
    t2.close()


@pytest.mark.parametrize("fmt", ["rfc5424", "rfc3164"])
async def test_forwarder_sends_up_and_down(
    listeners: tuple[Listener, Listener], fmt: syslog.Format
) -> None:
    listener, _ = listeners
    fwd = SyslogForwarder([("127.0.0.1", listener.port)], hostname="vpn-gw1", fmt=fmt)
    await fwd.start()
    try:
        assert fwd.send(spec_session(True))
        assert fwd.send(spec_session(False))
        up, down = await listener.next(), await listener.next()
    finally:
        await fwd.close()
    assert up == fwd.format(spec_session(True))
    assert down.endswith(b"Crypto session is DOWN. " + SPEC_TAIL.encode())
    assert up.startswith(b"<189>1 2024-11-27T" if fmt == "rfc5424" else b"<189>Nov 27 ")
    assert b" vpn-gw1 " in up
    assert fwd.stats["sent"] == 2
    assert fwd.stats["send_error"] == 0


async def test_trap_level_filters_more_verbose_entries(
    listeners: tuple[Listener, Listener],
) -> None:
    listener, _ = listeners
    fwd = SyslogForwarder([("127.0.0.1", listener.port)])
    assert fwd.trap_level == Severity.INFORMATIONAL
    await fwd.start()
    try:
        assert not fwd.send(syslog.entry("CRYPTO", 7, "TRACE", "debug", at=AT))
        assert fwd.send(syslog.entry("CRYPTO", 6, "INFO", "info", at=AT))
        assert (await listener.next()).endswith(b"%CRYPTO-6-INFO: info")
        fwd.update(fwd.hosts, trap_level=parse_trap_level("warnings"))
        assert not fwd.send(spec_session())
        assert fwd.send(syslog.auth_failed("192.0.2.7", 500, "x", "bad key", at=AT))
        assert b"%CRYPTO-4-IKEV2_AUTH_FAILED" in await listener.next()
        await listener.nothing()
    finally:
        await fwd.close()
    assert fwd.stats["filtered"] == 2
    assert fwd.stats["sent"] == 2


async def test_update_moves_to_a_new_host_list(listeners: tuple[Listener, Listener]) -> None:
    first, second = listeners
    fwd = SyslogForwarder([("127.0.0.1", first.port)], hostname="old-name")
    await fwd.start()
    try:
        fwd.send(spec_session())
        assert b" old-name " in await first.next()

        # sent right after the reload, before the new endpoint is open: queued, not lost
        fwd.update([("127.0.0.1", second.port)], hostname="new-name", fmt="rfc3164")
        assert fwd.hosts == (("127.0.0.1", second.port),)
        fwd.send(spec_session(False))
        got = await second.next()
        assert got.startswith(b"<189>Nov 27 03:41:12 new-name ipsec-console[")
        await first.nothing()

        # both hosts, the second one listed twice: each host gets one copy
        fwd.update([("127.0.0.1", first.port), ("127.0.0.1", second.port)] * 2)
        assert len(fwd.hosts) == 2
        await fwd.wait_connected()
        fwd.send(spec_session())
        assert (await first.next()).endswith(SPEC_TAIL.encode())
        assert (await second.next()).endswith(SPEC_TAIL.encode())
        await second.nothing()
    finally:
        await fwd.close()
    assert fwd.stats["sent"] == 4


async def test_update_rejects_bad_values_without_changing_anything() -> None:
    fwd = SyslogForwarder([("127.0.0.1", 514)], trap_level=5, hostname="gw")
    with pytest.raises(ValueError, match="port 0"):
        fwd.update([("127.0.0.1", 0)], trap_level=3)
    with pytest.raises(ValueError, match="trap level"):
        fwd.update([], trap_level=9)
    with pytest.raises(ValueError, match="rfc5424 or rfc3164"):
        fwd.update([], fmt="json")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="facility"):
        SyslogForwarder(facility=24)
    assert (fwd.hosts, fwd.trap_level, fwd.hostname, fwd.fmt) == (
        (("127.0.0.1", 514),),
        5,
        "gw",
        "rfc5424",
    )


async def test_send_outside_start_and_close_is_dropped_not_raised(
    listeners: tuple[Listener, Listener],
) -> None:
    listener, _ = listeners
    fwd = SyslogForwarder([("127.0.0.1", listener.port)])
    assert not fwd.send(spec_session())
    await fwd.start()
    assert fwd.running
    await fwd.close()
    await fwd.close()
    assert not fwd.send(spec_session())
    assert fwd.stats["dropped_not_running"] == 2
    await listener.nothing()


async def test_port_unreachable_is_counted_not_raised() -> None:
    closed, transport = await open_listener()
    transport.close()  # nothing listens there now: the kernel answers ICMP port unreachable
    fwd = SyslogForwarder([("127.0.0.1", closed.port)])
    await fwd.start()
    try:
        for _ in range(50):
            fwd.send(spec_session())
            if fwd.stats["send_error"]:
                break
            await asyncio.sleep(0.02)
    finally:
        await fwd.close()
    assert fwd.stats["send_error"] >= 1
    assert fwd.stats["sent"] >= 1


async def test_connect_failure_is_counted_and_retried_later(
    monkeypatch: pytest.MonkeyPatch, listeners: tuple[Listener, Listener]
) -> None:
    listener, _ = listeners
    loop = asyncio.get_running_loop()
    real = loop.create_datagram_endpoint
    failures = [OSError(101, "Network is unreachable")]

    async def flaky(*args: object, **kwargs: object) -> object:
        if failures:
            raise failures.pop()
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "create_datagram_endpoint", flaky)
    fwd = SyslogForwarder([("127.0.0.1", listener.port)], retry_interval=0.1)
    await fwd.start()
    try:
        assert fwd.stats["connect_error"] == 1
        assert "unreachable" in fwd.last_errors()[("127.0.0.1", listener.port)]
        fwd.send(spec_session())  # still backing off: dropped and counted
        assert fwd.stats["dropped_unreachable"] == 1
        await asyncio.sleep(0.15)
        fwd.send(spec_session())
        assert (await listener.next()).endswith(SPEC_TAIL.encode())
    finally:
        await fwd.close()
    assert fwd.stats["sent"] == 1
