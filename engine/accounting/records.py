"""What goes into each accounting record, built from the session model's records.

IPsec VPN accounting (IOS 12.2(15)T) accounts one session per peer: it starts with the
first IPsec SA pair and stops when no flow is left; rekeys make no record. Start carries
who and where; Interim-Update and Stop add usage (octets with gigawords, packets, time);
Stop adds why. Cisco VSAs follow IOS's spelling, ``isakmp-initator-ip`` included, and go
out only with ``radius-server vsa send accounting`` as on IOS.

Records are tuples of (attribute name, value) pairs in the dictionary's names: the spool
stores them, the store shows them, and the transport encodes them. Acct-Delay-Time is
not part of them: the transport computes it at each transmission.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from engine.accounting.dictionary import StatusType, TerminateCause
from engine.events import ZERO, Counters, DownReason
from engine.records import SessionRecord, SessionStatus

Value = str | int
Attributes = tuple[tuple[str, Value], ...]

WRAP = 1 << 32
#: a Cisco-AVPair value must fit one VSA: 255 - 2 (attribute) - 4 (vendor) - 2 (vendor attr)
MAX_AVPAIR = 247
#: IOS reports the call's progress with this text in every IPsec record it accounts
CONNECT_PROGRESS = "No Progress"

#: DownReason -> (Acct-Terminate-Cause, IOS disc-cause-ext text). Choices without an
#: obvious RFC 2866 twin: CONFIG_REMOVED is an operator's act (Admin-Reset, as `clear`),
#: SHUTDOWN is a clean NAS stop (NAS-Reboot), LOCAL_DELETE is the NAS's own decision
#: (NAS-Request), a failed re-authentication is the user's error.
TERMINATE_CAUSES: dict[DownReason, tuple[TerminateCause, str]] = {
    DownReason.PEER_DELETE: (TerminateCause.USER_REQUEST, "Remote Hangup"),
    DownReason.LOCAL_DELETE: (TerminateCause.NAS_REQUEST, "Local Hangup"),
    DownReason.CLEARED: (TerminateCause.ADMIN_RESET, "Local Admin Disconnect"),
    DownReason.CONFIG_REMOVED: (TerminateCause.ADMIN_RESET, "Local Admin Disconnect"),
    DownReason.DPD_TIMEOUT: (TerminateCause.LOST_CARRIER, "Lost Carrier"),
    DownReason.RETRANSMIT_GIVE_UP: (TerminateCause.LOST_CARRIER, "Lost Carrier"),
    DownReason.LIFETIME_EXPIRED: (TerminateCause.SESSION_TIMEOUT, "Session Timeout"),
    DownReason.SHUTDOWN: (TerminateCause.NAS_REBOOT, "Local Hangup"),
    DownReason.AUTHENTICATION_FAILED: (TerminateCause.USER_ERROR, "Session Failed Security"),
    DownReason.NEGOTIATION_FAILED: (TerminateCause.NAS_ERROR, "Unknown"),
    DownReason.HALF_OPEN_TIMEOUT: (TerminateCause.NAS_ERROR, "Unknown"),
    DownReason.INTERNAL_ERROR: (TerminateCause.NAS_ERROR, "Unknown"),
}
#: when the session model gives no reason (e.g. the last child SA deleted on its own)
NO_REASON: tuple[TerminateCause, str] = (TerminateCause.NAS_REQUEST, "No Reason")
#: a session its process died with (SIGKILL, a crash, power), stopped by the next run.
#: NAS-Reboot, not Lost-Service: RFC 2866 5.10 gives NAS-Reboot to a NAS that ends its
#: sessions to restart without an administrator's say, which a crash is; Lost-Service
#: would blame the service beyond the NAS. How the session itself ended is not known.
LEFT_OPEN: tuple[TerminateCause, str] = (TerminateCause.NAS_REBOOT, "Unknown")


def terminate_cause(reason: DownReason | None) -> tuple[TerminateCause, str]:
    return TERMINATE_CAUSES.get(reason, NO_REASON) if reason is not None else NO_REASON


def down_reason(reason: DownReason | None, record: SessionRecord) -> DownReason | None:
    """The transition's reason, else the one the session record kept (a session that
    lost IKE first and its last flow later reports the IKE SA's reason)."""
    if reason is not None:
        return reason
    try:
        return DownReason(record.down_reason) if record.down_reason else None
    except ValueError:
        return None


# ---------------------------------------------------------------------- when to account
def carries_traffic(status: SessionStatus | None) -> bool:
    """An accounted session is one with IPsec flows: with or without its IKE SA."""
    return status in (SessionStatus.UP_ACTIVE, SessionStatus.UP_NO_IKE)


def opens(old: SessionStatus | None, new: SessionStatus) -> bool:
    """The first SA pair is up (from DOWN, negotiating or UP-IDLE): an accounting start.
    UP-ACTIVE <-> UP-NO-IKE is an IKE SA coming or going around live flows: no record."""
    return not carries_traffic(old) and carries_traffic(new)


def closes(old: SessionStatus | None, new: SessionStatus) -> bool:
    """No flow is left with the peer: an accounting stop."""
    return carries_traffic(old) and not carries_traffic(new)


# ---------------------------------------------------------------------- attribute sets
@dataclass(frozen=True, slots=True)
class Options:
    """Configuration that shapes records (not where they go)."""

    #: `radius-server vsa send accounting`: Cisco-AVPair and Cisco-NAS-Port
    vsa: bool = True
    #: IOS's `nas_port` for a crypto session; the example records show 0
    nas_port: int = 0
    #: NAS-IP-Address when a session has no local address, and for Accounting-On/Off
    nas_ip: str | None = None
    #: NAS-Identifier for Accounting-On/Off: the hostname
    nas_identifier: str | None = None


DEFAULT_OPTIONS = Options()


@dataclass(frozen=True, slots=True)
class AcctContext:
    """What stays fixed from a session's Start to its Stop."""

    acct_session_id: str
    started_at: float
    #: the session's counters when accounting started: a static peer's session record
    #: keeps counting across up/down cycles, each accounting session reports its own share
    baseline: Counters = ZERO
    #: isakmp-group-id: the profile the peer matched (empty: not sent)
    group_id: str = ""


def format_session_id(counter: int) -> str:
    """IOS's form: eight hex digits of a per-NAS counter ("0000001A")."""
    return f"{counter % WRAP:08X}"


@functools.lru_cache(maxsize=4096)
def _avpair(name: str, value: str) -> tuple[str, Value]:
    """Cached: most of them (group, VRF, progress, cause) repeat record to record."""
    text = f"{name}={value}"
    data = text.encode()
    if len(data) > MAX_AVPAIR:
        text = data[:MAX_AVPAIR].decode(errors="ignore")
    return ("Cisco-AVPair", text)


@functools.lru_cache(maxsize=1024)
def _nas_ip(address: str) -> tuple[str, Value] | None:
    """Parsed once per address: every record of a NAS carries the same."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return ("NAS-IP-Address" if ip.version == 4 else "NAS-IPv6-Address", str(ip))


def _identity(record: SessionRecord, ctx: AcctContext, options: Options) -> list[tuple[str, Value]]:
    """Who: what comes before Acct-Status-Type."""
    attrs: list[tuple[str, Value]] = [("Acct-Session-Id", ctx.acct_session_id)]
    if options.vsa:
        if ctx.group_id:
            attrs.append(_avpair("isakmp-group-id", ctx.group_id))
        if record.ivrf:
            attrs.append(_avpair("vrf-id", record.ivrf))
        attrs.append(_avpair("isakmp-initator-ip", record.remote_ip))
        if record.phase1_id:
            attrs.append(_avpair("isakmp-phase1-id", record.phase1_id))
        attrs.append(_avpair("connect-progress", CONNECT_PROGRESS))
    if record.username:
        attrs.append(("User-Name", record.username[:253]))
    if record.assigned_address:
        attrs.append(("Framed-IP-Address", record.assigned_address))
    return attrs


def _where(record: SessionRecord, options: Options) -> list[tuple[str, Value]]:
    attrs: list[tuple[str, Value]] = []
    if options.vsa and record.interface:
        attrs.append(("Cisco-NAS-Port", record.interface[:MAX_AVPAIR]))
    attrs.append(("NAS-Port", options.nas_port))
    nas = _nas_ip(record.local_ip) or (_nas_ip(options.nas_ip) if options.nas_ip else None)
    if nas is not None:
        attrs.append(nas)
    return attrs


@dataclass(frozen=True, slots=True)
class Template:
    """The attributes of a session that stay the same from its Start to its Stop: who
    (before Acct-Status-Type) and where (after the usage). Made once per session and
    reused while the session record's fields they come from are unchanged (`newinfo`
    changes of username or phase 1 id make a new one)."""

    key: tuple[object, ...]
    identity: Attributes
    where: Attributes


def template(
    record: SessionRecord,
    ctx: AcctContext,
    options: Options = DEFAULT_OPTIONS,
    before: Template | None = None,
) -> Template:
    """The session's template: `before` if it still holds."""
    key = (
        ctx,
        options,
        record.remote_ip,
        record.ivrf,
        record.phase1_id,
        record.username,
        record.assigned_address,
        record.interface,
        record.local_ip,
    )
    if before is not None and before.key == key:
        return before
    return Template(key, tuple(_identity(record, ctx, options)), tuple(_where(record, options)))


#: the Acct-Status-Type attribute of each kind of record
_STATUS = {status: ("Acct-Status-Type", status.label) for status in StatusType}


def usage(counters: Counters, baseline: Counters = ZERO) -> Counters:
    """This accounting session's share of the session's counters (never negative)."""
    return Counters(
        max(0, counters.bytes_in - baseline.bytes_in),
        max(0, counters.packets_in - baseline.packets_in),
        max(0, counters.bytes_out - baseline.bytes_out),
        max(0, counters.packets_out - baseline.packets_out),
        max(0, counters.drops_in - baseline.drops_in),
        max(0, counters.drops_out - baseline.drops_out),
    )


#: what Interim-Update and Stop report of a session's usage, in their order
USAGE = (
    "Acct-Session-Time",
    "Acct-Input-Octets",
    "Acct-Output-Octets",
    "Acct-Input-Packets",
    "Acct-Output-Packets",
    "Acct-Input-Gigawords",
    "Acct-Output-Gigawords",
)


def _usage(record: SessionRecord, ctx: AcctContext, at: float) -> list[tuple[str, Value]]:
    """Input is what came from the peer; 32-bit fields carry the rest in gigawords."""
    used = usage(record.totals, ctx.baseline)
    return [
        ("Acct-Session-Time", max(0, int(at - ctx.started_at))),
        ("Acct-Input-Octets", used.bytes_in % WRAP),
        ("Acct-Output-Octets", used.bytes_out % WRAP),
        ("Acct-Input-Packets", used.packets_in % WRAP),
        ("Acct-Output-Packets", used.packets_out % WRAP),
        ("Acct-Input-Gigawords", (used.bytes_in // WRAP) % WRAP),
        ("Acct-Output-Gigawords", (used.bytes_out // WRAP) % WRAP),
    ]


def start_attributes(
    record: SessionRecord,
    ctx: AcctContext,
    at: float,
    options: Options = DEFAULT_OPTIONS,
    parts: Template | None = None,
) -> Attributes:
    parts = template(record, ctx, options, parts)
    return (
        *parts.identity,
        _STATUS[StatusType.START],
        *parts.where,
        ("Event-Timestamp", int(at)),
    )


def interim_attributes(
    record: SessionRecord,
    ctx: AcctContext,
    at: float,
    options: Options = DEFAULT_OPTIONS,
    parts: Template | None = None,
) -> Attributes:
    parts = template(record, ctx, options, parts)
    return (
        *parts.identity,
        _STATUS[StatusType.INTERIM_UPDATE],
        *_usage(record, ctx, at),
        *parts.where,
        ("Event-Timestamp", int(at)),
    )


def stop_attributes(
    record: SessionRecord,
    ctx: AcctContext,
    at: float,
    reason: DownReason | None,
    options: Options = DEFAULT_OPTIONS,
    parts: Template | None = None,
) -> Attributes:
    parts = template(record, ctx, options, parts)
    cause, disc = terminate_cause(reason)
    attrs = [
        *parts.identity,
        _STATUS[StatusType.STOP],
        *_usage(record, ctx, at),
        ("Acct-Terminate-Cause", cause.value),
    ]
    if options.vsa:
        attrs.append(_avpair("disc-cause-ext", disc))
    return (*attrs, *parts.where, ("Event-Timestamp", int(at)))


def left_open_stop(last: Attributes) -> Attributes:
    """A Stop for a session a dead process left open, from its latest record (Start or
    Interim-Update): its identity and place, the usage that record reported (none for a
    Start), at that record's time: what it carried after that was lost with the process."""
    split = [name for name, _ in last].index("Acct-Status-Type")
    identity = [*last[:split], ("Acct-Status-Type", StatusType.STOP.label)]
    where = [(n, v) for n, v in last[split + 1 :] if n not in USAGE and n != "Event-Timestamp"]
    values = dict(last)
    cause, disc = LEFT_OPEN
    attrs = [
        *identity,
        *((name, values.get(name, 0)) for name in USAGE),
        ("Acct-Terminate-Cause", cause.value),
    ]
    if "Cisco-AVPair" in values:
        attrs.append(_avpair("disc-cause-ext", disc))
    attrs += where
    if "Event-Timestamp" in values:
        attrs.append(("Event-Timestamp", values["Event-Timestamp"]))
    return tuple(attrs)


def nas_attributes(
    status: StatusType, acct_session_id: str, at: float, options: Options = DEFAULT_OPTIONS
) -> Attributes:
    """Accounting-On (the NAS starts: every session it had is over) and Accounting-Off
    (a clean stop), RFC 2866 5.1."""
    attrs: list[tuple[str, Value]] = [
        ("Acct-Session-Id", acct_session_id),
        ("Acct-Status-Type", status.label),
    ]
    if options.nas_identifier:
        attrs.append(("NAS-Identifier", options.nas_identifier[:253]))
    nas = _nas_ip(options.nas_ip) if options.nas_ip else None
    if nas is not None:
        attrs.append(nas)
    attrs.append(("Event-Timestamp", int(at)))
    return tuple(attrs)


def attribute(attributes: Attributes, name: str) -> list[Value]:
    """Every value of `name`, in order (attributes repeat: Cisco-AVPair)."""
    return [value for key, value in attributes if key == name]


def avpairs(attributes: Attributes) -> dict[str, str]:
    """Cisco-AVPair values as a mapping name -> value."""
    pairs: dict[str, str] = {}
    for value in attribute(attributes, "Cisco-AVPair"):
        name, _, rest = str(value).partition("=")
        pairs[name] = rest
    return pairs
