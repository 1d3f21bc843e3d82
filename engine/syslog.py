"""IOS-style log lines for the console buffer and their forwarding to syslog servers.

Every line carries an IOS facility-severity-mnemonic so operators can grep and
filter it the way they would on a router. The session lines follow the IP
Security VPN Monitoring feature exactly; the others are modelled on IOS:

===============================  =====  ==================================================
message                          sev    why this mnemonic
===============================  =====  ==================================================
%CRYPTO-5-SESSION_STATUS         5      the feature's own form ("Crypto session is UP.")
%CRYPTO-4-IKEV2_AUTH_FAILED      4      project mnemonic: a peer failed to authenticate
%CRYPTO-4-IKEV2_NEG_FAILED       4      project mnemonic: no SA (proposal, TS, timeout...)
%CRYPTO-5-SESSION_CLEARED        5      project mnemonic: ``clear crypto session`` ran
%CRYPTO-3-IKEV2_INTERNAL_ERROR   3      project mnemonic: a defect closed one IKE SA
%SYS-5-CONFIG_I                  5      as IOS: "Configured from X by console"
%PARSER-4-BADCFG                 4      as IOS's bad-config mnemonic: a reload was refused
===============================  =====  ==================================================

Forwarding follows ``logging host A [transport udp port N]``, ``logging trap
LEVEL`` and the IOS default ``logging facility local7``; datagrams are RFC 5424
by default or RFC 3164 for old collectors, and MSG is always the IOS line.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import IntEnum
from typing import Literal

APP_NAME = "ipsec-console"
#: ``logging facility local7``, the IOS default
LOCAL7 = 23
DEFAULT_PORT = 514

# Locale-independent month names: strftime("%b") would follow LC_TIME.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Severity(IntEnum):
    """Syslog severities under the names ``logging trap`` uses."""

    EMERGENCIES = 0
    ALERTS = 1
    CRITICAL = 2
    ERRORS = 3
    WARNINGS = 4
    NOTIFICATIONS = 5
    INFORMATIONAL = 6
    DEBUGGING = 7


SEVERITY_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in Severity)


def parse_trap_level(text: str) -> int:
    """Parse a ``logging trap`` argument: a number 0-7 or a name, abbreviated as IOS allows."""
    word = text.strip().lower()
    if word.isdigit():
        level = int(word)
        if 0 <= level <= 7:
            return level
    elif word:
        matches = [i for i, name in enumerate(SEVERITY_NAMES) if name.startswith(word)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(SEVERITY_NAMES[i] for i in matches)
            raise ValueError(f"ambiguous logging trap level {text!r}: could be {names}")
    raise ValueError(
        f"invalid logging trap level {text!r}: expected 0-7 or one of {', '.join(SEVERITY_NAMES)}"
    )


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line; `peer` lets a console filter the buffer by peer address."""

    timestamp: float
    facility: str
    severity: int
    mnemonic: str
    text: str
    peer: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.severity <= 7:
            raise ValueError(f"severity must be 0-7, not {self.severity}")

    def ios_line(self) -> str:
        return f"%{self.facility}-{self.severity}-{self.mnemonic}: {self.text}"

    def display(self, tz: tzinfo = UTC) -> str:
        """The line as ``service timestamps log datetime msec`` shows it."""
        return f"{ios_time(self.timestamp, tz)}: {self.ios_line()}"


def ios_time(timestamp: float, tz: tzinfo = UTC) -> str:
    """``Nov 27 03:41:12.345``; IOS pads a one-digit day with a space."""
    dt = datetime.fromtimestamp(timestamp, tz)
    return f"{_MONTHS[dt.month - 1]} {dt.day:2d} {dt:%H:%M:%S}.{dt.microsecond // 1000:03d}"


def _now(at: float | None) -> float:
    return time.time() if at is None else at


def entry(
    facility: str,
    severity: int,
    mnemonic: str,
    text: str,
    peer: str | None = None,
    *,
    at: float | None = None,
) -> LogEntry:
    """Any other line; `at` defaults to now."""
    return LogEntry(_now(at), facility, int(severity), mnemonic, text, peer)


def _session_status(
    state: str,
    peer: str,
    port: int,
    fvrf: str | None,
    ivrf: str | None,
    description: str | None,
    phase1_id: str | None,
    at: float | None,
) -> LogEntry:
    parts = [f"Crypto session is {state}. Peer {peer}:{port}"]
    if fvrf:
        parts.append(f"fvrf={fvrf}")
    if ivrf:
        parts.append(f"ivrf={ivrf}")
    if description:
        parts.append(f"Description: {description}")
    if phase1_id:
        parts.append(f"Id: {phase1_id}")
    return entry("CRYPTO", Severity.NOTIFICATIONS, "SESSION_STATUS", " ".join(parts), peer, at=at)


def session_up(
    peer: str,
    port: int = 500,
    *,
    fvrf: str | None = None,
    ivrf: str | None = None,
    description: str | None = None,
    phase1_id: str | None = None,
    at: float | None = None,
) -> LogEntry:
    """``%CRYPTO-5-SESSION_STATUS: Crypto session is UP. Peer A:P [fvrf=..] ... Id: ..``"""
    return _session_status("UP", peer, port, fvrf, ivrf, description, phase1_id, at)


def session_down(
    peer: str,
    port: int = 500,
    *,
    fvrf: str | None = None,
    ivrf: str | None = None,
    description: str | None = None,
    phase1_id: str | None = None,
    at: float | None = None,
) -> LogEntry:
    """The DOWN twin of `session_up`, same fields in the same order."""
    return _session_status("DOWN", peer, port, fvrf, ivrf, description, phase1_id, at)


def auth_failed(
    peer: str,
    port: int,
    remote_id: str,
    reason: str,
    *,
    protocol: str = "IKEv2",
    at: float | None = None,
) -> LogEntry:
    """A peer failed IKE_AUTH, IKEv1 phase 1 or XAUTH: warning level, since it may be an
    attack or a bad key. An XAUTH failure names the user, never the password."""
    if protocol == "XAUTH":
        text = f"XAUTH failed. Peer {peer}:{port} User: {remote_id or '-'} Reason: {reason}"
        return entry("CRYPTO", Severity.WARNINGS, "IKMP_XAUTH_FAILED", text, peer, at=at)
    text = f"{protocol} authentication failed. Peer {peer}:{port} Id: {remote_id or '-'}"
    mnemonic = "IKEV2_AUTH_FAILED" if protocol == "IKEv2" else "IKMP_AUTH_FAILED"
    return entry("CRYPTO", Severity.WARNINGS, mnemonic, f"{text} Reason: {reason}", peer, at=at)


def negotiation_failed(
    peer: str,
    port: int,
    reason: str,
    notify: str = "",
    *,
    protocol: str = "IKEv2",
    at: float | None = None,
) -> LogEntry:
    """No SA came of an exchange; `notify` is the notify type when one was exchanged."""
    text = f"{protocol} negotiation failed. Peer {peer}:{port} Reason: {reason}"
    if notify:
        text += f" Notify: {notify}"
    mnemonic = "IKEV2_NEG_FAILED" if protocol == "IKEv2" else "IKMP_NEG_FAILED"
    return entry("CRYPTO", Severity.WARNINGS, mnemonic, text, peer, at=at)


def internal_error(
    peer: str, port: int, where: str, error: str, *, at: float | None = None
) -> LogEntry:
    """A defect of ours cost one IKE SA; the gateway goes on serving every other peer."""
    text = (
        f"Internal error serving the IKE SA of peer {peer}:{port} ({where}): {error}; "
        "the SA was closed"
    )
    return entry("CRYPTO", Severity.ERRORS, "IKEV2_INTERNAL_ERROR", text, peer, at=at)


def session_cleared(
    peer: str | None = None,
    port: int | None = None,
    *,
    by: str = "console",
    at: float | None = None,
) -> LogEntry:
    """``clear crypto session [remote A [port P]]``; no peer means every session."""
    if peer is None:
        text = f"All crypto sessions cleared by {by}"
    elif port is None:
        text = f"Crypto session cleared by {by}. Peer {peer}"
    else:
        text = f"Crypto session cleared by {by}. Peer {peer}:{port}"
    return entry("CRYPTO", Severity.NOTIFICATIONS, "SESSION_CLEARED", text, peer, at=at)


def line_protocol(interface: str, up: bool, *, at: float | None = None) -> LogEntry:
    """As IOS logs a tunnel interface whose IPsec SA came or went."""
    text = f"Line protocol on Interface {interface}, changed state to {'up' if up else 'down'}"
    return entry("LINEPROTO", Severity.NOTIFICATIONS, "UPDOWN", text, at=at)


def tunnel_failed(interface: str, reason: str, *, at: float | None = None) -> LogEntry:
    """A tunnel interface could not get its TUN device: it stays down, the others run."""
    text = f"Interface {interface}: cannot create its tunnel device: {reason}"
    return entry("TUN", Severity.ERRORS, "DEVICE", text, at=at)


def config_loaded(source: str, *, by: str = "console", at: float | None = None) -> LogEntry:
    """A configuration was applied; IOS logs the same line after ``copy FILE running-config``."""
    return entry(
        "SYS", Severity.NOTIFICATIONS, "CONFIG_I", f"Configured from {source} by {by}", at=at
    )


def config_rejected(source: str, reason: str, *, at: float | None = None) -> LogEntry:
    """A reload was refused and the running configuration stays as it was."""
    text = f"Configuration from {source} rejected, running configuration kept: {reason}"
    return entry("PARSER", Severity.WARNINGS, "BADCFG", text, at=at)


def login_failed(
    user: str, source: str, port: int, reason: str, *, at: float | None = None
) -> LogEntry:
    """An XSM (HTTP) login refused, as IOS logs a failed login; never the password."""
    text = (
        f"Login failed [user: {user or '-'}] [Source: {source}] [localport: {port}] "
        f"[Reason: {reason}]"
    )
    return entry("SEC_LOGIN", Severity.WARNINGS, "LOGIN_FAILED", text, at=at)


def xsm_state(serving: bool, detail: str, *, at: float | None = None) -> LogEntry:
    """The XSM service started or stopped listening (config, `no xsm`)."""
    state = "enabled" if serving else "disabled"
    return entry("XSM", Severity.NOTIFICATIONS, "STATE", f"XSM server {state}: {detail}", at=at)


def xsm_history_failed(reason: str, *, at: float | None = None) -> LogEntry:
    """The statistics history could not be kept (disk, permissions, a damaged file)."""
    return entry("XSM", Severity.WARNINGS, "HISTORY", f"XSM history: {reason}", at=at)


# --- wire formats -----------------------------------------------------------------------


def _pri(facility: int, severity: int) -> str:
    return f"<{facility * 8 + severity}>"


def _field(value: str, limit: int) -> str:
    """A header field: printable ASCII without spaces, or the RFC 5424 NILVALUE."""
    clean = "".join(c if 33 <= ord(c) <= 126 else "_" for c in value)[:limit]
    return clean or "-"


def format_rfc5424(
    log: LogEntry,
    hostname: str,
    *,
    facility: int = LOCAL7,
    app_name: str = APP_NAME,
    procid: str | None = None,
) -> bytes:
    """``<PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG`` with the mnemonic as MSGID.

    MSG is UTF-8 without the optional BOM: rsyslog keeps a BOM as part of the
    text, which would break receivers matching lines on ``^%CRYPTO``.
    """
    dt = datetime.fromtimestamp(log.timestamp, UTC)
    stamp = f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"
    header = " ".join(
        (
            f"{_pri(facility, log.severity)}1",
            stamp,
            _field(hostname, 255),
            _field(app_name, 48),
            _field(str(os.getpid()) if procid is None else procid, 128),
            _field(log.mnemonic, 32),
            "-",
        )
    )
    return header.encode() + b" " + log.ios_line().encode()


def format_rfc3164(
    log: LogEntry,
    hostname: str,
    *,
    facility: int = LOCAL7,
    app_name: str = APP_NAME,
    procid: str | None = None,
    tz: tzinfo = UTC,
) -> bytes:
    """``<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`` for collectors that predate RFC 5424."""
    dt = datetime.fromtimestamp(log.timestamp, tz)
    stamp = f"{_MONTHS[dt.month - 1]} {dt.day:2d} {dt:%H:%M:%S}"
    pid = str(os.getpid()) if procid is None else procid
    tag = f"{_field(app_name, 32)}[{pid}]:" if pid else f"{_field(app_name, 32)}:"
    header = f"{_pri(facility, log.severity)}{stamp} {_field(hostname, 255)} {tag}"
    return header.encode() + b" " + log.ios_line().encode()


# --- forwarding -------------------------------------------------------------------------

Format = Literal["rfc5424", "rfc3164"]
Host = tuple[str, int]


@dataclass(slots=True, eq=False)
class _Target:
    address: str
    port: int
    transport: asyncio.DatagramTransport | None = None
    connecting: asyncio.Task[None] | None = None
    pending: deque[bytes] = field(default_factory=deque)
    retry_at: float = 0.0
    removed: bool = False
    last_error: str = ""


class _TargetProtocol(asyncio.DatagramProtocol):
    """Turns asynchronous send errors (ICMP port unreachable, no route) into counts."""

    def __init__(self, forwarder: SyslogForwarder, target: _Target) -> None:
        self._forwarder = forwarder
        self._target = target

    def error_received(self, exc: Exception) -> None:
        self._forwarder.stats["send_error"] += 1
        self._target.last_error = str(exc)


class SyslogForwarder:
    """Sends entries to the ``logging host`` servers over UDP, never blocking or raising.

    Each host gets its own connected UDP endpoint, opened lazily, so that name
    resolution stays off the event loop and ICMP errors reach the right host.
    Datagrams sent while an endpoint is still opening wait in a short queue.
    Everything that goes wrong lands in `stats`, because a logging failure must
    never take a tunnel down.
    """

    #: datagrams held per host while its endpoint opens
    MAX_PENDING = 256

    def __init__(
        self,
        hosts: Iterable[Host] = (),
        *,
        trap_level: int = Severity.INFORMATIONAL,
        hostname: str = "Router",
        fmt: Format = "rfc5424",
        facility: int = LOCAL7,
        app_name: str = APP_NAME,
        tz: tzinfo = UTC,
        retry_interval: float = 10.0,
    ) -> None:
        if not 0 <= facility <= 23:
            raise ValueError(f"syslog facility must be 0-23, not {facility}")
        self.stats: Counter[str] = Counter()
        self.facility = facility
        self.app_name = app_name
        self.tz = tz
        self.retry_interval = retry_interval
        self._targets: dict[Host, _Target] = {}
        self._trap_level = Severity.INFORMATIONAL
        self._hostname = hostname
        self._fmt: Format = "rfc5424"
        self._loop: asyncio.AbstractEventLoop | None = None
        self.update(hosts, trap_level=trap_level, hostname=hostname, fmt=fmt)

    @property
    def hosts(self) -> tuple[Host, ...]:
        return tuple(self._targets)

    @property
    def trap_level(self) -> int:
        return self._trap_level

    @property
    def hostname(self) -> str:
        return self._hostname

    @property
    def fmt(self) -> Format:
        return self._fmt

    @property
    def running(self) -> bool:
        return self._loop is not None

    def last_errors(self) -> dict[Host, str]:
        """The latest error per host, for ``show logging``."""
        return {key: t.last_error for key, t in self._targets.items() if t.last_error}

    async def start(self) -> None:
        """Open every host's endpoint; failures are counted and retried on later sends."""
        self._loop = asyncio.get_running_loop()
        for target in self._targets.values():
            target.removed = False
            self._open(target)
        await self.wait_connected()

    async def wait_connected(self) -> None:
        """Wait until endpoints being opened are open or have failed (tests, reloads)."""
        tasks = [t.connecting for t in self._targets.values() if t.connecting is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def update(
        self,
        hosts: Iterable[Host],
        trap_level: int | None = None,
        hostname: str | None = None,
        fmt: Format | None = None,
    ) -> None:
        """Apply a reloaded configuration; hosts kept across the reload keep their socket.

        Everything is checked before anything changes, so a bad value leaves the
        forwarder as it was. None keeps the current trap level, hostname or format.
        """
        if trap_level is not None and not 0 <= trap_level <= 7:
            raise ValueError(f"trap level must be 0-7, not {trap_level}")
        if fmt is not None and fmt not in ("rfc5424", "rfc3164"):
            raise ValueError(f"syslog format must be rfc5424 or rfc3164, not {fmt!r}")
        wanted = list(dict.fromkeys((address, int(port)) for address, port in hosts))
        for address, port in wanted:
            if not address or not 0 < port < 65536:
                raise ValueError(f"invalid logging host {address!r} port {port}")
        if trap_level is not None:
            self._trap_level = Severity(trap_level)
        if hostname is not None:
            self._hostname = hostname
        if fmt is not None:
            self._fmt = fmt
        for key in [k for k in self._targets if k not in wanted]:
            self._drop(self._targets.pop(key))
        old = self._targets
        self._targets = {key: old.get(key) or _Target(*key) for key in wanted}
        if self._loop is not None:
            for target in self._targets.values():
                self._open(target)

    def format(self, log: LogEntry) -> bytes:
        """The datagram `send` would emit, in the configured format."""
        if self._fmt == "rfc3164":
            return format_rfc3164(
                log, self._hostname, facility=self.facility, app_name=self.app_name, tz=self.tz
            )
        return format_rfc5424(log, self._hostname, facility=self.facility, app_name=self.app_name)

    def send(self, log: LogEntry) -> bool:
        """Queue `log` for every host if it passes the trap level; True when it was queued."""
        try:
            if log.severity > self._trap_level:
                self.stats["filtered"] += 1
                return False
            if self._loop is None:
                self.stats["dropped_not_running"] += 1
                return False
            if not self._targets:
                return False  # no `logging host`: nothing to format (a clear of 10k lines)
            data = self.format(log)
            for target in self._targets.values():
                self._deliver(target, data)
            return bool(self._targets)
        except Exception:
            self.stats["internal_error"] += 1
            return False

    async def close(self) -> None:
        """Close every endpoint; datagrams still queued are counted as dropped_closed."""
        self._loop = None
        targets = list(self._targets.values())
        tasks = [t.connecting for t in targets if t.connecting is not None]
        for target in targets:
            self._drop(target)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- internals ----------------------------------------------------------------------

    def _deliver(self, target: _Target, data: bytes) -> None:
        transport = target.transport
        if transport is not None and not transport.is_closing():
            try:
                transport.sendto(data)
            except OSError as exc:
                self.stats["send_error"] += 1
                target.last_error = str(exc)
            else:
                self.stats["sent"] += 1
            return
        target.transport = None
        if target.connecting is None and not self._open(target):
            self.stats["dropped_unreachable"] += 1
            return
        if len(target.pending) >= self.MAX_PENDING:
            self.stats["dropped_queue_full"] += 1
            return
        target.pending.append(data)

    def _open(self, target: _Target) -> bool:
        """Start opening the endpoint unless it is open, opening or backing off."""
        if target.transport is not None or target.connecting is not None:
            return True
        loop = self._loop
        if loop is None or loop.time() < target.retry_at:
            return False
        target.connecting = loop.create_task(self._connect(loop, target))
        return True

    async def _connect(self, loop: asyncio.AbstractEventLoop, target: _Target) -> None:
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _TargetProtocol(self, target), remote_addr=(target.address, target.port)
            )
        except Exception as exc:  # OSError mostly; anything else must not wedge the host
            target.connecting = None
            self.stats["connect_error"] += 1
            self.stats["dropped_unreachable"] += len(target.pending)
            target.pending.clear()
            target.retry_at = loop.time() + self.retry_interval
            target.last_error = str(exc)
            return
        target.connecting = None
        if target.removed or self._loop is None:
            transport.close()
            return
        target.transport = transport
        while target.pending:
            self._deliver(target, target.pending.popleft())

    def _drop(self, target: _Target) -> None:
        target.removed = True
        if target.connecting is not None:
            target.connecting.cancel()
            target.connecting = None
        if target.transport is not None:
            target.transport.close()
            target.transport = None
        self.stats["dropped_closed"] += len(target.pending)
        target.pending.clear()
